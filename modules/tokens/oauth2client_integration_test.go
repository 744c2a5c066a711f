package tokens_test

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	jose "github.com/go-jose/go-jose/v4"
	"github.com/go-jose/go-jose/v4/jwt"
	"golang.org/x/oauth2"
	"golang.org/x/oauth2/clientcredentials"

	"github.com/agentidp/agentidp/modules/tokens"
	"github.com/agentidp/agentidp/platform/config"
	"github.com/agentidp/agentidp/platform/testenv"
)

// A stock OAuth client (golang.org/x/oauth2/clientcredentials) gets a token with scopes
// and a resource, and calls a protected route with it.
func TestIntegrationStockOAuthClient(t *testing.T) {
	testenv.ForEachBackend(t, func(t *testing.T, b testenv.Backend) {
		e := newEnv(t, b, nil)
		const rs = "https://api.example.com/orders"
		reader := e.newClient([]string{"agents:read", "usage:read"}, []string{rs})

		for _, style := range []oauth2.AuthStyle{oauth2.AuthStyleInHeader, oauth2.AuthStyleInParams} {
			cc := clientcredentials.Config{
				ClientID: reader.ID, ClientSecret: reader.Secret,
				TokenURL: e.app.URL + tokens.PathToken, Scopes: []string{"agents:read"}, AuthStyle: style,
			}
			ctx := context.WithValue(context.Background(), oauth2.HTTPClient, testenv.Client)
			tok, err := cc.Token(ctx)
			if err != nil {
				t.Fatalf("auth style %v: %v", style, err)
			}
			e.remember(tok.AccessToken)
			if tok.TokenType != "Bearer" || tok.Expiry.Before(time.Now().Add(50*time.Minute)) {
				t.Fatalf("token type %q, expiry %v", tok.TokenType, tok.Expiry)
			}
			if got := tok.Extra("scope"); got != "agents:read" {
				t.Fatalf("scope %v", got)
			}
			// The library's client sends the token; the API accepts it.
			res, err := cc.Client(ctx).Get(e.app.URL + "/api/v1/agents/" + reader.ID)
			if err != nil {
				t.Fatal(err)
			}
			body, _ := io.ReadAll(res.Body)
			res.Body.Close()
			if res.StatusCode != http.StatusOK || !strings.Contains(string(body), reader.ID) {
				t.Fatalf("GET agent with the library's token: %d %s", res.StatusCode, body)
			}
			// Its scope does not cover usage:read: 403, not 401.
			if s := e.apiStatus(tok.AccessToken, reader.ID); s != http.StatusOK {
				t.Fatalf("status %d", s)
			}
			if s := e.api(http.MethodGet, "/api/v1/usage", tok.AccessToken, nil).Status; s != http.StatusForbidden {
				t.Fatalf("usage with agents:read only: %d", s)
			}
		}

		// With EndpointParams resource: a token for the resource server, not for our API.
		// The resource is an allowed audience without a registered API: its tokens carry no
		// scope (version 1 put the agent's scopes of this server's API in them), and asking
		// for one is invalid_scope.
		cc := clientcredentials.Config{ClientID: reader.ID, ClientSecret: reader.Secret,
			TokenURL: e.app.URL + tokens.PathToken, Scopes: []string{"usage:read"},
			EndpointParams: url.Values{"resource": {rs}}}
		ctx := context.WithValue(context.Background(), oauth2.HTTPClient, testenv.Client)
		if _, err := cc.Token(ctx); err == nil || !strings.Contains(err.Error(), "invalid_scope") {
			t.Fatalf("a scope for an audience without an API: %v", err)
		}
		cc.Scopes = nil
		tok, err := cc.Token(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if got := tok.Extra("scope"); got != "" {
			t.Fatalf("scope %q, want none", got)
		}
		e.remember(tok.AccessToken)
		parsed, err := jwt.ParseSigned(tok.AccessToken, []jose.SignatureAlgorithm{jose.RS256})
		if err != nil {
			t.Fatal(err)
		}
		var cl jwt.Claims
		if err := parsed.UnsafeClaimsWithoutVerification(&cl); err != nil {
			t.Fatal(err)
		}
		if len(cl.Audience) != 1 || cl.Audience[0] != rs {
			t.Fatalf("aud %v, want %s", cl.Audience, rs)
		}
		// Not for this server's audience: the API refuses it.
		r := e.api(http.MethodGet, "/api/v1/agents/"+reader.ID, tok.AccessToken, nil)
		if r.Status != http.StatusUnauthorized || !strings.Contains(r.Header.Get("WWW-Authenticate"), `error="invalid_token"`) {
			t.Fatalf("token for another audience on the API: %d %q", r.Status, r.Header.Get("WWW-Authenticate"))
		}
		// Introspection (any audience) says it is active, with its audience.
		in := e.introspect(tok.AccessToken)
		if in["active"] != true || in["aud"] != rs || in["sub"] != reader.ID || in["client_id"] != reader.ID ||
			in["scope"] != nil || in["token_type"] != "Bearer" || in["iss"] != e.cfg.Issuer {
			t.Fatalf("introspection: %v", in)
		}
		e.assertNoLeaks()
	})
}

// An issued token verifies with the published JWKS using go-jose alone: typ, kid, alg and
// every RFC 9068 claim.
func TestIntegrationTokenVerifiesWithJWKS(t *testing.T) {
	for _, alg := range []string{"RS256", "ES256", "EdDSA"} {
		t.Run(alg, func(t *testing.T) {
			testenv.ForEachBackend(t, func(t *testing.T, b testenv.Backend) {
				e := newEnv(t, b, func(c *config.Config) { c.SigningAlg = alg })
				runJWKSCheck(t, e, alg)
			})
		})
	}
}

func runJWKSCheck(t *testing.T, e *env, wantAlg string) {
	t.Helper()
	c := e.newClient([]string{"agents:read", "tokens:introspect"}, nil)
	raw := e.token(c, "tokens:introspect agents:read", "")

	res, err := testenv.Client.Get(e.app.URL + tokens.PathJWKS)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	var set jose.JSONWebKeySet
	if err := json.NewDecoder(res.Body).Decode(&set); err != nil {
		t.Fatal(err)
	}
	if len(set.Keys) == 0 {
		t.Fatal("empty JWKS")
	}
	for _, k := range set.Keys {
		if !k.IsPublic() || k.Use != "sig" || k.KeyID == "" || k.Algorithm == "" {
			t.Fatalf("JWKS key %s: public %v use %q alg %q", k.KeyID, k.IsPublic(), k.Use, k.Algorithm)
		}
	}
	tok, err := jwt.ParseSigned(raw, []jose.SignatureAlgorithm{jose.RS256, jose.ES256, jose.EdDSA})
	if err != nil {
		t.Fatal(err)
	}
	h := tok.Headers[0]
	if h.Algorithm != wantAlg || h.ExtraHeaders["typ"] != "at+jwt" || h.KeyID == "" {
		t.Fatalf("header alg %q typ %v kid %q", h.Algorithm, h.ExtraHeaders["typ"], h.KeyID)
	}
	keys := set.Key(h.KeyID)
	if len(keys) != 1 {
		t.Fatalf("kid %s: %d keys in the JWKS", h.KeyID, len(keys))
	}
	var std jwt.Claims
	var extra struct {
		ClientID string `json:"client_id"`
		Scope    string `json:"scope"`
		Cid      string `json:"cid"`
	}
	if err := tok.Claims(keys[0].Key, &std, &extra); err != nil {
		t.Fatalf("signature does not verify with the JWKS key: %v", err)
	}
	if err := std.ValidateWithLeeway(jwt.Expected{Issuer: e.cfg.Issuer, Subject: c.ID,
		AnyAudience: jwt.Audience{e.cfg.Issuer}, Time: time.Now()}, 0); err != nil {
		t.Fatal(err)
	}
	if extra.ClientID != c.ID || extra.Scope != "tokens:introspect agents:read" || extra.Cid != c.CredentialID {
		t.Fatalf("claims %+v", extra)
	}
	if std.ID == "" || std.IssuedAt == nil || std.Expiry == nil ||
		std.Expiry.Time().Sub(std.IssuedAt.Time()) != e.cfg.TokenTTL {
		t.Fatalf("jti %q iat %v exp %v", std.ID, std.IssuedAt, std.Expiry)
	}
}
