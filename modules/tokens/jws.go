package tokens

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"math/big"
)

// tokenType is the JWS typ of an access token (RFC 9068 §2.1).
const tokenType = "at+jwt"

var b64 = base64.RawURLEncoding

// jwsSigner signs compact JWS for one key. The protected header never changes for a key,
// so it is serialised and encoded once, here, and a token costs one payload encoding and
// one signature.
type jwsSigner struct {
	kid    string
	alg    string
	prefix []byte // base64url(header) + "."
	sigLen int
	sign   func(input []byte) ([]byte, error)
}

// newJWSSigner prepares the signer of key kid for alg; the key's type must fit alg.
func newJWSSigner(kid, alg string, priv crypto.Signer) (*jwsSigner, error) {
	header, err := json.Marshal(struct {
		Alg string `json:"alg"`
		Kid string `json:"kid"`
		Typ string `json:"typ"`
	}{alg, kid, tokenType})
	if err != nil {
		return nil, err
	}
	s := &jwsSigner{kid: kid, alg: alg}
	s.prefix = append(b64.AppendEncode(nil, header), '.')
	switch k := priv.(type) {
	case *rsa.PrivateKey:
		if alg != AlgRS256 {
			return nil, fmt.Errorf("tokens: an RSA key cannot sign %s", alg)
		}
		s.sigLen = k.Size()
		s.sign = func(input []byte) ([]byte, error) {
			h := sha256.Sum256(input)
			return rsa.SignPKCS1v15(nil, k, crypto.SHA256, h[:])
		}
	case *ecdsa.PrivateKey:
		if alg != AlgES256 || k.Curve != elliptic.P256() {
			return nil, fmt.Errorf("tokens: an ECDSA %s key cannot sign %s", k.Curve.Params().Name, alg)
		}
		s.sigLen = 64
		s.sign = func(input []byte) ([]byte, error) {
			h := sha256.Sum256(input)
			r, ss, err := ecdsa.Sign(rand.Reader, k, h[:])
			if err != nil {
				return nil, err
			}
			// JWS ES256 is the fixed-size R || S (RFC 7518 §3.4), not ASN.1.
			out := make([]byte, 64)
			r.FillBytes(out[:32])
			ss.FillBytes(out[32:])
			return out, nil
		}
	case ed25519.PrivateKey:
		if alg != AlgEdDSA {
			return nil, fmt.Errorf("tokens: an Ed25519 key cannot sign %s", alg)
		}
		s.sigLen = ed25519.SignatureSize
		s.sign = func(input []byte) ([]byte, error) { return ed25519.Sign(k, input), nil }
	default:
		return nil, fmt.Errorf("tokens: unsupported private key type %T", priv)
	}
	return s, nil
}

// Sign returns the compact serialisation header.payload.signature of payload.
func (s *jwsSigner) Sign(payload []byte) (string, error) {
	buf := make([]byte, 0, len(s.prefix)+b64.EncodedLen(len(payload))+1+b64.EncodedLen(s.sigLen))
	buf = append(buf, s.prefix...)
	buf = b64.AppendEncode(buf, payload)
	sig, err := s.sign(buf)
	if err != nil {
		return "", fmt.Errorf("tokens: signing with key %s: %w", s.kid, err)
	}
	buf = append(buf, '.')
	buf = b64.AppendEncode(buf, sig)
	return string(buf), nil
}

// sigVerifier checks a signature over the JWS signing input with one key, for the one
// algorithm that key is pinned to.
type sigVerifier func(input, sig []byte) bool

// newSigVerifier binds pub to alg; a key whose type does not fit alg is refused, so that a
// header can never make us use a key with another algorithm.
func newSigVerifier(alg string, pub crypto.PublicKey) (sigVerifier, error) {
	switch k := pub.(type) {
	case *rsa.PublicKey:
		if alg != AlgRS256 {
			break
		}
		if k.N.BitLen() < 2048 {
			return nil, errors.New("tokens: RSA keys shorter than 2048 bits are refused")
		}
		return func(input, sig []byte) bool {
			if len(sig) != k.Size() {
				return false
			}
			h := sha256.Sum256(input)
			return rsa.VerifyPKCS1v15(k, crypto.SHA256, h[:], sig) == nil
		}, nil
	case *ecdsa.PublicKey:
		if alg != AlgES256 || k.Curve != elliptic.P256() {
			break
		}
		return func(input, sig []byte) bool {
			if len(sig) != 64 {
				return false
			}
			h := sha256.Sum256(input)
			r := new(big.Int).SetBytes(sig[:32])
			s := new(big.Int).SetBytes(sig[32:])
			return ecdsa.Verify(k, h[:], r, s)
		}, nil
	case ed25519.PublicKey:
		if alg != AlgEdDSA || len(k) != ed25519.PublicKeySize {
			break
		}
		return func(input, sig []byte) bool {
			return len(sig) == ed25519.SignatureSize && ed25519.Verify(k, input, sig)
		}, nil
	}
	return nil, fmt.Errorf("tokens: a %T cannot verify %s", pub, alg)
}
