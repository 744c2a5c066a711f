package credentials

import (
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"sync"

	"github.com/go-jose/go-jose/v4"
)

// decoys are public keys that signed nothing, one per assertion algorithm: an assertion
// with no key to try is verified against the decoy of its algorithm, so that an unknown
// client costs a signature verification like a known one with a wrong key. Made once, on
// first use.
var decoys = sync.OnceValue(func() map[jose.SignatureAlgorithm]any {
	rk, err1 := rsa.GenerateKey(rand.Reader, 2048)
	p256, err2 := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	p384, err3 := ecdsa.GenerateKey(elliptic.P384(), rand.Reader)
	ed, _, err4 := ed25519.GenerateKey(rand.Reader)
	if err1 != nil || err2 != nil || err3 != nil || err4 != nil {
		return nil
	}
	return map[jose.SignatureAlgorithm]any{
		jose.RS256: &rk.PublicKey, jose.PS256: &rk.PublicKey,
		jose.ES256: &p256.PublicKey, jose.ES384: &p384.PublicKey, jose.EdDSA: ed,
	}
})

// decoyKey is the decoy of alg, nil for another algorithm.
func decoyKey(alg jose.SignatureAlgorithm) any { return decoys()[alg] }
