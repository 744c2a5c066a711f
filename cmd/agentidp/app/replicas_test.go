package app_test

import (
	"net/http"
	"net/url"
	"testing"
	"time"

	"go.uber.org/fx"
	"go.uber.org/fx/fxevent"
	"go.uber.org/fx/fxtest"

	"github.com/agentidp/agentidp/cmd/agentidp/app"
	"github.com/agentidp/agentidp/platform/config"
	"github.com/agentidp/agentidp/platform/httpserver"
	"github.com/agentidp/agentidp/platform/testenv"
)

// secondReplica starts another server on cfg's stores (cfg is the replica's own copy, with
// its own listen address): the admin exists already, so it bootstraps nothing.
func secondReplica(t *testing.T, cfg *config.Config) string {
	t.Helper()
	var srv *httpserver.Server
	a := fxtest.New(t, app.Options(cfg, fx.Populate(&srv)),
		fx.WithLogger(func() fxevent.Logger { return fxevent.NopLogger }))
	a.RequireStart()
	t.Cleanup(a.RequireStop)
	return srv.URL()
}

// Suspending an agent and revoking a credential stop their tokens on another replica
// within about a second also while Redis, which carries the broadcasts, is down: every
// replica polls the agents and credentials tables for what changed (platform/changefeed).
func TestIntegrationStatusReachesReplicasWithoutRedis(t *testing.T) {
	cfg := testenv.Config(t)
	cfg.DatabaseURL = testenv.PostgresURL(t)
	_, prefix := testenv.RedisClient(t)
	var redisProxy *testenv.Proxy
	cfg.RedisURL, redisProxy = viaProxy(t, testenv.RedisURL())
	cfg.RedisKeyPrefix = prefix
	a, boot, _ := fullApp(t, cfg)
	second := *cfg
	second.HTTPAddr = "127.0.0.1:0"
	b := secondReplica(t, &second)

	code, out := form(t, a, "/api/v1/token", url.Values{"grant_type": {"client_credentials"}}, boot.ClientID, boot.ClientSecret, "")
	if code != 200 {
		t.Fatalf("admin token: %d %v", code, out)
	}
	admin := api{t: t, base: a, token: out["access_token"].(string)}
	newAgent := func(name string) (id, credID, token string) {
		id = admin.do("POST", "/api/v1/agents", `{"name":"`+name+`","allowed_scopes":["agents:read"]}`, 201)["agent_id"].(string)
		cred := admin.do("POST", "/api/v1/agents/"+id+"/credentials", ``, 201)
		_, tok := form(t, a, "/api/v1/token", url.Values{"grant_type": {"client_credentials"}}, id, cred["client_secret"].(string), "")
		return id, cred["credential_id"].(string), tok["access_token"].(string)
	}
	suspended, _, suspendedTok := newAgent("to-suspend")
	revokedOwner, revokedCred, revokedTok := newAgent("to-revoke")
	// Replica B has both agents and credentials in its caches (the second use of a token
	// reads its credential from the agent's cached entry).
	for _, c := range []struct{ id, tok string }{{suspended, suspendedTok}, {revokedOwner, revokedTok}} {
		for range 3 {
			if s := status(t, "GET", b+"/api/v1/agents/"+c.id, c.tok, ""); s != http.StatusOK {
				t.Fatalf("warming replica B: %d", s)
			}
		}
	}

	redisProxy.Cut() // no broadcast reaches B from now on
	admin.do("POST", "/api/v1/agents/"+suspended+"/suspend", ``, 200)
	stoppedWithin(t, b+"/api/v1/agents/"+suspended, suspendedTok, "a suspended agent's token on another replica without Redis")
	admin.do("DELETE", "/api/v1/agents/"+revokedOwner+"/credentials/"+revokedCred, ``, 204)
	stoppedWithin(t, b+"/api/v1/agents/"+revokedOwner, revokedTok, "a revoked credential's token on another replica without Redis")
}

// stoppedWithin waits until the token is refused at u (401), and fails when that takes
// more than three seconds: the poll runs every second, the margin is for a busy machine.
func stoppedWithin(t *testing.T, u, token, what string) {
	t.Helper()
	start := time.Now()
	for time.Since(start) < 3*time.Second {
		if status(t, "GET", u, token, "") == http.StatusUnauthorized {
			t.Logf("%s: refused after %s", what, time.Since(start).Round(10*time.Millisecond))
			return
		}
		time.Sleep(50 * time.Millisecond)
	}
	t.Fatalf("%s: still accepted %s after the change", what, time.Since(start).Round(time.Millisecond))
}
