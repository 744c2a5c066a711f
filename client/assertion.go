package client

import (
	"context"
	"crypto"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"time"

	jose "github.com/go-jose/go-jose/v4"
	"github.com/go-jose/go-jose/v4/jwt"

	"github.com/agentidp/agentidp/client/internal/josekey"
)

// AssertionLifetime is how long a private_key_jwt assertion is valid (the server accepts
// at most 5 minutes).
const AssertionLifetime = 2 * time.Minute

// KeyAuth is private_key_jwt client authentication (RFC 7523 §2.2): each request carries a
// fresh assertion signed with the agent's private key, whose public key is registered as a
// private_key_jwt credential.
type KeyAuth struct {
	signer jose.Signer
	now    func() time.Time
}

// PrivateKeyJWT authenticates with assertions signed by key: an *ecdsa.PrivateKey,
// *rsa.PrivateKey, ed25519.PrivateKey or any crypto.Signer (a KMS key). alg is one of
// RS256, PS256, ES256, ES384, EdDSA; "" picks the key's default (RS256 for RSA). kid names
// the key in the credential's JWKS ("" when the credential holds one key; the server then
// tries it).
func PrivateKeyJWT(key crypto.Signer, alg, kid string) (*KeyAuth, error) {
	sk, err := josekey.SigningKey(key, jose.SignatureAlgorithm(alg))
	if err != nil {
		return nil, fmt.Errorf("client: private_key_jwt: %w", err)
	}
	opts := (&jose.SignerOptions{}).WithType("JWT")
	if kid != "" {
		opts = opts.WithHeader(jose.HeaderKey("kid"), kid)
	}
	s, err := jose.NewSigner(sk, opts)
	if err != nil {
		return nil, fmt.Errorf("client: private_key_jwt: %w", err)
	}
	return &KeyAuth{signer: s, now: time.Now}, nil
}

// PrivateKeyJWTFromJWK is PrivateKeyJWT with a private JWK (e.g. read from a file with
// json.Unmarshal into a jose.JSONWebKey): its alg (else the key's default) and kid.
func PrivateKeyJWTFromJWK(jwk jose.JSONWebKey) (*KeyAuth, error) {
	key, ok := jwk.Key.(crypto.Signer)
	if !ok || jwk.IsPublic() {
		return nil, errors.New("client: private_key_jwt: the JWK holds no private key")
	}
	return PrivateKeyJWT(key, jwk.Algorithm, jwk.KeyID)
}

// Assertion returns a fresh signed client assertion for clientID at issuer: iss = sub =
// clientID, aud = issuer (never the endpoint URL), iat, exp AssertionLifetime later and a
// random jti.
func (k *KeyAuth) Assertion(clientID, issuer string) (string, error) {
	jti, err := josekey.RandomID()
	if err != nil {
		return "", err
	}
	now := k.now()
	c := jwt.Claims{
		Issuer: clientID, Subject: clientID, Audience: jwt.Audience{issuer}, ID: jti,
		IssuedAt: jwt.NewNumericDate(now), Expiry: jwt.NewNumericDate(now.Add(AssertionLifetime)),
	}
	payload, err := json.Marshal(c)
	if err != nil {
		return "", err
	}
	obj, err := k.signer.Sign(payload)
	if err != nil {
		return "", fmt.Errorf("client: signing the client assertion: %w", err)
	}
	return obj.CompactSerialize()
}

// Apply adds a fresh assertion (jwt-bearer) and client_id to the form.
func (k *KeyAuth) Apply(_ context.Context, t AuthTarget, form url.Values, _ http.Header) error {
	if t.ClientID == "" || t.Issuer == "" {
		return errors.New("client: private_key_jwt needs the client id and the issuer")
	}
	a, err := k.Assertion(t.ClientID, t.Issuer)
	if err != nil {
		return err
	}
	setAssertion(form, t.ClientID, AssertionTypeJWTBearer, a)
	return nil
}
