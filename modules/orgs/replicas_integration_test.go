package orgs_test

import (
	"net/http"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
	"go.uber.org/zap"

	"github.com/agentidp/agentidp/platform/cache"
	"github.com/agentidp/agentidp/platform/testenv"
)

// An organization suspended on replica A stops its tokens on replica B within about a
// second also while Redis, which carries the broadcast, is cut: every replica polls the
// orgs table for what changed (platform/changefeed). Reactivated on A (Redis back, which
// the token endpoint's counters need), B lets new tokens through and still refuses the old
// ones.
func TestIntegrationSuspensionReachesReplicasWithoutRedis(t *testing.T) {
	db := testenv.Postgres(t)
	_, prefix := testenv.RedisClient(t)
	opts, err := redis.ParseURL(testenv.RedisURL())
	if err != nil {
		t.Fatal(err)
	}
	proxy := testenv.NewProxy(t, opts.Addr)
	viaProxy := func() cache.Cache { // each replica its own connections, through the proxy
		o := *opts
		o.Addr = proxy.Addr()
		c := cache.NewRedis(redis.NewClient(&o), prefix, zap.NewNop())
		t.Cleanup(func() { _ = c.Close() })
		return c
	}
	a := newEnv(t, testenv.Backend{Name: "postgres", DB: db, Cache: viaProxy()}, nil)
	b := a.replica(testenv.Backend{Name: "postgres", DB: db, Cache: viaProxy()})

	id, admin := a.newOrg("replicated")
	tok := a.token(admin, "")
	path := "/api/v1/orgs/" + id
	for range 3 { // B has the org (and the agent, the credential) in its caches
		b.must(http.StatusOK, http.MethodGet, path, tok, nil)
	}

	proxy.Cut() // no broadcast reaches B from now on
	a.must(http.StatusOK, http.MethodPost, path+"/suspend", a.rootTok, nil)
	// The poll runs every second; the margin is for a busy machine (the time is logged).
	took := eventually(t, 3*time.Second, "a suspended org's token refused on the other replica without Redis", func() bool {
		return b.api(http.MethodGet, path, tok, nil).Status == http.StatusUnauthorized
	})
	t.Logf("refused on replica B %s after the suspension on A", took.Round(10*time.Millisecond))
	if b.active(tok) {
		t.Fatal("introspection on B: a suspended org's token is active")
	}
	if r := b.tokenResponse(admin, ""); r.Status != http.StatusUnauthorized {
		t.Fatalf("token endpoint on B for a suspended org's agent: %d %s", r.Status, r.Body)
	}

	a.must(http.StatusOK, http.MethodPost, path+"/reactivate", a.rootTok, nil)
	proxy.Restore() // the token endpoint counts in Redis (503 without it)
	eventually(t, 5*time.Second, "a reactivated org's agent gets tokens on B", func() bool {
		return b.tokenResponse(admin, "").Status == http.StatusOK
	})
	fresh := b.token(admin, "")
	b.must(http.StatusOK, http.MethodGet, path, fresh, nil)
	if r := b.api(http.MethodGet, path, tok, nil); r.Status != http.StatusUnauthorized {
		t.Fatalf("a token from before the suspension came back on B: %d", r.Status)
	}
}
