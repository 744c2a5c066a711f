package tokens_test

import (
	"context"
	"crypto"
	"crypto/aes"
	"crypto/cipher"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/hmac"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/x509"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	jose "github.com/go-jose/go-jose/v4"

	"github.com/agentidp/agentidp/platform/testenv"
)

// ourKey opens the signing key that signs now, straight from signing_keys with the test's
// master key (tests only: it lets a test mint tokens the server would never issue, such as
// expired ones, with the server's own key).
func ourKey(t testing.TB, e *env) (kid, alg string, priv crypto.Signer) {
	t.Helper()
	return openKey(t, e, `WHERE retires_at IS NULL ORDER BY activates_at DESC LIMIT 1`)
}

// openKey opens the signing key the SQL condition where picks (with args), whatever its
// state: what an attacker holding the database and the master key could do.
func openKey(t testing.TB, e *env, where string, args ...any) (kid, alg string, priv crypto.Signer) {
	t.Helper()
	var sealed, nonce []byte
	err := e.b.DB.QueryRowContext(context.Background(),
		`SELECT kid, alg, private_key, key_nonce FROM signing_keys `+where, args...).
		Scan(&kid, &alg, &sealed, &nonce)
	if err != nil {
		t.Fatal(err)
	}
	block, err := aes.NewCipher(e.cfg.MasterKey)
	if err != nil {
		t.Fatal(err)
	}
	gcm, err := cipher.NewGCM(block)
	if err != nil {
		t.Fatal(err)
	}
	der, err := gcm.Open(nil, nonce, sealed, []byte(kid))
	if err != nil {
		t.Fatalf("opening the signing key with the master key: %v", err)
	}
	k, err := x509.ParsePKCS8PrivateKey(der)
	if err != nil {
		t.Fatal(err)
	}
	return kid, alg, k.(crypto.Signer)
}

// sign makes a compact JWS with go-jose over claims, with the given header fields.
func sign(t testing.TB, alg jose.SignatureAlgorithm, key any, header map[string]any, claims map[string]any) string {
	t.Helper()
	opts := &jose.SignerOptions{}
	for k, v := range header {
		opts.WithHeader(jose.HeaderKey(k), v)
	}
	s, err := jose.NewSigner(jose.SigningKey{Algorithm: alg, Key: key}, opts)
	if err != nil {
		t.Fatal(err)
	}
	payload, err := json.Marshal(claims)
	if err != nil {
		t.Fatal(err)
	}
	obj, err := s.Sign(payload)
	if err != nil {
		t.Fatal(err)
	}
	out, err := obj.CompactSerialize()
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// rawJWS assembles a JWS from raw parts, signing header.payload with signFn (nil: empty
// signature).
func rawJWS(header, claims map[string]any, signFn func(input []byte) []byte) string {
	h, _ := json.Marshal(header)
	p, _ := json.Marshal(claims)
	input := b64.EncodeToString(h) + "." + b64.EncodeToString(p)
	var sig []byte
	if signFn != nil {
		sig = signFn([]byte(input))
	}
	return input + "." + b64.EncodeToString(sig)
}

// Every hostile token of docs/security.md (token validation) is refused by the API (401 invalid_token) and reported
// inactive by introspection; a token minted the same way with the server's own key and
// honest claims is accepted, so each refusal is for the reason under test.
func TestIntegrationHostileTokens(t *testing.T) {
	testenv.ForEachBackend(t, func(t *testing.T, b testenv.Backend) {
		e := newEnv(t, b, nil)
		kid, alg, priv := ourKey(t, e)
		if alg != "RS256" {
			t.Fatalf("default alg %s", alg)
		}
		foreign, err := rsa.GenerateKey(rand.Reader, 2048)
		if err != nil {
			t.Fatal(err)
		}
		foreignEC, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
		if err != nil {
			t.Fatal(err)
		}

		// A key server that must never be asked.
		var fetched atomic.Int32
		evil := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			fetched.Add(1)
			w.Header().Set("Content-Type", "application/json")
			_ = json.NewEncoder(w).Encode(jose.JSONWebKeySet{Keys: []jose.JSONWebKey{{Key: foreign.Public(), KeyID: kid, Algorithm: "RS256", Use: "sig"}}})
		}))
		defer evil.Close()

		now := time.Now().Unix()
		honest := func() map[string]any {
			return map[string]any{"iss": e.cfg.Issuer, "sub": e.admin.ID, "client_id": e.admin.ID, "aud": e.cfg.Issuer,
				"scope": "keys:admin agents:read", "iat": now, "exp": now + 600, "jti": newUUID(t), "cid": e.admin.CredentialID}
		}
		with := func(k string, v any) map[string]any {
			c := honest()
			if v == nil {
				delete(c, k)
			} else {
				c[k] = v
			}
			return c
		}
		hdr := func(extra ...any) map[string]any {
			h := map[string]any{"kid": kid, "typ": "at+jwt"}
			for i := 0; i+1 < len(extra); i += 2 {
				h[extra[i].(string)] = extra[i+1]
			}
			return h
		}
		pubJWK, _ := json.Marshal(jose.JSONWebKey{Key: priv.Public(), KeyID: kid, Algorithm: "RS256", Use: "sig"})
		pubDER, _ := x509.MarshalPKIXPublicKey(priv.Public())
		hmacWith := func(secret []byte) func([]byte) []byte {
			return func(in []byte) []byte { m := hmac.New(sha256.New, secret); m.Write(in); return m.Sum(nil) }
		}

		// Positive controls: our key, honest claims; also typ with the application/ prefix.
		for name, tok := range map[string]string{
			"honest":                 sign(t, jose.RS256, priv, hdr(), honest()),
			"typ application/at+jwt": sign(t, jose.RS256, priv, hdr("typ", "application/AT+JWT"), honest()),
		} {
			if s := e.api(http.MethodGet, "/api/v1/keys", tok, nil).Status; s != http.StatusOK {
				t.Fatalf("control %s: API status %d", name, s)
			}
			if !e.active(tok) {
				t.Fatalf("control %s: introspection inactive", name)
			}
		}

		honestTok := sign(t, jose.RS256, priv, hdr(), honest())
		parts := strings.Split(honestTok, ".")
		big := with("pad", strings.Repeat("A", 9<<10))
		attacks := map[string]string{
			"alg none, empty signature":      rawJWS(hdr("alg", "none"), honest(), nil),
			"alg none, some signature":       rawJWS(hdr("alg", "none"), honest(), func([]byte) []byte { return []byte("sig") }),
			"alg None":                       rawJWS(hdr("alg", "None"), honest(), func([]byte) []byte { return []byte("x") }),
			"HS256 keyed with the JWK":       rawJWS(hdr("alg", "HS256"), honest(), hmacWith(pubJWK)),
			"HS256 keyed with the DER":       rawJWS(hdr("alg", "HS256"), honest(), hmacWith(pubDER)),
			"foreign RSA key with our kid":   sign(t, jose.RS256, foreign, hdr(), honest()),
			"foreign EC key, ES256, our kid": sign(t, jose.ES256, foreignEC, hdr(), honest()),
			"PS256 with our key":             sign(t, jose.PS256, priv, hdr(), honest()),
			"RS512 with our key":             sign(t, jose.RS512, priv, hdr(), honest()),
			"unknown kid":                    sign(t, jose.RS256, foreign, hdr("kid", "not-a-kid"), honest()),
			"no kid":                         sign(t, jose.RS256, priv, map[string]any{"typ": "at+jwt"}, honest()),
			"kid path traversal":             sign(t, jose.RS256, foreign, hdr("kid", "../../../../etc/passwd"), honest()),
			"kid SQL":                        sign(t, jose.RS256, foreign, hdr("kid", "' OR '1'='1' --"), honest()),
			"kid SQL with our key":           sign(t, jose.RS256, priv, hdr("kid", kid+"' OR 1=1 --"), honest()),
			"expired":                        sign(t, jose.RS256, priv, hdr(), with("exp", now-120)),
			"no exp":                         sign(t, jose.RS256, priv, hdr(), with("exp", nil)),
			"nbf in the future":              sign(t, jose.RS256, priv, hdr(), with("nbf", now+300)),
			"iat in the future":              sign(t, jose.RS256, priv, hdr(), with("iat", now+300)),
			"wrong iss":                      sign(t, jose.RS256, priv, hdr(), with("iss", "https://evil.example.com")),
			"iss with trailing slash":        sign(t, jose.RS256, priv, hdr(), with("iss", e.cfg.Issuer+"/")),
			"typ JWT":                        sign(t, jose.RS256, priv, hdr("typ", "JWT"), honest()),
			"no typ":                         sign(t, jose.RS256, priv, map[string]any{"kid": kid}, honest()),
			"oversized (> 8 KiB)":            sign(t, jose.RS256, priv, hdr(), big),
			"JWE (5 segments)":               parts[0] + ".ZW5j.aXY." + parts[1] + "." + parts[2],
			"4 segments":                     honestTok + ".x",
			"2 segments":                     parts[0] + "." + parts[1],
			"tampered payload":               parts[0] + "." + b64.EncodeToString(mustJSON(with("scope", "keys:admin agents:write"))) + "." + parts[2],
			"padded base64":                  honestTok + "==",
			"jku pointing elsewhere":         sign(t, jose.RS256, foreign, hdr("jku", evil.URL+"/jwks.json"), honest()),
			"jku with our key":               sign(t, jose.RS256, priv, hdr("jku", evil.URL+"/jwks.json"), honest()),
			"x5u pointing elsewhere":         sign(t, jose.RS256, foreign, hdr("x5u", evil.URL+"/cert.pem"), honest()),
			"embedded jwk (foreign)":         signEmbedded(t, foreign, kid, honest()),
			"crit header":                    sign(t, jose.RS256, priv, hdr("crit", []string{"exp"}, "exp", now+60), honest()),
			"sub differs from client_id":     sign(t, jose.RS256, priv, hdr(), with("client_id", newUUID(t))),
			"jti not a UUID":                 sign(t, jose.RS256, priv, hdr(), with("jti", "1' OR '1'='1")),
			"unknown credential":             sign(t, jose.RS256, priv, hdr(), with("cid", newUUID(t))),
			"unknown agent":                  sign(t, jose.RS256, priv, hdr(), unknownAgent(honest())),
		}
		// aud is checked by the API (this server's own audience); introspection accepts any
		// audience and reports it, so a resource server can check it is the audience.
		wrongAud := sign(t, jose.RS256, priv, hdr(), with("aud", "https://other.example.com"))
		for name, tok := range attacks {
			t.Run(name, func(t *testing.T) {
				r := e.api(http.MethodGet, "/api/v1/keys", tok, nil)
				if r.Status != http.StatusUnauthorized {
					t.Fatalf("API: status %d, want 401: %s", r.Status, r.Body)
				}
				if ch := r.Header.Get("WWW-Authenticate"); !strings.HasPrefix(ch, "Bearer ") || !strings.Contains(ch, `error="invalid_token"`) {
					t.Fatalf("API: WWW-Authenticate %q", ch)
				}
				in := e.introspect(tok)
				if in["active"] != false || len(in) != 1 {
					t.Fatalf("introspection: %v, want exactly {active:false}", in)
				}
			})
		}
		t.Run("wrong aud", func(t *testing.T) {
			if s := e.api(http.MethodGet, "/api/v1/keys", wrongAud, nil).Status; s != http.StatusUnauthorized {
				t.Fatalf("API: status %d", s)
			}
			if in := e.introspect(wrongAud); in["aud"] != "https://other.example.com" {
				t.Fatalf("introspection must report the real audience: %v", in)
			}
		})
		if n := fetched.Load(); n != 0 {
			t.Fatalf("the server fetched a key from a URL in a token header %d times", n)
		}
	})
}

// Missing, bad and under-scoped bearer tokens get RFC 6750 answers.
func TestIntegrationBearerChallenges(t *testing.T) {
	testenv.ForEachBackend(t, func(t *testing.T, b testenv.Backend) {
		e := newEnv(t, b, nil)
		c := e.newClient([]string{"agents:read"}, nil)
		tok := e.token(c, "", "")

		r := e.api(http.MethodGet, "/api/v1/keys", "", nil)
		if ch := r.Header.Get("WWW-Authenticate"); r.Status != http.StatusUnauthorized || !strings.HasPrefix(ch, "Bearer ") || strings.Contains(ch, "error=") {
			t.Fatalf("missing token: %d %q", r.Status, ch)
		}
		r = e.api(http.MethodGet, "/api/v1/keys", "garbage", nil)
		if ch := r.Header.Get("WWW-Authenticate"); r.Status != http.StatusUnauthorized || !strings.Contains(ch, `error="invalid_token"`) {
			t.Fatalf("bad token: %d %q", r.Status, ch)
		}
		r = e.api(http.MethodGet, "/api/v1/keys", tok, nil)
		if ch := r.Header.Get("WWW-Authenticate"); r.Status != http.StatusForbidden || !strings.Contains(ch, `error="insufficient_scope"`) || !strings.Contains(ch, "keys:admin") {
			t.Fatalf("under-scoped token: %d %q", r.Status, ch)
		}
		if s := e.apiStatus(tok, c.ID); s != http.StatusOK {
			t.Fatalf("scoped route: %d", s)
		}
	})
}

// signEmbedded signs with key and embeds its public JWK in the header (go-jose EmbedJWK).
func signEmbedded(t testing.TB, key *rsa.PrivateKey, kid string, claims map[string]any) string {
	t.Helper()
	opts := (&jose.SignerOptions{EmbedJWK: true}).WithType("at+jwt")
	s, err := jose.NewSigner(jose.SigningKey{Algorithm: jose.RS256, Key: jose.JSONWebKey{Key: key, KeyID: kid}}, opts)
	if err != nil {
		t.Fatal(err)
	}
	obj, err := s.Sign(mustJSON(claims))
	if err != nil {
		t.Fatal(err)
	}
	out, err := obj.CompactSerialize()
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// unknownAgent makes claims name an agent that does not exist (sub and client_id).
func unknownAgent(c map[string]any) map[string]any {
	id := "0191f0a4-1c2d-4e3f-8a4b-5c6d7e8f9a0b"
	c["sub"], c["client_id"] = id, id
	return c
}

func mustJSON(v any) []byte {
	b, err := json.Marshal(v)
	if err != nil {
		panic(err)
	}
	return b
}

func newUUID(t testing.TB) string {
	t.Helper()
	var b [16]byte
	if _, err := rand.Read(b[:]); err != nil {
		t.Fatal(err)
	}
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	h := []byte("0123456789abcdef")
	out := make([]byte, 0, 36)
	for i, c := range b {
		if i == 4 || i == 6 || i == 8 || i == 10 {
			out = append(out, '-')
		}
		out = append(out, h[c>>4], h[c&0xf])
	}
	return string(out)
}
