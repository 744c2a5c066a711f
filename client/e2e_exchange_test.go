package client_test

import (
	"context"
	"errors"
	"net/http"
	"testing"

	"github.com/agentidp/agentidp/client"
	"github.com/agentidp/agentidp/client/internal/idptest"
)

// Exchange against the real server: B, listed in A's delegates, exchanges A's token for
// one that acts for A (it reads A's agent with it), narrowed to a scope; C, not a
// delegate, is refused with the server's invalid_request, and a wider scope with
// invalid_scope.
func TestE2EExchange(t *testing.T) {
	srv := idptest.Shared(t)
	srv.RequireFeature(t, "grant_types_supported", client.GrantTokenExchange, "the token exchange")
	a := srv.NewAgent(t, map[string]any{"allowed_scopes": []string{"agents:read", "credentials:read"}})
	b := srv.NewAgent(t, nil)
	c := srv.NewAgent(t, nil)
	srv.Call(t, http.MethodPatch, "/api/v1/agents/"+a.ID, map[string]any{"delegates": []string{b.ID}}, http.StatusOK, nil)
	subject := srv.Token(t, a.ID, a.Secret, nil)
	ctx := context.Background()

	ts, err := client.NewTokenSource(client.Config{Issuer: srv.Issuer, ClientID: b.ID, Auth: client.ClientSecret(b.Secret)})
	if err != nil {
		t.Fatal(err)
	}
	tok, err := ts.Exchange(ctx, subject, client.ExchangeOptions{Scopes: []string{"agents:read"}})
	if err != nil {
		t.Fatal(err)
	}
	if tok.TokenType != "Bearer" || tok.Extra("scope") != "agents:read" || tok.AccessToken == subject {
		t.Fatalf("exchanged token: %+v scope %v", tok, tok.Extra("scope"))
	}
	req, _ := http.NewRequest(http.MethodGet, srv.Issuer+"/api/v1/agents/"+a.ID, nil)
	tok.SetAuthHeader(req)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("GET the subject with the exchanged token: %d", resp.StatusCode)
	}

	var te *client.TokenError
	if _, err := ts.Exchange(ctx, subject, client.ExchangeOptions{Scopes: []string{"agents:write"}}); !errors.As(err, &te) || te.Code != "invalid_scope" {
		t.Fatalf("a wider scope: %v", err)
	}
	other, err := client.NewTokenSource(client.Config{Issuer: srv.Issuer, ClientID: c.ID, Auth: client.ClientSecret(c.Secret)})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := other.Exchange(ctx, subject, client.ExchangeOptions{}); !errors.As(err, &te) || te.Code != "invalid_request" {
		t.Fatalf("not a delegate: %v", err)
	}
}
