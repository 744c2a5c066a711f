package tokens

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"encoding/json"
	"strings"
	"testing"
	"time"

	jose "github.com/go-jose/go-jose/v4"
	"github.com/go-jose/go-jose/v4/jwt"

	"github.com/agentidp/agentidp/modules/orgs"
)

// Tokens signed by tokenSigner verify with go-jose and the public key, for every
// algorithm; the header is exactly alg, kid, typ.
func TestSignerInteroperates(t *testing.T) {
	for _, alg := range []string{AlgRS256, AlgES256, AlgEdDSA} {
		t.Run(alg, func(t *testing.T) {
			priv, err := newKeyPair(alg)
			if err != nil {
				t.Fatal(err)
			}
			s, err := newTokenSigner("kid-1", alg, priv)
			if err != nil {
				t.Fatal(err)
			}
			c := newClaims(testIssuer, orgs.RootID, "sub", "cid", testIssuer, "a b", "jti", time.Now().Unix(), time.Hour)
			tok, err := s.Sign(c)
			if err != nil {
				t.Fatal(err)
			}
			obj, err := jose.ParseSignedCompact(tok, []jose.SignatureAlgorithm{jose.SignatureAlgorithm(alg)})
			if err != nil {
				t.Fatal(err)
			}
			payload, err := obj.Verify(priv.Public())
			if err != nil {
				t.Fatalf("go-jose: %v", err)
			}
			h := obj.Signatures[0].Protected
			if h.Algorithm != alg || h.KeyID != "kid-1" || h.ExtraHeaders["typ"] != "at+jwt" || len(h.ExtraHeaders) != 1 {
				t.Fatalf("header %+v", h)
			}
			var back map[string]any
			if err := json.Unmarshal(payload, &back); err != nil {
				t.Fatal(err)
			}
			if back["aud"] != testIssuer || back["sub"] != "sub" || back["client_id"] != "sub" || back["cid"] != "cid" ||
				back["scope"] != "a b" || back["exp"].(float64)-back["iat"].(float64) != 3600 || back["nbf"] != nil {
				t.Fatalf("payload %s", payload)
			}
			other, _ := newKeyPair(alg)
			if _, err := obj.Verify(other.Public()); err == nil {
				t.Fatal("verifies with another key")
			}
		})
	}
}

// A key is bound to one algorithm: a mismatched pair is refused when the ring loads it,
// so a header can never pick another algorithm for it.
func TestKeyFitsOneAlgorithm(t *testing.T) {
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
		if err := checkKeyFits(tc.alg, tc.pub); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
	if _, err := newTokenSigner("k", AlgES256, rsaKey); err == nil {
		t.Error("an RSA key signs ES256")
	}
	for _, alg := range []string{AlgRS256, AlgES256, AlgEdDSA} {
		k, _ := newKeyPair(alg)
		if err := checkKeyFits(alg, k.Public()); err != nil {
			t.Errorf("%s: %v", alg, err)
		}
	}
}

// Claims with hostile strings encode to JSON that go-jose's decoder reads back as
// encoding/json would; several audiences are an array, one is a string.
func TestClaimsJSON(t *testing.T) {
	weird := []string{"plain", `quote " backslash \ slash /`, "ctl \x00\x01\x1f\t\n\r", "utf8 é ✓ 🙂",
		"bad \xff\xfe utf8", "sep \u2028 \u2029", "<script>&amp;"}
	for _, s := range weird {
		c := newClaims(s, orgs.RootID, "sub", s, s, s, "jti", 1, time.Second)
		c.Audience = append(c.Audience, "b")
		raw, err := json.Marshal(c)
		if err != nil || !json.Valid(raw) {
			t.Fatalf("%q: %v %s", s, err, raw)
		}
		want, _ := json.Marshal(s) // encoding/json's view of s (invalid UTF-8 → U+FFFD)
		var ws string
		_ = json.Unmarshal(want, &ws)
		tok, err := jwt.ParseSigned(unsignedJWS(raw), []jose.SignatureAlgorithm{jose.EdDSA})
		if err != nil {
			t.Fatal(err)
		}
		var back claims
		if err := tok.UnsafeClaimsWithoutVerification(&back); err != nil {
			t.Fatal(err)
		}
		if back.Issuer != ws || back.Scope != ws || back.CredentialID != ws || back.Audience[0] != ws ||
			len(back.Audience) != 2 || back.expiry() != 2 || back.issuedAt() != 1 {
			t.Fatalf("%q: round trip %+v", s, back)
		}
	}
	one, _ := json.Marshal(newClaims("i", orgs.RootID, "s", "c", "https://rs", "", "j", 1, time.Second))
	if !strings.Contains(string(one), `"aud":"https://rs"`) {
		t.Fatalf("one audience is not a string: %s", one)
	}
}

// unsignedJWS wraps payload in a compact JWS with an EdDSA header and a dummy signature, for
// decoding tests that never verify.
func unsignedJWS(payload []byte) string {
	return b64.EncodeToString([]byte(`{"alg":"EdDSA","kid":"k","typ":"at+jwt"}`)) + "." + b64.EncodeToString(payload) + ".c2ln"
}
