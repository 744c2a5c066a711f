package dpop_test

import (
	"encoding/json"
	"testing"
	"time"

	jose "github.com/go-jose/go-jose/v4"
)

// signProof signs claims as a proof with key under alg and the given header fields
// (typ dpop+jwt and the public jwk unless headers say otherwise): the hostile proofs.
func signProof(t testing.TB, key any, alg jose.SignatureAlgorithm, headers map[string]any, claims map[string]any) string {
	t.Helper()
	opts := &jose.SignerOptions{}
	opts.WithType("dpop+jwt")
	if _, ok := headers["jwk"]; !ok {
		opts.EmbedJWK = true
	}
	for k, v := range headers {
		if v == nil {
			delete(opts.ExtraHeaders, jose.HeaderKey(k))
			continue
		}
		opts.WithHeader(jose.HeaderKey(k), v)
	}
	s, err := jose.NewSigner(jose.SigningKey{Algorithm: alg, Key: key}, opts)
	if err != nil {
		t.Fatal(err)
	}
	payload, _ := json.Marshal(claims)
	obj, err := s.Sign(payload)
	if err != nil {
		t.Fatal(err)
	}
	raw, err := obj.CompactSerialize()
	if err != nil {
		t.Fatal(err)
	}
	return raw
}

// fixedClock is a settable clock.
type fixedClock struct{ t time.Time }

func (c *fixedClock) Now() time.Time { return c.t }
