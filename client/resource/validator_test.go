package resource_test

import (
	"context"
	"crypto/rand"
	"crypto/rsa"
	"errors"
	"testing"
	"time"

	jose "github.com/go-jose/go-jose/v4"

	"github.com/agentidp/agentidp/client/resource"
)

// Every check of a token: the control passes; each broken one is ErrInvalidToken.
func TestValidateRefuses(t *testing.T) {
	is := newIssuer(t)
	is.addKey("unpublished", false)
	v := is.validator(t, nil)
	rsaKey, _ := rsa.GenerateKey(rand.Reader, 2048)
	cases := map[string]string{
		"control":             is.sign(t, "k1", "at+jwt", is.claims(nil)),
		"typ application/…":   is.sign(t, "k1", "application/at+jwt", is.claims(nil)),
		"typ JWT":             is.sign(t, "k1", "JWT", is.claims(nil)),
		"no typ":              is.sign(t, "k1", "", is.claims(nil)),
		"wrong iss":           is.sign(t, "k1", "at+jwt", is.claims(func(c map[string]any) { c["iss"] = "https://evil.example" })),
		"wrong aud":           is.sign(t, "k1", "at+jwt", is.claims(func(c map[string]any) { c["aud"] = "https://other.example" })),
		"aud in an array":     is.sign(t, "k1", "at+jwt", is.claims(func(c map[string]any) { c["aud"] = []string{"x", audience} })),
		"expired":             is.sign(t, "k1", "at+jwt", is.claims(func(c map[string]any) { c["exp"] = time.Now().Add(-2 * time.Minute).Unix() })),
		"within leeway":       is.sign(t, "k1", "at+jwt", is.claims(func(c map[string]any) { c["exp"] = time.Now().Add(-30 * time.Second).Unix() })),
		"no exp":              is.sign(t, "k1", "at+jwt", is.claims(func(c map[string]any) { delete(c, "exp") })),
		"no sub":              is.sign(t, "k1", "at+jwt", is.claims(func(c map[string]any) { delete(c, "sub") })),
		"nbf ahead":           is.sign(t, "k1", "at+jwt", is.claims(func(c map[string]any) { c["nbf"] = time.Now().Add(5 * time.Minute).Unix() })),
		"iat ahead":           is.sign(t, "k1", "at+jwt", is.claims(func(c map[string]any) { c["iat"] = time.Now().Add(5 * time.Minute).Unix() })),
		"unknown kid":         is.sign(t, "unpublished", "at+jwt", is.claims(nil)),
		"no kid":              signWith(t, jose.SigningKey{Algorithm: jose.ES256, Key: is.keys["k1"]}, "", "at+jwt", is.claims(nil)),
		"HS256 with the pub":  signWith(t, jose.SigningKey{Algorithm: jose.HS256, Key: []byte("k1-public-key-bytes-as-hmac-secret")}, "k1", "at+jwt", is.claims(nil)),
		"RS256 under k1":      signWith(t, jose.SigningKey{Algorithm: jose.RS256, Key: rsaKey}, "k1", "at+jwt", is.claims(nil)),
		"alg none":            "eyJhbGciOiJub25lIiwidHlwIjoiYXQrand0Iiwia2lkIjoiazEifQ.eyJzdWIiOiJ4In0.",
		"garbage":             "not.a.jwt",
		"JWE-shaped (5 dots)": "a.b.c.d.e",
	}
	ok := map[string]bool{"control": true, "typ application/…": true, "aud in an array": true, "within leeway": true}
	for name, tok := range cases {
		t.Run(name, func(t *testing.T) {
			c, err := v.Validate(context.Background(), tok)
			if ok[name] {
				if err != nil || c.Subject != "agent-1" || !c.HasScope("invoices:read") {
					t.Fatalf("refused: %v", err)
				}
				return
			}
			if !errors.Is(err, resource.ErrInvalidToken) {
				t.Fatalf("want ErrInvalidToken, got %v", err)
			}
		})
	}
}

// A token of a new key is accepted after one refetch of the JWKS; made-up kids refetch at
// most once per JWKSMinRefresh.
func TestJWKSRefetchOnUnknownKid(t *testing.T) {
	is := newIssuer(t)
	v := is.validator(t, func(c *resource.Config) { c.JWKSMinRefresh = time.Hour })
	if _, err := v.Validate(context.Background(), is.sign(t, "k1", "at+jwt", is.claims(nil))); err != nil {
		t.Fatal(err)
	}
	if n := is.fetches.Load(); n != 1 {
		t.Fatalf("fetches: %d", n)
	}
	// Made-up kids within the interval: no fetch.
	for range 5 {
		is.addKey("made-up", false)
		if _, err := v.Validate(context.Background(), is.sign(t, "made-up", "at+jwt", is.claims(nil))); !errors.Is(err, resource.ErrInvalidToken) {
			t.Fatalf("made-up kid: %v", err)
		}
	}
	if n := is.fetches.Load(); n != 1 {
		t.Fatalf("fetches after made-up kids: %d, want 1", n)
	}

	v2 := is.validator(t, func(c *resource.Config) { c.JWKSMinRefresh = time.Millisecond })
	if _, err := v2.Validate(context.Background(), is.sign(t, "k1", "at+jwt", is.claims(nil))); err != nil {
		t.Fatal(err)
	}
	is.addKey("k2", true) // rotation: published now
	time.Sleep(5 * time.Millisecond)
	before := is.fetches.Load()
	if _, err := v2.Validate(context.Background(), is.sign(t, "k2", "at+jwt", is.claims(nil))); err != nil {
		t.Fatalf("new key: %v", err)
	}
	if is.fetches.Load() != before+1 {
		t.Fatalf("want one refetch, got %d", is.fetches.Load()-before)
	}
}

// When the JWKS cannot be fetched at all, the answer is an error that is not a refusal
// of the token (the middleware answers 503).
func TestJWKSUnavailable(t *testing.T) {
	is := newIssuer(t)
	v := is.validator(t, func(c *resource.Config) { c.JWKSURI = is.URL + "/nothing-here" })
	_, err := v.Validate(context.Background(), is.sign(t, "k1", "at+jwt", is.claims(nil)))
	if err == nil || errors.Is(err, resource.ErrInvalidToken) {
		t.Fatalf("want an availability error, got %v", err)
	}
}
