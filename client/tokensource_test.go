package client_test

import (
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	jose "github.com/go-jose/go-jose/v4"
	"github.com/go-jose/go-jose/v4/jwt"

	"github.com/agentidp/agentidp/client"
	"github.com/agentidp/agentidp/client/dpop"
)

// A private_key_jwt assertion read back with go-jose: the alg and kid asked for, a valid
// signature, iss = sub = the client, aud = the issuer string alone (not the token
// endpoint), exp at most 5 minutes after iat, iat now, a jti fresh each time.
func TestPrivateKeyJWTAssertion(t *testing.T) {
	ec, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	_, ed, _ := ed25519.GenerateKey(rand.Reader)
	rs, _ := rsa.GenerateKey(rand.Reader, 2048)
	for _, c := range []struct {
		key      crypto.Signer
		alg, kid string
		want     string
	}{{ec, "", "k1", "ES256"}, {ed, "EdDSA", "", "EdDSA"}, {rs, "", "r", "RS256"}, {rs, "PS256", "p", "PS256"}} {
		t.Run(c.want, func(t *testing.T) {
			auth, err := client.PrivateKeyJWT(c.key, c.alg, c.kid)
			if err != nil {
				t.Fatal(err)
			}
			form := url.Values{}
			err = auth.Apply(context.Background(), client.AuthTarget{ClientID: "agent-1", Issuer: "https://idp.example",
				Endpoint: "https://idp.example/api/v1/token"}, form, http.Header{})
			if err != nil {
				t.Fatal(err)
			}
			if form.Get("client_assertion_type") != client.AssertionTypeJWTBearer || form.Get("client_id") != "agent-1" {
				t.Fatalf("form: %v", form)
			}
			tok, err := jwt.ParseSigned(form.Get("client_assertion"), []jose.SignatureAlgorithm{jose.SignatureAlgorithm(c.want)})
			if err != nil {
				t.Fatal(err)
			}
			if h := tok.Headers[0]; h.KeyID != c.kid || h.Algorithm != c.want {
				t.Fatalf("header: %+v", h)
			}
			var cl jwt.Claims
			var raw map[string]any
			if err := tok.Claims(c.key.Public(), &cl, &raw); err != nil {
				t.Fatalf("signature: %v", err)
			}
			if raw["aud"] != "https://idp.example" { // one string, the issuer
				t.Fatalf("aud: %#v", raw["aud"])
			}
			if cl.Issuer != "agent-1" || cl.Subject != "agent-1" || cl.ID == "" || cl.IssuedAt == nil || cl.Expiry == nil {
				t.Fatalf("claims: %+v", cl)
			}
			if life := cl.Expiry.Time().Sub(cl.IssuedAt.Time()); life <= 0 || life > 5*time.Minute {
				t.Fatalf("lifetime %s", life)
			}
			if d := time.Since(cl.IssuedAt.Time()); d < -time.Second || d > 5*time.Second {
				t.Fatalf("iat %s ago", d)
			}
			if err := cl.Validate(jwt.Expected{Issuer: "agent-1", AnyAudience: jwt.Audience{"https://idp.example"}, Time: time.Now()}); err != nil {
				t.Fatal(err)
			}
			again := url.Values{}
			_ = auth.Apply(context.Background(), client.AuthTarget{ClientID: "agent-1", Issuer: "https://idp.example"}, again, http.Header{})
			tok2, _ := jwt.ParseSigned(again.Get("client_assertion"), []jose.SignatureAlgorithm{jose.SignatureAlgorithm(c.want)})
			var cl2 jwt.Claims
			_ = tok2.Claims(c.key.Public(), &cl2)
			if cl2.ID == cl.ID {
				t.Fatal("jti reused")
			}
		})
	}
	// From a private JWK; a public one is refused.
	jwk := jose.JSONWebKey{Key: ec, KeyID: "from-jwk", Algorithm: "ES256"}
	if _, err := client.PrivateKeyJWTFromJWK(jwk); err != nil {
		t.Fatal(err)
	}
	if _, err := client.PrivateKeyJWTFromJWK(jwk.Public()); err == nil {
		t.Fatal("a public JWK accepted")
	}
	if _, err := client.PrivateKeyJWT(ec, "RS256", ""); err == nil {
		t.Fatal("an EC key accepted for RS256")
	}
}

// The secret goes as HTTP Basic with id and secret form-encoded (RFC 6749 §2.3.1); grant,
// scope and resource in the form; never the secret in the form.
func TestTokenRequestSecret(t *testing.T) {
	idp := newFakeIdP(t, func(int, *http.Request, url.Values) (int, any, http.Header) { return bearer("t", 3600) })
	ts, _ := client.NewTokenSource(client.Config{Issuer: idp.URL, ClientID: "agent:1", Auth: client.ClientSecret("s/e+c r%t"),
		Scopes: []string{"a", "b"}, Resource: "https://api.example"})
	if _, err := ts.Token(); err != nil {
		t.Fatal(err)
	}
	id, secret, ok := idp.request(0).BasicAuth()
	if !ok || id != url.QueryEscape("agent:1") || secret != url.QueryEscape("s/e+c r%t") {
		t.Fatalf("basic: %q %q", id, secret)
	}
	f := idp.form(0)
	if f.Get("grant_type") != "client_credentials" || f.Get("scope") != "a b" || f.Get("resource") != "https://api.example" || f.Has("client_secret") {
		t.Fatalf("form: %v", f)
	}
}

// The federated token file is read again on every token request.
func TestFederatedTokenFileReadEachTime(t *testing.T) {
	idp := newFakeIdP(t, func(i int, _ *http.Request, _ url.Values) (int, any, http.Header) {
		return bearer(fmt.Sprint("t", i), 3600)
	})
	file := filepath.Join(t.TempDir(), "token")
	ts, _ := client.NewTokenSource(client.Config{Issuer: idp.URL, ClientID: "agent-1",
		Auth: client.FederatedTokenFile(file, client.AssertionTypeSPIFFE)})
	if _, err := ts.Token(); err == nil {
		t.Fatal("a missing file gave a token")
	}
	for i, content := range []string{"jwt-one\n", "jwt-two"} {
		if err := os.WriteFile(file, []byte(content), 0o600); err != nil {
			t.Fatal(err)
		}
		ts.Invalidate()
		if _, err := ts.Token(); err != nil {
			t.Fatal(err)
		}
		f := idp.form(i)
		if f.Get("client_assertion") != []string{"jwt-one", "jwt-two"}[i] || f.Get("client_id") != "agent-1" ||
			f.Get("client_assertion_type") != client.AssertionTypeSPIFFE {
			t.Fatalf("request %d: %v", i, f)
		}
	}
	_ = os.WriteFile(file, []byte("  \n"), 0o600)
	ts.Invalidate()
	if _, err := ts.Token(); err == nil {
		t.Fatal("an empty file gave a token")
	}
}

// When a refresh fails, the token that has not expired yet keeps serving, and the next
// attempt waits a second; once expired, the error comes through.
func TestTokenSourceFailedRefresh(t *testing.T) {
	var mu sync.Mutex
	fail := false
	idp := newFakeIdP(t, func(i int, _ *http.Request, _ url.Values) (int, any, http.Header) {
		mu.Lock()
		defer mu.Unlock()
		if fail {
			return 503, map[string]any{"error": "temporarily_unavailable"}, http.Header{"Retry-After": {"7"}}
		}
		return bearer(fmt.Sprint("t", i), 300)
	})
	ts, _ := client.NewTokenSource(client.Config{Issuer: idp.URL, ClientID: "a", Auth: client.ClientSecret("s")})
	clk := newClock()
	client.SetClock(ts, clk.Now)
	if tok, err := ts.Token(); err != nil || tok.AccessToken != "t0" {
		t.Fatal(tok, err)
	}
	mu.Lock()
	fail = true
	mu.Unlock()
	clk.Add(241 * time.Second) // a 300 s token is replaced after 240 s (a fifth before expiry)
	if tok, err := ts.Token(); err != nil || tok.AccessToken != "t0" {
		t.Fatalf("failed refresh: %v %v", tok, err)
	}
	n := idp.count()
	if _, err := ts.Token(); err != nil || idp.count() != n {
		t.Fatalf("retried at once after a failure (%d → %d requests)", n, idp.count())
	}
	clk.Add(60 * time.Second) // expired
	_, err := ts.Token()
	var te *client.TokenError
	if !errors.As(err, &te) || te.Status != 503 || te.RetryAfter != 7*time.Second {
		t.Fatalf("after expiry: %v", err)
	}
}

// A caller whose context ends stops waiting; the shared request goes on for the others.
func TestTokenSourceCallerCancelled(t *testing.T) {
	release := make(chan struct{})
	idp := newFakeIdP(t, func(int, *http.Request, url.Values) (int, any, http.Header) {
		<-release
		return bearer("t", 3600)
	})
	ts, _ := client.NewTokenSource(client.Config{Issuer: idp.URL, ClientID: "a", Auth: client.ClientSecret("s")})
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { _, err := ts.TokenContext(ctx); done <- err }()
	other := make(chan error, 1)
	go func() { _, err := ts.TokenContext(context.Background()); other <- err }()
	cancel()
	if err := <-done; !errors.Is(err, context.Canceled) {
		t.Fatalf("cancelled caller: %v", err)
	}
	close(release)
	if err := <-other; err != nil {
		t.Fatalf("the other caller: %v", err)
	}
	if idp.count() != 1 {
		t.Fatalf("%d token requests, want 1", idp.count())
	}
}

// With DPoP: the token request carries a proof for POST at the token endpoint (no ath),
// which the server's use_dpop_nonce answer makes it repeat once with the nonce; the answer's
// token_type DPoP is kept.
func TestTokenRequestDPoP(t *testing.T) {
	checker := &dpop.Checker{Replay: dpop.NewMemoryReplayCache()}
	var jkts []string
	var nonces []string
	idp := newFakeIdP(t, nil)
	idp.answer = func(i int, r *http.Request, _ url.Values) (int, any, http.Header) {
		res, err := checker.Check(r.Context(), dpop.Request{Proof: r.Header.Get("DPoP"), Method: "POST", URL: idp.URL + "/api/v1/token"})
		if err != nil {
			return 400, map[string]any{"error": "invalid_dpop_proof"}, nil
		}
		jkts, nonces = append(jkts, res.JKT), append(nonces, res.Claims.Nonce)
		if res.Claims.Nonce != "n-1" {
			return 400, map[string]any{"error": "use_dpop_nonce"}, http.Header{"Dpop-Nonce": {"n-1"}}
		}
		return 200, map[string]any{"access_token": "bound", "token_type": "DPoP", "expires_in": 3600}, nil
	}
	p, _ := dpop.GenerateProofer()
	ts, _ := client.NewTokenSource(client.Config{Issuer: idp.URL, ClientID: "a", Auth: client.ClientSecret("s"), DPoP: p})
	tok, err := ts.Token()
	if err != nil {
		t.Fatal(err)
	}
	if tok.TokenType != "DPoP" || len(jkts) != 2 || jkts[0] != p.Thumbprint() || nonces[0] != "" || nonces[1] != "n-1" {
		t.Fatalf("token %v, proofs %v %v", tok, jkts, nonces)
	}

	// A Bearer answer to a request with a proof: refused only when binding is required.
	idp2 := newFakeIdP(t, func(int, *http.Request, url.Values) (int, any, http.Header) { return bearer("b", 3600) })
	strict, _ := client.NewTokenSource(client.Config{Issuer: idp2.URL, ClientID: "a", Auth: client.ClientSecret("s"), DPoP: p, RequireDPoPBinding: true})
	if _, err := strict.Token(); err == nil {
		t.Fatal("a Bearer token accepted with RequireDPoPBinding")
	}
	lax, _ := client.NewTokenSource(client.Config{Issuer: idp2.URL, ClientID: "a", Auth: client.ClientSecret("s"), DPoP: p})
	if tok, err := lax.Token(); err != nil || tok.TokenType != "Bearer" {
		t.Fatal(tok, err)
	}
}

// Transport sends a bound token as "DPoP <token>" with a proof of the request (ath of the
// token), and repeats a request once when the resource server asks for a nonce.
func TestTransportDPoP(t *testing.T) {
	idp := newFakeIdP(t, func(int, *http.Request, url.Values) (int, any, http.Header) {
		return 200, map[string]any{"access_token": "bound", "token_type": "DPoP", "expires_in": 3600}, nil
	})
	checker := &dpop.Checker{Replay: dpop.NewMemoryReplayCache()}
	var bodies []string
	rs := newFakeIdP(t, nil) // its /api/v1/token path serves as the resource
	rs.answer = func(i int, r *http.Request, form url.Values) (int, any, http.Header) {
		bodies = append(bodies, form.Get("x"))
		if r.Header.Get("Authorization") != "DPoP bound" {
			return 401, map[string]any{}, nil
		}
		res, err := checker.Check(r.Context(), dpop.Request{Proof: r.Header.Get("DPoP"), Method: "POST", URL: rs.URL + "/api/v1/token", AccessToken: "bound"})
		if err != nil {
			return 401, map[string]any{"e": err.Error()}, nil
		}
		if res.Claims.Nonce != "rs-nonce" {
			return 401, map[string]any{}, http.Header{"Www-Authenticate": {`DPoP error="use_dpop_nonce"`}, "Dpop-Nonce": {"rs-nonce"}}
		}
		return 200, map[string]any{"ok": true}, nil
	}
	p, _ := dpop.GenerateProofer()
	ts, _ := client.NewTokenSource(client.Config{Issuer: idp.URL, ClientID: "a", Auth: client.ClientSecret("s"), DPoP: p})
	resp, err := ts.Client().PostForm(rs.URL+"/api/v1/token?q=1", url.Values{"x": {"body"}})
	if err != nil {
		t.Fatal(err)
	}
	var out map[string]any
	_ = json.NewDecoder(resp.Body).Decode(&out)
	resp.Body.Close()
	if resp.StatusCode != 200 || len(bodies) != 2 || bodies[1] != "body" {
		t.Fatalf("%d %v, bodies %q", resp.StatusCode, out, bodies)
	}
}

// Discovery: the RFC 8414 path insertion for an organization's issuer, and a document
// naming another issuer is refused.
func TestDiscovery(t *testing.T) {
	for in, want := range map[string]string{
		"https://idp.example":             "https://idp.example/.well-known/oauth-authorization-server",
		"https://idp.example/orgs/o-1":    "https://idp.example/.well-known/oauth-authorization-server/orgs/o-1",
		"http://127.0.0.1:8080/orgs/o-1/": "http://127.0.0.1:8080/.well-known/oauth-authorization-server/orgs/o-1",
	} {
		if got, err := client.MetadataURL(in); err != nil || got != want {
			t.Errorf("MetadataURL(%q) = %q %v", in, got, err)
		}
	}
	for _, bad := range []string{"idp.example", "ftp://idp.example", "https://idp.example?x=1"} {
		if _, err := client.MetadataURL(bad); err == nil {
			t.Errorf("MetadataURL(%q) accepted", bad)
		}
	}
	idp := newFakeIdP(t, nil)
	if _, err := client.Discover(context.Background(), nil, idp.URL+"/orgs/x"); err == nil {
		t.Fatal("no document for the org's issuer, yet discovered")
	}
	if m, err := client.Discover(context.Background(), nil, idp.URL); err != nil || m.TokenEndpoint != idp.URL+"/api/v1/token" {
		t.Fatal(m, err)
	}
	ts, _ := client.NewTokenSource(client.Config{Issuer: idp.URL + "/", ClientID: "a", Auth: client.ClientSecret("s")})
	if _, err := ts.Token(); err == nil {
		t.Fatal("a document naming another issuer was used")
	}
}
