package dpop_test

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"net/http"
	"testing"
	"time"

	jose "github.com/go-jose/go-jose/v4"

	"github.com/agentidp/agentidp/platform/cache"
	"github.com/agentidp/agentidp/platform/config"
	"github.com/agentidp/agentidp/platform/dpop"
	"github.com/agentidp/agentidp/platform/dpop/dpoptest"
)

// rfcProof is the proof of RFC 9449 §4.1 (Figure 4): ES256, POST
// https://server.example.com/token, iat 1562262616.
const rfcProof = "eyJ0eXAiOiJkcG9wK2p3dCIsImFsZyI6IkVTMjU2IiwiandrIjp7Imt0eSI6Ik" +
	"VDIiwieCI6Imw4dEZyaHgtMzR0VjNoUklDUkRZOXpDa0RscEJoRjQyVVFVZldWQVdCR" +
	"nMiLCJ5IjoiOVZFNGpmX09rX282NHpiVFRsY3VOSmFqSG10NnY5VERWclUwQ2R2R1JE" +
	"QSIsImNydiI6IlAtMjU2In19.eyJqdGkiOiItQndDM0VTYzZhY2MybFRjIiwiaHRtIj" +
	"oiUE9TVCIsImh0dSI6Imh0dHBzOi8vc2VydmVyLmV4YW1wbGUuY29tL3Rva2VuIiwia" +
	"WF0IjoxNTYyMjYyNjE2fQ.2-GxA6T8lP4vfrg8v-FdWP0A0zdrj8igiMLvqRMUvwnQg" +
	"4PtFLbdLXiOSsX0x7NVY-FNyJK70nfbV37xRZT3Lg"

// rfcJKT is the thumbprint of the example's key (RFC 9449 §6.1).
const rfcJKT = "0ZcOCORZNYy-DWpqq30jZyJGHTN0d2HglBV3uiguA4I"

const rfcIAT = 1562262616

func newVerifier(t *testing.T, issuer string, now time.Time, origins ...string) *dpop.Verifier {
	t.Helper()
	cfg := &config.Config{Issuer: issuer, DPoPOrigins: origins, DPoPMaxAge: time.Minute}
	mem := cache.NewMemory()
	t.Cleanup(func() { _ = mem.Close() })
	v := dpop.New(cfg, mem)
	dpop.SetClock(v, func() time.Time { return now })
	return v
}

func TestRFC9449ExampleProof(t *testing.T) {
	p, err := dpop.Parse(rfcProof)
	if err != nil {
		t.Fatal(err)
	}
	if p.JKT != rfcJKT || p.HTM != http.MethodPost || p.HTU != "https://server.example.com/token" ||
		p.ID != "-BwC3ESc6acc2lTc" || int64(*p.IssuedAt) != rfcIAT {
		t.Fatalf("parsed %+v", p)
	}
	v := newVerifier(t, "https://server.example.com", time.Unix(rfcIAT+10, 0))
	req := dpop.Request{Method: http.MethodPost, Path: "/token", Proofs: []string{rfcProof}}
	if _, err := v.Verify(context.Background(), req, ""); err != nil {
		t.Fatalf("first use: %v", err)
	}
	if _, err := v.Verify(context.Background(), req, ""); !isReason(err, "used before") {
		t.Fatalf("replay: %v", err)
	}
	// Too late: the example is a minute and a second old.
	late := newVerifier(t, "https://server.example.com", time.Unix(rfcIAT+61, 0))
	if _, err := late.Verify(context.Background(), req, ""); !isReason(err, "too old") {
		t.Fatalf("stale: %v", err)
	}
}

func isReason(err error, part string) bool {
	var ip *dpop.InvalidProof
	return errors.As(err, &ip) && errors.Is(err, dpop.ErrInvalidProof) && contains(ip.Reason, part)
}

func contains(s, part string) bool {
	for i := 0; i+len(part) <= len(s); i++ {
		if s[i:i+len(part)] == part {
			return true
		}
	}
	return false
}

// handMade is a compact JWS with the given header and claims and signature bytes (for
// algorithms go-jose would not sign a proof with).
func handMade(t *testing.T, header, claims map[string]any, sign func(input string) []byte) string {
	t.Helper()
	h, _ := json.Marshal(header)
	c, _ := json.Marshal(claims)
	in := base64.RawURLEncoding.EncodeToString(h) + "." + base64.RawURLEncoding.EncodeToString(c)
	return in + "." + base64.RawURLEncoding.EncodeToString(sign(in))
}

func TestVerifyRefusals(t *testing.T) {
	const issuer = "https://idp.example.com"
	const path = "/api/v1/agents/x"
	const token = "the-access-token"
	htu := issuer + path
	now := time.Now()
	es := dpoptest.NewKey(t, jose.ES256)
	pubJWK, _ := json.Marshal(es.Public)
	var pubMap map[string]any
	_ = json.Unmarshal(pubJWK, &pubMap)
	privJWK, _ := json.Marshal(jose.JSONWebKey{Key: es.Private})
	var privMap map[string]any
	_ = json.Unmarshal(privJWK, &privMap)
	claims := func(change func(map[string]any)) map[string]any {
		c := dpoptest.Claims(http.MethodGet, htu, token)
		if change != nil {
			change(c)
		}
		return c
	}
	cases := []struct {
		name   string
		proofs []string
		reason string
	}{
		{"no proof", nil, "required"},
		{"two proofs", []string{es.Proof(t, http.MethodGet, htu, token), es.Proof(t, http.MethodGet, htu, token)}, "exactly one"},
		{"not a JWS", []string{"not.a.jws"}, "compact JWS"},
		{"alg none", []string{handMade(t, map[string]any{"typ": "dpop+jwt", "alg": "none", "jwk": pubMap},
			claims(nil), func(string) []byte { return nil })}, "alg"},
		{"HS256", []string{handMade(t, map[string]any{"typ": "dpop+jwt", "alg": "HS256", "jwk": pubMap},
			claims(nil), func(in string) []byte {
				m := hmac.New(sha256.New, []byte("secret"))
				m.Write([]byte(in))
				return m.Sum(nil)
			})}, "alg"},
		{"ES384", []string{handMade(t, map[string]any{"typ": "dpop+jwt", "alg": "ES384", "jwk": pubMap},
			claims(nil), func(string) []byte { return make([]byte, 96) })}, "alg"},
		{"private key in jwk", []string{es.Sign(t, map[string]any{"jwk": privMap}, claims(nil))}, "public"},
		{"no jwk", []string{es.Sign(t, map[string]any{"jwk": nil}, claims(nil))}, "no public jwk"},
		{"typ JWT", []string{es.Sign(t, map[string]any{"typ": "JWT"}, claims(nil))}, "typ"},
		{"typ absent", []string{es.Sign(t, map[string]any{"typ": nil}, claims(nil))}, "typ"},
		{"jwk of another key", []string{es.Sign(t, map[string]any{"jwk": dpoptest.NewKey(t, jose.ES256).Public}, claims(nil))}, "signature"},
		{"jwk of another kind", []string{es.Sign(t, map[string]any{"jwk": dpoptest.NewKey(t, jose.EdDSA).Public}, claims(nil))}, "fit"},
		{"no jti", []string{es.Sign(t, nil, claims(func(c map[string]any) { delete(c, "jti") }))}, "malformed"},
		{"no iat", []string{es.Sign(t, nil, claims(func(c map[string]any) { delete(c, "iat") }))}, "malformed"},
		{"no htu", []string{es.Sign(t, nil, claims(func(c map[string]any) { delete(c, "htu") }))}, "malformed"},
		{"wrong htm", []string{es.Sign(t, nil, claims(func(c map[string]any) { c["htm"] = "POST" }))}, "htm"},
		{"htm in lower case", []string{es.Sign(t, nil, claims(func(c map[string]any) { c["htm"] = "get" }))}, "htm"},
		{"wrong htu path", []string{es.Sign(t, nil, claims(func(c map[string]any) { c["htu"] = issuer + "/api/v1/agents/y" }))}, "htu"},
		{"htu of another origin", []string{es.Sign(t, nil, claims(func(c map[string]any) { c["htu"] = "https://evil.example.com" + path }))}, "htu"},
		{"htu over http", []string{es.Sign(t, nil, claims(func(c map[string]any) { c["htu"] = "http://idp.example.com" + path }))}, "htu"},
		{"htu with user info", []string{es.Sign(t, nil, claims(func(c map[string]any) { c["htu"] = "https://u@idp.example.com" + path }))}, "htu"},
		{"stale iat", []string{es.Sign(t, nil, claims(func(c map[string]any) { c["iat"] = now.Add(-61 * time.Second).Unix() }))}, "too old"},
		{"future iat", []string{es.Sign(t, nil, claims(func(c map[string]any) { c["iat"] = now.Add(7 * time.Second).Unix() }))}, "future"},
		{"no ath", []string{es.Sign(t, nil, claims(func(c map[string]any) { delete(c, "ath") }))}, "no ath"},
		{"wrong ath", []string{es.Sign(t, nil, claims(func(c map[string]any) { c["ath"] = dpoptest.ATH("another token") }))}, "ath is not"},
		{"too long", []string{string(make([]byte, 9000))}, "too long"},
	}
	v := newVerifier(t, issuer, now)
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			_, err := v.Verify(context.Background(), dpop.Request{Method: http.MethodGet, Path: path, Proofs: tc.proofs}, token)
			if !isReason(err, tc.reason) {
				t.Fatalf("got %v, want a refusal naming %q", err, tc.reason)
			}
		})
	}
}

func TestVerifyAccepts(t *testing.T) {
	const path = "/api/v1/token"
	now := time.Now()
	v := newVerifier(t, "https://idp.example.com", now, "https://idp.internal.example.com:8443")
	for _, alg := range []jose.SignatureAlgorithm{jose.RS256, jose.PS256, jose.ES256, jose.EdDSA} {
		k := dpoptest.NewKey(t, alg)
		for _, htu := range []string{
			"https://idp.example.com" + path,
			"HTTPS://IDP.example.com:443" + path,           // scheme and host in any case, default port
			"https://idp.example.com" + path + "?x=1#f",    // query and fragment ignored (RFC 9449 §4.3)
			"https://idp.internal.example.com:8443" + path, // AGENTIDP_DPOP_ORIGINS
			"https://idp.example.com/api/v1/%74oken",       // percent-encoding normalised
		} {
			c := dpoptest.Claims(http.MethodPost, htu, "")
			c["iat"] = now.Add(4 * time.Second).Unix() // a little ahead is fine
			p, err := v.Verify(context.Background(), dpop.Request{Method: http.MethodPost, Path: path, Proofs: []string{k.Sign(t, nil, c)}}, "")
			if err != nil {
				t.Fatalf("%s %s: %v", alg, htu, err)
			}
			if p.JKT != k.JKT(t) {
				t.Fatalf("%s: jkt %s, want %s", alg, p.JKT, k.JKT(t))
			}
		}
	}
	// At the token endpoint (no access token) an ath is not looked at.
	k := dpoptest.NewKey(t, jose.ES256)
	if _, err := v.Verify(context.Background(), dpop.Request{Method: http.MethodPost, Path: path,
		Proofs: []string{k.Proof(t, http.MethodPost, "https://idp.example.com"+path, "some token")}}, ""); err != nil {
		t.Fatal(err)
	}
	// The jti is remembered whatever the key: the same jti with another key is a replay.
	c := dpoptest.Claims(http.MethodPost, "https://idp.example.com"+path, "")
	req := func(k *dpoptest.Key) dpop.Request {
		return dpop.Request{Method: http.MethodPost, Path: path, Proofs: []string{k.Sign(t, nil, c)}}
	}
	if _, err := v.Verify(context.Background(), req(k), ""); err != nil {
		t.Fatal(err)
	}
	if _, err := v.Verify(context.Background(), req(dpoptest.NewKey(t, jose.EdDSA)), ""); !isReason(err, "used before") {
		t.Fatalf("same jti, another key: %v", err)
	}
}

// A replay store that cannot answer refuses the proof with an error wrapping
// cache.ErrUnavailable (503), never accepts it unchecked.
func TestVerifyStoreDown(t *testing.T) {
	cfg := &config.Config{Issuer: "https://idp.example.com", DPoPMaxAge: time.Minute}
	v := dpop.New(cfg, downKV{})
	k := dpoptest.NewKey(t, jose.ES256)
	_, err := v.Verify(context.Background(), dpop.Request{Method: http.MethodPost, Path: "/t",
		Proofs: []string{k.Proof(t, http.MethodPost, "https://idp.example.com/t", "")}}, "")
	if !errors.Is(err, cache.ErrUnavailable) || errors.Is(err, dpop.ErrInvalidProof) {
		t.Fatalf("got %v", err)
	}
}

type downKV struct{ cache.KV }

func (downKV) SetNX(context.Context, string, string, time.Duration) (bool, error) {
	return false, cache.ErrUnavailable
}

// The request's host never counts: FromHTTP keeps only the method and the path.
func TestFromHTTPIgnoresHost(t *testing.T) {
	r, _ := http.NewRequest(http.MethodGet, "http://evil.example.com/api/v1/agents?x=1", nil)
	r.Header.Add("DPoP", "a")
	r.Header.Add("Dpop", "b")
	req := dpop.FromHTTP(r)
	if req.Method != http.MethodGet || req.Path != "/api/v1/agents" || len(req.Proofs) != 2 || !req.Present() {
		t.Fatalf("%+v", req)
	}
}
