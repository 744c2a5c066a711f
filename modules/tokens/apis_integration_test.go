package tokens_test

import (
	"context"
	"encoding/json"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
	"github.com/uptrace/bun"
	"go.uber.org/fx"
	"go.uber.org/zap"

	"github.com/agentidp/agentidp/modules/apis"
	"github.com/agentidp/agentidp/modules/orgs"
	"github.com/agentidp/agentidp/modules/tokens"
	"github.com/agentidp/agentidp/platform/cache"
	"github.com/agentidp/agentidp/platform/config"
	"github.com/agentidp/agentidp/platform/testenv"
)

// registerAPI registers an API with the admin's token (or bearer, when given) and returns
// its api_id and identifier.
func (e *env) registerAPI(body map[string]any, bearer ...string) (string, string) {
	e.t.Helper()
	tok := e.adminToken()
	if len(bearer) > 0 {
		tok = bearer[0]
	}
	var a struct {
		ID         string `json:"api_id"`
		Identifier string `json:"identifier"`
	}
	if err := json.Unmarshal(e.mustAPI(http.StatusCreated, http.MethodPost, apis.PathAPIs, tok, body).Body, &a); err != nil {
		e.t.Fatal(err)
	}
	return a.ID, a.Identifier
}

// grant sets an agent's grants through apis.Grants, inside a transaction, as the agents
// module does.
func (e *env) grant(org, agent string, grants ...apis.Grant) {
	e.t.Helper()
	err := e.b.DB.RunInTx(context.Background(), nil, func(ctx context.Context, tx bun.Tx) error {
		_, _, err := e.grants.SetInTx(ctx, tx, org, agent, grants)
		return err
	})
	if err != nil {
		e.t.Fatal(err)
	}
	e.grants.Committed(context.Background(), agent)
}

func apiScopes(values ...string) []map[string]string {
	out := make([]map[string]string, len(values))
	for i, v := range values {
		out[i] = map[string]string{"value": v}
	}
	return out
}

// introspectAs asks r about token with a bearer token holding tokens:introspect (no client
// authentication: nothing on the way needs Redis).
func (e *env) introspectAs(bearer, token string) map[string]any {
	e.t.Helper()
	r := e.post(tokens.PathIntrospect, url.Values{"token": {token}}, "Authorization", "Bearer "+bearer)
	if r.Status != http.StatusOK {
		e.t.Fatalf("introspection: %d %s", r.Status, r.Body)
	}
	return r.json(e.t)
}

// A token request for a registered API's identifier gets a token for that API: aud its
// identifier, the granted scopes (requested ones each granted), its lifetime, the api claim,
// never a scope of the server's own API; the server's own API refuses it; introspection
// describes it; a scope not granted is invalid_scope, an API neither granted nor in
// allowed_audiences invalid_target; with require_dpop a request without a valid proof is
// invalid_dpop_proof (dpop_integration_test.go has the rest).
func TestIntegrationTokensForAnAPI(t *testing.T) {
	testenv.ForEachBackend(t, func(t *testing.T, b testenv.Backend) {
		e := newEnv(t, b, nil)
		apiID, aud := e.registerAPI(map[string]any{"identifier": "https://Billing.example/", "name": "billing",
			"scopes": apiScopes("invoices:read", "invoices:write", "invoices:admin", "agents:read"), "token_ttl_seconds": 600})
		if aud != "https://billing.example" {
			t.Fatalf("identifier %q", aud)
		}
		c := e.newClient([]string{"agents:read", "usage:read"}, nil)
		e.grant(orgs.RootID, c.ID, apis.Grant{Audience: aud, Scopes: []string{"invoices:read", "invoices:write"}})

		// Default: every granted scope; any spelling of the identifier; its lifetime.
		for _, res := range []string{aud, "HTTPS://BILLING.EXAMPLE:443/"} {
			r := e.tokenResponse(c, "", res)
			m := r.json(t)
			if r.Status != http.StatusOK || m["scope"] != "invoices:read invoices:write" || m["expires_in"] != float64(600) {
				t.Fatalf("resource %s: %d %s", res, r.Status, r.Body)
			}
			tok := m["access_token"].(string)
			e.remember(tok)
			cl := claimsOf(t, tok)
			if cl["aud"] != aud || cl["api"] != apiID || cl["scope"] != "invoices:read invoices:write" || cl["org_id"] != orgs.RootID ||
				cl["exp"].(float64)-cl["iat"].(float64) != 600 {
				t.Fatalf("claims %v", cl)
			}
		}
		// The audience parameter works as resource does.
		if r := e.post(tokens.PathToken, url.Values{"grant_type": {"client_credentials"}, "audience": {aud}, "scope": {"invoices:write"}},
			"Authorization", basic(c.ID, c.Secret)); r.Status != http.StatusOK || r.json(t)["scope"] != "invoices:write" {
			t.Fatalf("audience: %d %s", r.Status, r.Body)
		}
		tok := e.token(c, "invoices:read", aud)
		if s := claimsOf(t, tok)["scope"]; s != "invoices:read" {
			t.Fatalf("requested scope: %v", s)
		}
		// Scopes not granted for this API, the API's own ones and the server's alike.
		for _, sc := range []string{"invoices:admin", "agents:read", "usage:read", "invoices:read agents:read"} {
			wantOAuthError(t, e.tokenResponse(c, sc, aud), http.StatusBadRequest, "invalid_scope")
		}
		// The server's own API refuses it (its aud is the API's); introspection shows it.
		if s := e.apiStatus(tok, c.ID); s != http.StatusUnauthorized {
			t.Fatalf("an API's token on the server's API: %d", s)
		}
		in := e.introspect(tok)
		if in["active"] != true || in["aud"] != aud || in["scope"] != "invoices:read" || in["org_id"] != orgs.RootID || in["sub"] != c.ID {
			t.Fatalf("introspection %v", in)
		}
		// The server's own tokens are as before.
		if r := e.tokenResponse(c, "", ""); r.Status != http.StatusOK || r.json(t)["scope"] != "agents:read usage:read" {
			t.Fatalf("own API: %d %s", r.Status, r.Body)
		}

		// An API the agent has no grant on: invalid_target, unless its identifier is in the
		// agent's allowed_audiences (then a token without scope, still the API's).
		otherID, other := e.registerAPI(map[string]any{"identifier": "https://orders.example", "name": "orders", "scopes": apiScopes("read")})
		wantOAuthError(t, e.tokenResponse(c, "", other), http.StatusBadRequest, "invalid_target")
		d := e.newClient([]string{}, []string{other})
		r := e.tokenResponse(d, "", other)
		if r.Status != http.StatusOK || r.json(t)["scope"] != "" || r.json(t)["expires_in"] != float64(3600) {
			t.Fatalf("allowed audience of an API: %d %s", r.Status, r.Body)
		}
		if cl := claimsOf(t, r.json(t)["access_token"].(string)); cl["api"] != otherID || cl["scope"] != "" {
			t.Fatalf("claims %v", cl)
		}
		wantOAuthError(t, e.tokenResponse(d, "read", other), http.StatusBadRequest, "invalid_scope")

		// Another org's API is not this agent's to ask for, whatever its identifier.
		org := e.insertOrg("team-apis")
		e.registerAPI(map[string]any{"identifier": "https://theirs.example", "name": "theirs", "scopes": apiScopes("read"), "org_id": org})
		wantOAuthError(t, e.tokenResponse(c, "", "https://theirs.example"), http.StatusBadRequest, "invalid_target")

		// Removing a scope from the API removes it from the grant: new tokens lack it, tokens
		// already issued keep it until they expire.
		before := e.token(c, "", aud)
		e.mustAPI(http.StatusOK, http.MethodPatch, apis.PathAPIs+"/"+apiID, e.adminToken(),
			map[string]any{"scopes": apiScopes("invoices:read", "invoices:admin")})
		if s := e.tokenResponse(c, "", aud).json(t)["scope"]; s != "invoices:read" {
			t.Fatalf("after the scope's removal: %v", s)
		}
		wantOAuthError(t, e.tokenResponse(c, "invoices:write", aud), http.StatusBadRequest, "invalid_scope")
		if in := e.introspect(before); in["active"] != true || in["scope"] != "invoices:read invoices:write" {
			t.Fatalf("a token issued before the scope's removal: %v", in)
		}

		// require_dpop: no proof, or a malformed one, is invalid_dpop_proof.
		e.mustAPI(http.StatusOK, http.MethodPatch, apis.PathAPIs+"/"+apiID, e.adminToken(), map[string]any{"require_dpop": true})
		wantOAuthError(t, e.tokenResponse(c, "", aud), http.StatusBadRequest, "invalid_dpop_proof")
		r = e.post(tokens.PathToken, url.Values{"grant_type": {"client_credentials"}, "resource": {aud}},
			"Authorization", basic(c.ID, c.Secret), "DPoP", "eyJhbGciOiJFUzI1NiJ9.e30.sig")
		wantOAuthError(t, r, http.StatusBadRequest, "invalid_dpop_proof")
		denied := false
		for _, row := range auditRows(t, b.DB, tokens.ActionTokenDenied) {
			denied = denied || row.Details["reason"] == "invalid_dpop_proof" && row.Details["api_id"] == apiID
		}
		if !denied {
			t.Fatal("no token.denied event for the DPoP refusal")
		}
		issued := false
		for _, row := range auditRows(t, b.DB, tokens.ActionTokenIssued) {
			issued = issued || row.Details["api_id"] == apiID && row.Details["aud"] == aud
		}
		if !issued {
			t.Fatal("no token.issued event naming the API")
		}

		// The discovery document lists the server's own scopes only.
		var meta struct {
			Scopes []string `json:"scopes_supported"`
		}
		if err := json.Unmarshal(e.api(http.MethodGet, tokens.PathOAuthMeta, "", nil).Body, &meta); err != nil {
			t.Fatal(err)
		}
		if len(meta.Scopes) != 12 || strings.Contains(strings.Join(meta.Scopes, " "), "invoices") {
			t.Fatalf("scopes_supported %v", meta.Scopes)
		}
		e.assertNoLeaks()
	})
}

// An API's token_ttl_seconds never makes a token outlive AGENTIDP_TOKEN_TTL (lowered after
// the API was registered).
func TestIntegrationAPITokenLifetimeBoundedByTheServer(t *testing.T) {
	testenv.ForEachBackend(t, func(t *testing.T, b testenv.Backend) {
		e := newEnv(t, b, nil)
		_, aud := e.registerAPI(map[string]any{"identifier": "https://long.example", "name": "long", "token_ttl_seconds": 3600})
		c := e.newClient([]string{}, nil)
		e.grant(orgs.RootID, c.ID, apis.Grant{Audience: aud})
		r := e.replica(func(c *config.Config) { c.TokenTTL = 15 * time.Minute })
		if got := r.tokenResponse(c, "", aud).json(t)["expires_in"]; got != float64(900) {
			t.Fatalf("expires_in %v, want 900", got)
		}
	})
}

// Deleting an API stops its tokens at once (introspection active:false); they stay dead
// when the identifier is registered again later for a new API, whose tokens work.
func TestIntegrationDeletedAPIStopsItsTokens(t *testing.T) {
	testenv.ForEachBackend(t, func(t *testing.T, b testenv.Backend) {
		e := newEnv(t, b, nil)
		apiID, aud := e.registerAPI(map[string]any{"identifier": "https://gone.example", "name": "gone", "scopes": apiScopes("read")})
		c := e.newClient([]string{}, nil)
		e.grant(orgs.RootID, c.ID, apis.Grant{Audience: aud, Scopes: []string{"read"}})
		tok := e.token(c, "", aud)
		if !e.active(tok) {
			t.Fatal("a new token is not active")
		}
		e.mustAPI(http.StatusNoContent, http.MethodDelete, apis.PathAPIs+"/"+apiID, e.adminToken(), nil)
		if in := e.introspect(tok); len(in) != 1 || in["active"] != false {
			t.Fatalf("a deleted API's token: %v", in)
		}
		wantOAuthError(t, e.tokenResponse(c, "", aud), http.StatusBadRequest, "invalid_target")

		// Registered again once its tokens could have expired (moved into the past here):
		// the old token stays dead; the new API's work once granted.
		if _, err := b.DB.NewRaw(`UPDATE apis SET reusable_at = ? WHERE api_id = ?`, time.Now().Add(-time.Second).UTC(), apiID).
			Exec(context.Background()); err != nil {
			t.Fatal(err)
		}
		newID, _ := e.registerAPI(map[string]any{"identifier": "https://gone.example", "name": "back", "scopes": apiScopes("read")})
		// The grant, this time through the agents API (agents:write and apis:write).
		e.mustAPI(http.StatusOK, http.MethodPatch, "/api/v1/agents/"+c.ID, e.adminToken(),
			map[string]any{"grants": []map[string]any{{"audience": "HTTPS://GONE.EXAMPLE/", "scopes": []string{"read"}}}})
		fresh := e.token(c, "", aud)
		if e.active(tok) || !e.active(fresh) || claimsOf(t, fresh)["api"] != newID {
			t.Fatalf("old %v, new %v", e.active(tok), e.active(fresh))
		}
	})
}

// Deleting an API stops its tokens on another replica within about a second also while
// Redis, which carries the broadcasts, is down there: every replica polls the apis table.
func TestIntegrationAPIDeletionReachesReplicasWithoutRedis(t *testing.T) {
	db := testenv.Postgres(t)
	client, prefix := testenv.RedisClient(t)
	log := zap.NewNop()
	direct := cache.NewRedis(client, prefix, log)
	t.Cleanup(func() { _ = direct.Close() })
	a := newEnv(t, testenv.Backend{Name: "postgres", DB: db, Cache: direct}, nil)

	proxy := testenv.NewProxy(t, client.Options().Addr)
	opts := *client.Options()
	opts.Addr = proxy.Addr()
	opts.MaxRetries = 0
	viaProxy := cache.NewRedis(redis.NewClient(&opts), prefix, log)
	t.Cleanup(func() { _ = viaProxy.Close() })
	cfg := *a.cfg
	cfg.HTTPAddr = "127.0.0.1:0"
	bb := testenv.Backend{Name: "postgres", DB: db, Cache: viaProxy}
	b := &env{t: t, b: bb, cfg: &cfg, logs: &testenv.Logs{}, admin: a.admin}
	b.app = testenv.NewApp(t, &cfg, bb, allModules(), fx.Populate(&b.keys, &b.verifier, &b.grants))

	apiID, aud := a.registerAPI(map[string]any{"identifier": "https://replicated.example", "name": "r", "scopes": apiScopes("read")})
	c := a.newClient([]string{}, nil)
	a.grant(orgs.RootID, c.ID, apis.Grant{Audience: aud, Scopes: []string{"read"}})
	tok := a.token(c, "", aud)
	admin := a.adminToken()
	for range 3 { // B has the token's agent, credential, org and API cached
		if in := b.introspectAs(admin, tok); in["active"] != true {
			t.Fatalf("replica B: %v", in)
		}
	}

	proxy.Cut() // no broadcast reaches B from now on
	a.mustAPI(http.StatusNoContent, http.MethodDelete, apis.PathAPIs+"/"+apiID, admin, nil)
	if a.active(tok) {
		t.Fatal("replica A: the deleted API's token is active")
	}
	// The poll runs every second; the margin is for a busy machine (and for B's requests,
	// slower while its Redis is away).
	start := time.Now()
	for time.Since(start) < 3*time.Second {
		sent := time.Since(start)
		if in := b.introspectAs(admin, tok); in["active"] == false {
			t.Logf("replica B refused the token: asked %s after the deletion, answered after %s",
				sent.Round(10*time.Millisecond), time.Since(start).Round(10*time.Millisecond))
			return
		}
		time.Sleep(50 * time.Millisecond)
	}
	t.Fatalf("replica B still accepts the deleted API's token %s after the deletion", time.Since(start).Round(time.Millisecond))
}
