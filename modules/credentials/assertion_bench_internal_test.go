package credentials

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"testing"
	"time"

	"github.com/go-jose/go-jose/v4"
	"github.com/go-jose/go-jose/v4/jwt"
)

// BenchmarkParseAssertion is the cost of one unverified parse of an ES256 client assertion:
// what NewAssertion saves the token endpoint by parsing once for both the claimed client and
// the verification.
//
//	go test -run xxx -bench ParseAssertion ./modules/credentials/
func BenchmarkParseAssertion(b *testing.B) {
	k, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	signer, _ := jose.NewSigner(jose.SigningKey{Algorithm: jose.ES256, Key: k},
		(&jose.SignerOptions{}).WithHeader(jose.HeaderKey("kid"), "k1"))
	now := time.Now()
	raw, err := jwt.Signed(signer).Claims(map[string]any{"iss": "0191f0a4-1c2d-7e3f-8a4b-5c6d7e8f9a0b",
		"sub": "0191f0a4-1c2d-7e3f-8a4b-5c6d7e8f9a0b", "aud": "https://idp.example", "jti": "j1",
		"exp": now.Add(time.Minute).Unix(), "iat": now.Unix()}).Serialize()
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		if _, _, err := parseAssertion(raw); err != nil {
			b.Fatal(err)
		}
	}
}
