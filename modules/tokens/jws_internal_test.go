package tokens

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"encoding/base64"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"

	jose "github.com/go-jose/go-jose/v4"
)

// Tokens signed by jwsSigner verify with go-jose and with our verifier, for every
// algorithm; the header is exactly alg, kid, typ.
func TestSignerInteroperates(t *testing.T) {
	for _, alg := range []string{AlgRS256, AlgES256, AlgEdDSA} {
		t.Run(alg, func(t *testing.T) {
			priv, err := newKeyPair(alg)
			if err != nil {
				t.Fatal(err)
			}
			s, err := newJWSSigner("kid-1", alg, priv)
			if err != nil {
				t.Fatal(err)
			}
			payload := []byte(`{"sub":"x"}`)
			tok, err := s.Sign(payload)
			if err != nil {
				t.Fatal(err)
			}
			obj, err := jose.ParseSignedCompact(tok, []jose.SignatureAlgorithm{jose.SignatureAlgorithm(alg)})
			if err != nil {
				t.Fatal(err)
			}
			got, err := obj.Verify(priv.Public())
			if err != nil || string(got) != string(payload) {
				t.Fatalf("go-jose: %v %s", err, got)
			}
			h := obj.Signatures[0].Protected
			if h.Algorithm != alg || h.KeyID != "kid-1" || h.ExtraHeaders["typ"] != "at+jwt" || len(h.ExtraHeaders) != 1 {
				t.Fatalf("header %+v", h)
			}
			v, err := newSigVerifier(alg, priv.Public())
			if err != nil {
				t.Fatal(err)
			}
			i := strings.LastIndexByte(tok, '.')
			sig, _ := b64.DecodeString(tok[i+1:])
			if !v([]byte(tok[:i]), sig) {
				t.Fatal("our verifier refuses our token")
			}
			if v([]byte(tok[:i]+"x"), sig) {
				t.Fatal("our verifier accepts an altered input")
			}
		})
	}
}

// A key is bound to one algorithm: a mismatched pair is refused when the ring is built, so
// a header can never pick another algorithm for it.
func TestVerifierPinsAlgorithm(t *testing.T) {
	rsaKey, _ := rsa.GenerateKey(rand.Reader, 2048)
	ecKey, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	ec384, _ := ecdsa.GenerateKey(elliptic.P384(), rand.Reader)
	small, _ := rsa.GenerateKey(rand.Reader, 1024)
	for name, tc := range map[string]struct {
		alg string
		pub any
	}{
		"RSA key as ES256":   {AlgES256, rsaKey.Public()},
		"RSA key as EdDSA":   {AlgEdDSA, rsaKey.Public()},
		"EC key as RS256":    {AlgRS256, ecKey.Public()},
		"P-384 key as ES256": {AlgES256, ec384.Public()},
		"RSA-1024":           {AlgRS256, small.Public()},
		"HS256":              {"HS256", rsaKey.Public()},
		"none":               {"none", rsaKey.Public()},
	} {
		if _, err := newSigVerifier(tc.alg, tc.pub); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
	if _, err := newJWSSigner("k", AlgES256, rsaKey); err == nil {
		t.Error("an RSA key signs ES256")
	}
}

// The hand-written payload decodes to exactly what encoding/json would give, for hostile
// strings too.
func TestClaimsJSON(t *testing.T) {
	weird := []string{"plain", `quote " backslash \ slash /`, "ctl \x00\x01\x1f\t\n\r", "utf8 é ✓ 🙂",
		"bad \xff\xfe utf8", "sep \u2028 \u2029", "<script>&amp;"}
	for _, s := range weird {
		c := &claims{Issuer: s, Subject: "sub", ClientID: "sub", Audience: []string{s, "b"}, Scope: s,
			IssuedAt: 1, Expiry: 2, NotBefore: 1, ID: "jti", CredentialID: s}
		raw := c.appendJSON(nil)
		if !json.Valid(raw) {
			t.Fatalf("%q: invalid JSON %s", s, raw)
		}
		var back struct {
			Iss   string   `json:"iss"`
			Aud   []string `json:"aud"`
			Scope string   `json:"scope"`
			Cid   string   `json:"cid"`
		}
		if err := json.Unmarshal(raw, &back); err != nil {
			t.Fatal(err)
		}
		want, _ := json.Marshal(s) // encoding/json's view of s (invalid UTF-8 → U+FFFD)
		var ws string
		_ = json.Unmarshal(want, &ws)
		if back.Iss != ws || back.Scope != ws || back.Cid != ws || back.Aud[0] != ws {
			t.Fatalf("%q: round trip %q", s, back.Iss)
		}
		parsed, err := parseClaims(raw)
		if err != nil || parsed.Issuer != ws || len(parsed.Audience) != 2 || parsed.NotBefore != 1 {
			t.Fatalf("parseClaims: %+v %v", parsed, err)
		}
	}
	for _, bad := range []string{`{}`, `{"exp":1}`, `{"exp":1,"iat":1}`, `{"exp":1,"iat":1,"aud":5}`,
		`{"exp":"1","iat":1,"aud":"a"}`, `{"exp":-1,"iat":1,"aud":"a"}`, `[]`, `{"exp":1e300,"iat":1,"aud":"a"}`} {
		if _, err := parseClaims([]byte(bad)); err == nil {
			t.Errorf("%s: accepted", bad)
		}
	}
}

func TestGrantedScope(t *testing.T) {
	allowed := []string{"agents:read", "usage:read"}
	for req, want := range map[string]string{
		"":                                  "agents:read usage:read",
		"  ":                                "agents:read usage:read",
		"usage:read":                        "usage:read",
		"usage:read agents:read usage:read": "usage:read agents:read",
		"usage:read  agents:read":           "usage:read agents:read",
	} {
		got, err := grantedScope(req, allowed)
		if err != nil || got != want {
			t.Errorf("%q: %q %v, want %q", req, got, err, want)
		}
	}
	for _, req := range []string{"keys:admin", "agents:read keys:admin", "agents:read\x7f", `a"b`, strings.Repeat("a", 200)} {
		if _, err := grantedScope(req, allowed); err == nil || oauthErrorOf(err).Code != "invalid_scope" {
			t.Errorf("%q: %v", req, err)
		}
	}
}

func TestReadClientCredentials(t *testing.T) {
	req := func(auth string, form url.Values) (*clientCredentials, error) {
		r := httptest.NewRequest(http.MethodPost, "/", nil)
		if auth != "" {
			r.Header.Set("Authorization", auth)
		}
		return readClientCredentials(r, form)
	}
	enc := func(id, secret string) string {
		return "Basic " + b64std(url.QueryEscape(id)+":"+url.QueryEscape(secret))
	}
	cc, err := req(enc("id:with colon", "sec+ret/=%"), url.Values{})
	if err != nil || cc.ID != "id:with colon" || cc.Secret != "sec+ret/=%" || cc.Method != "client_secret_basic" {
		t.Fatalf("basic with form-encoded parts: %+v %v", cc, err)
	}
	cc, err = req("", url.Values{"client_id": {"a"}, "client_secret": {"b"}})
	if err != nil || cc.Method != "client_secret_post" {
		t.Fatalf("post: %+v %v", cc, err)
	}
	if cc, err := req("", url.Values{}); cc != nil || err != nil {
		t.Fatalf("none: %+v %v", cc, err)
	}
	for name, tc := range map[string]struct {
		auth string
		form url.Values
		code string
	}{
		"both methods":       {enc("a", "b"), url.Values{"client_secret": {"b"}}, "invalid_request"},
		"client_id mismatch": {enc("a", "b"), url.Values{"client_id": {"c"}}, "invalid_request"},
		"repeated secret":    {"", url.Values{"client_id": {"a"}, "client_secret": {"b", "c"}}, "invalid_request"},
		"secret without id":  {"", url.Values{"client_secret": {"b"}}, "invalid_request"},
		"bad base64":         {"Basic ***", url.Values{}, "invalid_client"},
		"no colon":           {"Basic " + b64std("abc"), url.Values{}, "invalid_client"},
		"bad escape":         {"Basic " + b64std("%zz:b"), url.Values{}, "invalid_client"},
	} {
		_, err := req(tc.auth, tc.form)
		if err == nil || oauthErrorOf(err).Code != tc.code {
			t.Errorf("%s: %v, want %s", name, err, tc.code)
		}
	}
}

func b64std(s string) string { return base64.StdEncoding.EncodeToString([]byte(s)) }
