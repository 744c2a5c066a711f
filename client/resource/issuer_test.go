package resource_test

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	jose "github.com/go-jose/go-jose/v4"
	"github.com/go-jose/go-jose/v4/jwt"

	"github.com/agentidp/agentidp/client/resource"
)

// issuer is a local token issuer: discovery and a JWKS whose keys a test changes, and a
// signer of tokens shaped as AgentIdP's.
type issuer struct {
	*httptest.Server
	mu        sync.Mutex
	keys      map[string]*ecdsa.PrivateKey
	published []string
	fetches   atomic.Int64
}

const audience = "https://api.example.com"

func newIssuer(t testing.TB) *issuer {
	t.Helper()
	is := &issuer{keys: map[string]*ecdsa.PrivateKey{}}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /.well-known/oauth-authorization-server", func(w http.ResponseWriter, _ *http.Request) {
		_ = json.NewEncoder(w).Encode(map[string]any{"issuer": is.URL, "token_endpoint": is.URL + "/token",
			"jwks_uri": is.URL + "/jwks", "introspection_endpoint": is.URL + "/introspect"})
	})
	mux.HandleFunc("GET /jwks", func(w http.ResponseWriter, _ *http.Request) {
		is.fetches.Add(1)
		is.mu.Lock()
		defer is.mu.Unlock()
		set := jose.JSONWebKeySet{}
		for _, kid := range is.published {
			set.Keys = append(set.Keys, jose.JSONWebKey{Key: is.keys[kid].Public(), KeyID: kid, Algorithm: "ES256", Use: "sig"})
		}
		w.Header().Set("Cache-Control", "public, max-age=3600")
		_ = json.NewEncoder(w).Encode(set)
	})
	is.Server = httptest.NewServer(mux)
	t.Cleanup(is.Close)
	is.addKey("k1", true)
	return is
}

// addKey makes a key; published puts it in the JWKS.
func (is *issuer) addKey(kid string, published bool) {
	k, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	is.mu.Lock()
	defer is.mu.Unlock()
	is.keys[kid] = k
	if published {
		is.published = append(is.published, kid)
	}
}

// claims are a token's claims for audience, valid for an hour, with change applied.
func (is *issuer) claims(change func(map[string]any)) map[string]any {
	now := time.Now()
	c := map[string]any{"iss": is.URL, "sub": "agent-1", "client_id": "agent-1", "aud": audience,
		"scope": "invoices:read", "iat": now.Unix(), "exp": now.Add(time.Hour).Unix(), "jti": "t-1"}
	if change != nil {
		change(c)
	}
	return c
}

// sign signs claims with kid's key as alg, with typ (nil header values drop them).
func (is *issuer) sign(t testing.TB, kid, typ string, claims map[string]any) string {
	t.Helper()
	is.mu.Lock()
	key := is.keys[kid]
	is.mu.Unlock()
	return signWith(t, jose.SigningKey{Algorithm: jose.ES256, Key: key}, kid, typ, claims)
}

func signWith(t testing.TB, sk jose.SigningKey, kid, typ string, claims map[string]any) string {
	t.Helper()
	opts := (&jose.SignerOptions{}).WithType(jose.ContentType(typ))
	if kid != "" {
		opts = opts.WithHeader("kid", kid)
	}
	s, err := jose.NewSigner(sk, opts)
	if err != nil {
		t.Fatal(err)
	}
	raw, err := jwt.Signed(s).Claims(claims).Serialize()
	if err != nil {
		t.Fatal(err)
	}
	return raw
}

func (is *issuer) validator(t testing.TB, change func(*resource.Config)) *resource.Validator {
	t.Helper()
	cfg := resource.Config{Issuer: is.URL, Audience: audience}
	if change != nil {
		change(&cfg)
	}
	v, err := resource.New(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	return v
}
