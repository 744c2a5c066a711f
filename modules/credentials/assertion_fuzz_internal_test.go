package credentials

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"slices"
	"testing"
	"time"

	"github.com/go-jose/go-jose/v4"
	"github.com/go-jose/go-jose/v4/jwt"

	"github.com/agentidp/agentidp/platform/jwks"
)

// FuzzParseAssertion feeds any string to the assertion parser, the key match and the time
// rules: nothing panics, only the allowed algorithms parse, and a token verifies only
// against the key that signed it.
func FuzzParseAssertion(f *testing.F) {
	k, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	signer, _ := jose.NewSigner(jose.SigningKey{Algorithm: jose.ES256, Key: k},
		(&jose.SignerOptions{}).WithHeader(jose.HeaderKey("kid"), "k1"))
	hs, _ := jose.NewSigner(jose.SigningKey{Algorithm: jose.HS256, Key: []byte("0123456789abcdef0123456789abcdef")}, nil)
	now := time.Now()
	good, _ := jwt.Signed(signer).Claims(map[string]any{"iss": "a", "sub": "a", "aud": "x", "jti": "j",
		"exp": now.Add(time.Minute).Unix(), "iat": now.Unix()}).Serialize()
	mac, _ := jwt.Signed(hs).Claims(map[string]any{"iss": "a"}).Serialize()
	f.Add(good)
	f.Add(mac)
	f.Add("eyJhbGciOiJub25lIn0.eyJpc3MiOiJhIn0.")
	f.Add("a.b.c")
	f.Add("")
	f.Add(good + "." + good)
	other, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	cands := []candidate{
		{credID: "wrong", key: jose.JSONWebKey{Key: &other.PublicKey, KeyID: "k1"}},
		{credID: "right", key: jose.JSONWebKey{Key: &k.PublicKey, KeyID: "k1"}},
	}
	f.Fuzz(func(t *testing.T, raw string) {
		tok, c, err := parseAssertion(raw)
		a := NewAssertion(AssertionJWTBearer, raw, "")
		if iss := a.Client(); (err == nil && iss != c.Issuer) || (err != nil && iss != "") {
			t.Fatalf("Client() = %q for a parse error %v", iss, err)
		}
		if err != nil {
			return
		}
		alg := jose.SignatureAlgorithm(tok.Headers[0].Algorithm)
		if !slices.Contains(jwks.Algs, alg) {
			t.Fatalf("parsed an assertion with alg %q", alg)
		}
		_ = checkTimes(c, now, 5*time.Minute)
		if m, vc := verifyAgainst(tok, cands); m != nil {
			if m.credID != "right" || vc == nil {
				t.Fatalf("verified against %s", m.credID)
			}
		}
	})
}
