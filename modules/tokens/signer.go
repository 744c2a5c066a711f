package tokens

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rsa"
	"encoding/json"
	"errors"
	"fmt"

	jose "github.com/go-jose/go-jose/v4"
)

// tokenType is the JWS typ of an access token (RFC 9068 §2.1).
const tokenType = "at+jwt"

// tokenSigner signs access tokens with one key: a go-jose Signer built once, when the key
// is loaded, with the key's algorithm, its kid and typ at+jwt in the protected header.
type tokenSigner struct {
	kid    string
	alg    string
	signer jose.Signer
}

// newTokenSigner prepares the signer of key kid for alg; the key's type must fit alg (see
// checkKeyFits), so a key never signs with another algorithm than the one it was made for.
func newTokenSigner(kid, alg string, priv crypto.Signer) (*tokenSigner, error) {
	if err := checkKeyFits(alg, priv.Public()); err != nil {
		return nil, err
	}
	s, err := jose.NewSigner(jose.SigningKey{Algorithm: jose.SignatureAlgorithm(alg), Key: priv},
		(&jose.SignerOptions{}).WithType(tokenType).WithHeader(jose.HeaderKey("kid"), kid))
	if err != nil {
		return nil, fmt.Errorf("tokens: key %s: %w", kid, err)
	}
	return &tokenSigner{kid: kid, alg: alg, signer: s}, nil
}

// Sign returns the compact serialisation of c, signed.
func (s *tokenSigner) Sign(c *claims) (string, error) {
	payload, err := json.Marshal(c)
	if err != nil {
		return "", fmt.Errorf("tokens: encoding claims: %w", err)
	}
	obj, err := s.signer.Sign(payload)
	if err != nil {
		return "", fmt.Errorf("tokens: signing with key %s: %w", s.kid, err)
	}
	return obj.CompactSerialize()
}

// checkKeyFits refuses a key whose type does not fit alg: RS256 wants RSA of at least 2048
// bits, ES256 ECDSA on P-256, EdDSA Ed25519. Every key of the ring is bound to one
// algorithm this way when it is loaded, and a token is only ever checked with the
// algorithm of the key its kid names.
func checkKeyFits(alg string, pub crypto.PublicKey) error {
	switch k := pub.(type) {
	case *rsa.PublicKey:
		if alg == AlgRS256 {
			if k.N.BitLen() < 2048 {
				return errors.New("tokens: RSA keys shorter than 2048 bits are refused")
			}
			return nil
		}
	case *ecdsa.PublicKey:
		if alg == AlgES256 && k.Curve == elliptic.P256() {
			return nil
		}
	case ed25519.PublicKey:
		if alg == AlgEdDSA && len(k) == ed25519.PublicKeySize {
			return nil
		}
	}
	return fmt.Errorf("tokens: a %T cannot be used with %s", pub, alg)
}
