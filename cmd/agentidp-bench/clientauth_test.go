package main

import (
	"testing"
	"time"

	jose "github.com/go-jose/go-jose/v4"
	"github.com/go-jose/go-jose/v4/jwt"
)

func TestAssertionVerifies(t *testing.T) {
	key, jwk, err := es256Key("k1")
	if err != nil {
		t.Fatal(err)
	}
	s, err := newAssertionSigner(key, "k1", "agent-1", "http://127.0.0.1:1", newJTISource())
	if err != nil {
		t.Fatal(err)
	}
	now := time.Now()
	var jtis []string
	for range 2 {
		raw, err := s.assertion(now)
		if err != nil {
			t.Fatal(err)
		}
		tok, err := jwt.ParseSigned(raw, []jose.SignatureAlgorithm{jose.ES256})
		if err != nil {
			t.Fatal(err)
		}
		if kid := tok.Headers[0].KeyID; kid != "k1" {
			t.Errorf("kid %q, want k1", kid)
		}
		var c jwt.Claims
		if err := tok.Claims(jwk, &c); err != nil {
			t.Fatalf("the assertion does not verify with the registered key: %v", err)
		}
		if err := c.ValidateWithLeeway(jwt.Expected{Issuer: "agent-1", Subject: "agent-1",
			AnyAudience: jwt.Audience{"http://127.0.0.1:1"}, Time: now}, 0); err != nil {
			t.Error(err)
		}
		if c.ID == "" || c.Expiry == nil {
			t.Errorf("jti %q, exp %v: both required", c.ID, c.Expiry)
		}
		jtis = append(jtis, c.ID)
	}
	if jtis[0] == jtis[1] {
		t.Errorf("two assertions share the jti %q", jtis[0])
	}
}

func TestProofVerifies(t *testing.T) {
	key, _, err := es256Key("")
	if err != nil {
		t.Fatal(err)
	}
	const htu = "http://127.0.0.1:1/api/v1/token"
	p, err := newProofSigner(key, htu, newJTISource())
	if err != nil {
		t.Fatal(err)
	}
	now := time.Now()
	var jtis []string
	for range 2 {
		raw, err := p.proof(now)
		if err != nil {
			t.Fatal(err)
		}
		tok, err := jwt.ParseSigned(raw, []jose.SignatureAlgorithm{jose.ES256})
		if err != nil {
			t.Fatal(err)
		}
		h := tok.Headers[0]
		if h.ExtraHeaders[jose.HeaderType] != "dpop+jwt" {
			t.Errorf("typ %v, want dpop+jwt", h.ExtraHeaders[jose.HeaderType])
		}
		if h.JSONWebKey == nil || !h.JSONWebKey.IsPublic() || !h.JSONWebKey.Valid() {
			t.Fatalf("jwk header %+v: want a valid public key", h.JSONWebKey)
		}
		var c dpopClaims
		if err := tok.Claims(h.JSONWebKey, &c); err != nil {
			t.Fatalf("the proof does not verify with its jwk: %v", err)
		}
		if err := tok.Claims(&key.PublicKey, &c); err != nil {
			t.Fatalf("the proof does not verify with the signing key: %v", err)
		}
		if c.Method != "POST" || c.URL != htu || c.IssuedAt == nil || c.IssuedAt.Time().Unix() != now.Unix() || c.ID == "" {
			t.Errorf("claims %+v", c)
		}
		jtis = append(jtis, c.ID)
	}
	if jtis[0] == jtis[1] {
		t.Errorf("two proofs share the jti %q", jtis[0])
	}
}
