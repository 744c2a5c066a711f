package dpop_test

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"errors"
	"testing"
	"time"

	jose "github.com/go-jose/go-jose/v4"

	"github.com/agentidp/agentidp/client/dpop"
)

const (
	target = "https://api.example.com/v1/invoices"
	token  = "eyJ.the.token"
)

func newChecker(now time.Time) *dpop.Checker {
	c := &fixedClock{t: now}
	return &dpop.Checker{Replay: dpop.NewMemoryReplayCache(), Now: c.Now}
}

// A Proofer's proof passes the Checker once, with the proof key's thumbprint; the same
// proof again is a replay.
func TestCheckerAcceptsProofOnce(t *testing.T) {
	p, _ := dpop.GenerateProofer()
	proof, err := p.Proof("GET", target+"?page=2", token)
	if err != nil {
		t.Fatal(err)
	}
	c := newChecker(time.Now())
	req := dpop.Request{Proof: proof, Method: "GET", URL: "https://API.example.com:443/v1/invoices", AccessToken: token}
	res, err := c.Check(context.Background(), req)
	if err != nil {
		t.Fatal(err)
	}
	if res.JKT != p.Thumbprint() || res.Claims.Method != "GET" {
		t.Fatalf("result: %+v", res)
	}
	if _, err := c.Check(context.Background(), req); !errors.Is(err, dpop.ErrInvalidProof) {
		t.Fatalf("replay: %v", err)
	}
	// At a token endpoint (no token): no ath needed.
	tp, _ := p.Proof("POST", "https://idp.example/api/v1/token", "")
	if _, err := c.Check(context.Background(), dpop.Request{Proof: tp, Method: "POST", URL: "https://idp.example/api/v1/token"}); err != nil {
		t.Fatalf("token endpoint proof: %v", err)
	}
}

// Every rule of RFC 9449 §4.3 refuses a proof that breaks it.
func TestCheckerRefuses(t *testing.T) {
	now := time.Now()
	ec, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	other, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	rs, _ := rsa.GenerateKey(rand.Reader, 2048)
	claims := func(change func(map[string]any)) map[string]any {
		c := map[string]any{"jti": "j-" + time.Now().Format(time.RFC3339Nano), "htm": "GET", "htu": target,
			"iat": now.Unix(), "ath": dpop.ATH(token)}
		if change != nil {
			change(c)
		}
		return c
	}
	otherJWK := jose.JSONWebKey{Key: other.Public()}
	privJWK := jose.JSONWebKey{Key: ec}
	cases := map[string]string{
		"good (control)":   signProof(t, ec, jose.ES256, nil, claims(nil)),
		"wrong htm":        signProof(t, ec, jose.ES256, nil, claims(func(c map[string]any) { c["htm"] = "POST" })),
		"wrong htu":        signProof(t, ec, jose.ES256, nil, claims(func(c map[string]any) { c["htu"] = "https://api.example.com/v1/other" })),
		"htu other origin": signProof(t, ec, jose.ES256, nil, claims(func(c map[string]any) { c["htu"] = "https://evil.example/v1/invoices" })),
		"stale iat":        signProof(t, ec, jose.ES256, nil, claims(func(c map[string]any) { c["iat"] = now.Add(-61 * time.Second).Unix() })),
		"future iat":       signProof(t, ec, jose.ES256, nil, claims(func(c map[string]any) { c["iat"] = now.Add(6 * time.Second).Unix() })),
		"no iat":           signProof(t, ec, jose.ES256, nil, claims(func(c map[string]any) { delete(c, "iat") })),
		"no jti":           signProof(t, ec, jose.ES256, nil, claims(func(c map[string]any) { delete(c, "jti") })),
		"no ath":           signProof(t, ec, jose.ES256, nil, claims(func(c map[string]any) { delete(c, "ath") })),
		"wrong ath":        signProof(t, ec, jose.ES256, nil, claims(func(c map[string]any) { c["ath"] = dpop.ATH("another") })),
		"typ JWT":          signProof(t, ec, jose.ES256, map[string]any{"typ": "JWT"}, claims(nil)),
		"jwk of another":   signProof(t, ec, jose.ES256, map[string]any{"jwk": otherJWK}, claims(nil)),
		"private jwk":      signProof(t, ec, jose.ES256, map[string]any{"jwk": privJWK}, claims(nil)),
		"HS256":            signProof(t, []byte("0123456789abcdef0123456789abcdef"), jose.HS256, map[string]any{"jwk": otherJWK}, claims(nil)),
		"RS256 not listed": signProof(t, rs, jose.RS256, nil, claims(nil)),
		"alg none":         "eyJhbGciOiJub25lIiwidHlwIjoiZHBvcCtqd3QifQ.eyJqdGkiOiJ4IiwiaHRtIjoiR0VUIn0.",
		"not a JWS":        "not-a-proof",
		"empty":            "",
	}
	for name, proof := range cases {
		t.Run(name, func(t *testing.T) {
			c := newChecker(now)
			if name == "RS256 not listed" {
				c.Algorithms = []jose.SignatureAlgorithm{jose.ES256}
			}
			_, err := c.Check(context.Background(), dpop.Request{Proof: proof, Method: "GET", URL: target, AccessToken: token})
			if name == "good (control)" {
				if err != nil {
					t.Fatalf("control refused: %v", err)
				}
				return
			}
			if !errors.Is(err, dpop.ErrInvalidProof) {
				t.Fatalf("accepted or wrong error: %v", err)
			}
		})
	}
}

// The replay cache's errors refuse the proof, but not as an invalid proof (503, not 401).
func TestCheckerReplayCacheDown(t *testing.T) {
	p, _ := dpop.GenerateProofer()
	proof, _ := p.Proof("GET", target, token)
	c := &dpop.Checker{Replay: downCache{}}
	_, err := c.Check(context.Background(), dpop.Request{Proof: proof, Method: "GET", URL: target, AccessToken: token})
	if err == nil || errors.Is(err, dpop.ErrInvalidProof) {
		t.Fatalf("want a cache error, got %v", err)
	}
}

type downCache struct{}

func (downCache) Seen(context.Context, string, time.Time) (bool, error) {
	return false, errors.New("cache down")
}

// The memory cache forgets a proof only after its time.
func TestMemoryReplayCache(t *testing.T) {
	m := dpop.NewMemoryReplayCache()
	ctx := context.Background()
	until := time.Now().Add(time.Hour)
	if seen, _ := m.Seen(ctx, "a", until); seen {
		t.Fatal("new id seen")
	}
	if seen, _ := m.Seen(ctx, "a", until); !seen {
		t.Fatal("replay not seen")
	}
	if seen, _ := m.Seen(ctx, "b", time.Now().Add(-time.Second)); seen {
		t.Fatal("b seen")
	}
	if seen, _ := m.Seen(ctx, "b", until); seen {
		t.Fatal("an expired entry still counts")
	}
}
