// Package josekey turns a crypto.Signer into a go-jose signer for one algorithm, after
// checking that the key fits it. The client assertion and the DPoP proof share it.
package josekey

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"encoding/base64"
	"fmt"

	jose "github.com/go-jose/go-jose/v4"
	"github.com/go-jose/go-jose/v4/cryptosigner"
)

// DefaultAlg is the algorithm a key signs with when none is chosen: ES256 or ES384 for an
// EC key on P-256 or P-384, EdDSA for Ed25519, RS256 for RSA.
func DefaultAlg(pub crypto.PublicKey) (jose.SignatureAlgorithm, error) {
	switch k := pub.(type) {
	case *ecdsa.PublicKey:
		switch k.Curve {
		case elliptic.P256():
			return jose.ES256, nil
		case elliptic.P384():
			return jose.ES384, nil
		}
	case ed25519.PublicKey:
		return jose.EdDSA, nil
	case *rsa.PublicKey:
		return jose.RS256, nil
	}
	return "", fmt.Errorf("a %T key is not supported (RSA, EC P-256/P-384, Ed25519)", pub)
}

// Fits refuses a key whose type does not fit alg: RS256/PS256 want RSA of at least 2048
// bits, ES256 P-256, ES384 P-384, EdDSA Ed25519.
func Fits(alg jose.SignatureAlgorithm, pub crypto.PublicKey) error {
	switch k := pub.(type) {
	case *rsa.PublicKey:
		if alg == jose.RS256 || alg == jose.PS256 {
			if k.N.BitLen() < 2048 {
				return fmt.Errorf("an RSA key of %d bits is too short (2048 at least)", k.N.BitLen())
			}
			return nil
		}
	case *ecdsa.PublicKey:
		if (alg == jose.ES256 && k.Curve == elliptic.P256()) || (alg == jose.ES384 && k.Curve == elliptic.P384()) {
			return nil
		}
	case ed25519.PublicKey:
		if alg == jose.EdDSA && len(k) == ed25519.PublicKeySize {
			return nil
		}
	}
	return fmt.Errorf("a %T key cannot sign %s", pub, alg)
}

// SigningKey is go-jose's signing key for key and alg: the key itself for the standard
// library's key types, an opaque signer for any other crypto.Signer (a KMS, an HSM).
func SigningKey(key crypto.Signer, alg jose.SignatureAlgorithm) (jose.SigningKey, error) {
	if alg == "" {
		a, err := DefaultAlg(key.Public())
		if err != nil {
			return jose.SigningKey{}, err
		}
		alg = a
	}
	if err := Fits(alg, key.Public()); err != nil {
		return jose.SigningKey{}, err
	}
	switch key.(type) {
	case *ecdsa.PrivateKey, *rsa.PrivateKey, ed25519.PrivateKey:
		return jose.SigningKey{Algorithm: alg, Key: key}, nil
	}
	return jose.SigningKey{Algorithm: alg, Key: cryptosigner.Opaque(key)}, nil
}

// Thumbprint is the RFC 7638 SHA-256 thumbprint of pub, base64url without padding.
func Thumbprint(pub crypto.PublicKey) (string, error) {
	jwk := jose.JSONWebKey{Key: pub}
	b, err := jwk.Thumbprint(crypto.SHA256)
	if err != nil {
		return "", err
	}
	return base64.RawURLEncoding.EncodeToString(b), nil
}

// RandomID is 128 random bits, base64url: a jti.
func RandomID() (string, error) {
	b := make([]byte, 16)
	if _, err := rand.Read(b); err != nil {
		return "", err
	}
	return base64.RawURLEncoding.EncodeToString(b), nil
}
