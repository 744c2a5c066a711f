// Package dpoptest makes DPoP proofs for tests: a key of each accepted algorithm, a proof
// for a request, and proofs with any header or claim changed, to test refusals.
package dpoptest

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
	"testing"
	"time"

	jose "github.com/go-jose/go-jose/v4"
)

// Key is a proof key.
type Key struct {
	Alg     jose.SignatureAlgorithm
	Private crypto.Signer
	Public  jose.JSONWebKey
}

// NewKey makes a key for alg: ES256 (P-256), RS256 and PS256 (RSA-2048), EdDSA (Ed25519).
func NewKey(t testing.TB, alg jose.SignatureAlgorithm) *Key {
	t.Helper()
	var priv crypto.Signer
	var err error
	switch alg {
	case jose.ES256:
		priv, err = ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	case jose.RS256, jose.PS256:
		priv, err = rsa.GenerateKey(rand.Reader, 2048)
	case jose.EdDSA:
		_, priv, err = ed25519.GenerateKey(rand.Reader)
	default:
		t.Fatalf("dpoptest: no key for %s", alg)
	}
	if err != nil {
		t.Fatal(err)
	}
	return &Key{Alg: alg, Private: priv, Public: jose.JSONWebKey{Key: priv.Public()}}
}

// JKT is the key's RFC 7638 thumbprint (SHA-256, base64url): a bound token's cnf.jkt.
func (k *Key) JKT(t testing.TB) string {
	t.Helper()
	tp, err := k.Public.Thumbprint(crypto.SHA256)
	if err != nil {
		t.Fatal(err)
	}
	return base64.RawURLEncoding.EncodeToString(tp)
}

// Proof is a fresh proof (new jti, iat now) for method and htu, with ath when
// accessToken is not "".
func (k *Key) Proof(t testing.TB, method, htu, accessToken string) string {
	t.Helper()
	return k.Sign(t, nil, Claims(method, htu, accessToken))
}

// Claims are a fresh proof's claims: jti, iat now, htm, htu, and ath when accessToken is
// not "". Change them before Sign to test a refusal.
func Claims(method, htu, accessToken string) map[string]any {
	c := map[string]any{"jti": rand.Text(), "iat": time.Now().Unix(), "htm": method, "htu": htu}
	if accessToken != "" {
		c["ath"] = ATH(accessToken)
	}
	return c
}

// ATH is base64url(SHA-256(accessToken)).
func ATH(accessToken string) string {
	sum := sha256.Sum256([]byte(accessToken))
	return base64.RawURLEncoding.EncodeToString(sum[:])
}

// Sign signs claims with the key under the header typ dpop+jwt and jwk (the public key),
// changed by header: a member set to nil is left out, others replace or add.
func (k *Key) Sign(t testing.TB, header map[string]any, claims map[string]any) string {
	t.Helper()
	h := map[jose.HeaderKey]any{jose.HeaderType: "dpop+jwt", "jwk": k.Public}
	for name, v := range header {
		if v == nil {
			delete(h, jose.HeaderKey(name))
		} else {
			h[jose.HeaderKey(name)] = v
		}
	}
	s, err := jose.NewSigner(jose.SigningKey{Algorithm: k.Alg, Key: k.Private}, &jose.SignerOptions{ExtraHeaders: h})
	if err != nil {
		t.Fatal(err)
	}
	payload, err := json.Marshal(claims)
	if err != nil {
		t.Fatal(err)
	}
	jws, err := s.Sign(payload)
	if err != nil {
		t.Fatal(err)
	}
	out, err := jws.CompactSerialize()
	if err != nil {
		t.Fatal(err)
	}
	return out
}
