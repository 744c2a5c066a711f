package client_test

import (
	"context"
	"errors"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/agentidp/agentidp/client"
	"github.com/agentidp/agentidp/client/internal/idptest"
)

// A token source with a client secret against the real server: discovery once, one token
// request, the token cached until its refresh time (60 s before expiry), then one request
// shared by every concurrent caller; the token calls the server's API through Transport.
func TestE2ESecretTokenSourceCachesAndRefreshes(t *testing.T) {
	srv := idptest.Shared(t)
	agent := srv.NewAgent(t, map[string]any{"allowed_scopes": []string{"agents:read"}})
	rt := &counting{}
	ts, err := client.NewTokenSource(client.Config{Issuer: srv.Issuer, ClientID: agent.ID,
		Auth: client.ClientSecret(agent.Secret), HTTPClient: &http.Client{Transport: rt}})
	if err != nil {
		t.Fatal(err)
	}
	clk := newClock()
	client.SetClock(ts, clk.Now)

	first, err := ts.Token()
	if err != nil {
		t.Fatal(err)
	}
	if first.TokenType != "Bearer" || first.AccessToken == "" || first.Extra("scope") != "agents:read" {
		t.Fatalf("token: %+v scope %v", first, first.Extra("scope"))
	}
	for range 5 {
		again, err := ts.Token()
		if err != nil || again.AccessToken != first.AccessToken {
			t.Fatalf("not cached: %v", err)
		}
	}
	if n := rt.count("/api/v1/token"); n != 1 {
		t.Fatalf("token requests: %d, want 1", n)
	}
	if n := rt.count("/.well-known/oauth-authorization-server"); n != 1 {
		t.Fatalf("discovery requests: %d, want 1", n)
	}

	// 3600 s token: still cached 3530 s on, replaced after 3541 s; 20 callers, one request.
	clk.Add(3530 * time.Second)
	if again, _ := ts.Token(); again.AccessToken != first.AccessToken {
		t.Fatal("refreshed too early")
	}
	clk.Add(11 * time.Second)
	var wg sync.WaitGroup
	got := make([]string, 20)
	for i := range got {
		wg.Add(1)
		go func() {
			defer wg.Done()
			tok, err := ts.TokenContext(context.Background())
			if err != nil {
				t.Error(err)
				return
			}
			got[i] = tok.AccessToken
		}()
	}
	wg.Wait()
	if n := rt.count("/api/v1/token"); n != 2 {
		t.Fatalf("token requests after the refresh time: %d, want 2 (one shared refresh)", n)
	}
	for _, g := range got {
		if g == first.AccessToken || g != got[0] {
			t.Fatal("callers did not all get the one new token")
		}
	}

	// The token works at the server's own API through Transport.
	resp, err := ts.Client().Get(srv.Issuer + "/api/v1/agents/" + agent.ID)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("GET agent with the source's token: %d", resp.StatusCode)
	}
}

// A wrong secret is the server's invalid_client, and the secret is in no error message.
func TestE2ESecretWrong(t *testing.T) {
	srv := idptest.Shared(t)
	agent := srv.NewAgent(t, nil)
	wrong := agent.Secret[:len(agent.Secret)-4] + "AAAA"
	ts, err := client.NewTokenSource(client.Config{Issuer: srv.Issuer, ClientID: agent.ID, Auth: client.ClientSecret(wrong)})
	if err != nil {
		t.Fatal(err)
	}
	_, err = ts.Token()
	var te *client.TokenError
	if !errors.As(err, &te) || te.Status != http.StatusUnauthorized || te.Code != "invalid_client" {
		t.Fatalf("want 401 invalid_client, got %v", err)
	}
	if strings.Contains(err.Error(), wrong) {
		t.Fatal("the secret is in the error")
	}
}

// Scope and resource reach the server: a scope the agent lacks is invalid_scope, an
// audience it may not have is invalid_target.
func TestE2ESecretScopeAndResource(t *testing.T) {
	srv := idptest.Shared(t)
	agent := srv.NewAgent(t, map[string]any{"allowed_scopes": []string{"agents:read"}})
	for _, c := range []struct {
		cfg  client.Config
		code string
	}{
		{client.Config{Scopes: []string{"agents:write"}}, "invalid_scope"},
		{client.Config{Resource: "https://not-registered.example"}, "invalid_target"},
	} {
		c.cfg.Issuer, c.cfg.ClientID, c.cfg.Auth = srv.Issuer, agent.ID, client.ClientSecret(agent.Secret)
		ts, err := client.NewTokenSource(c.cfg)
		if err != nil {
			t.Fatal(err)
		}
		_, err = ts.Token()
		var te *client.TokenError
		if !errors.As(err, &te) || te.Code != c.code {
			t.Fatalf("want %s, got %v", c.code, err)
		}
	}
}
