package agents

import (
	"bytes"
	"context"
	"errors"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/redis/go-redis/v9"
	"github.com/uptrace/bun"
	"go.uber.org/fx"
	"go.uber.org/zap/zaptest"

	"github.com/agentidp/agentidp/platform/cache"
	"github.com/agentidp/agentidp/platform/config"
	"github.com/agentidp/agentidp/platform/database"
	"github.com/agentidp/agentidp/platform/testenv"
)

// lookupsLive makes the Directory of the env keep entries for ttl (an hour: only an
// invalidation can make it see a change).
func lookupsLive(ttl time.Duration) fx.Option { return fx.Supply(lookupTTL(ttl)) }

func TestIntegrationDirectory(t *testing.T) {
	testenv.ForEachBackend(t, func(t *testing.T, b testenv.Backend) {
		e := newEnv(t, b, nil, lookupsLive(time.Hour))
		ctx := t.Context()

		for _, id := range []string{uuid.NewString(), "not-a-uuid", "", "' OR 1=1 --"} {
			if _, err := e.dir.Lookup(ctx, id); !errors.Is(err, ErrNotFound) {
				t.Errorf("Lookup(%q): %v, want ErrNotFound", id, err)
			}
		}

		// A cached "not found" gives way to the created agent (explicit id via the
		// Provisioner, looked up before it existed).
		preID := uuid.NewString()
		if _, err := e.dir.Lookup(ctx, preID); !errors.Is(err, ErrNotFound) {
			t.Fatal(err)
		}
		err := b.DB.RunInTx(ctx, nil, func(ctx context.Context, tx bun.Tx) error {
			_, err := e.prov.CreateInTx(ctx, tx, NewAgent{ID: preID, Name: "early", Plan: PlanUnlimited})
			return err
		})
		if err != nil {
			t.Fatal(err)
		}
		if got, err := e.dir.Lookup(ctx, preID); err != nil || got.Name != "early" {
			t.Fatalf("after create: %+v %v", got, err)
		}

		a := e.create(map[string]any{"name": "cached", "allowed_scopes": []string{"agents:read"}})
		got, err := e.dir.Lookup(ctx, a.ID)
		if err != nil || got.Name != "cached" || got.Status != StatusActive || got.AllowedScopes[0] != "agents:read" {
			t.Fatalf("Lookup: %+v %v", got, err)
		}
		if up, err := e.dir.Lookup(ctx, strings.ToUpper(a.ID)); err != nil || up.ID != a.ID {
			t.Errorf("upper-case Lookup: %+v %v", up, err)
		}

		// Every change through the API is visible at once.
		e.do(http.MethodPatch, "/api/v1/agents/"+a.ID, e.admin, map[string]any{"name": "renamed", "allowed_scopes": []string{}}).agent(t, 200)
		if got, _ := e.dir.Lookup(ctx, a.ID); got.Name != "renamed" || len(got.AllowedScopes) != 0 {
			t.Errorf("after PATCH: %+v", got)
		}
		e.do(http.MethodPost, "/api/v1/agents/"+a.ID+"/suspend", e.admin, nil).agent(t, 200)
		if got, _ := e.dir.Lookup(ctx, a.ID); got.Status != StatusSuspended || got.TokensNotBefore.IsZero() {
			t.Errorf("after suspend: %+v", got)
		}
		e.do(http.MethodPost, "/api/v1/agents/"+a.ID+"/reactivate", e.admin, nil).agent(t, 200)
		if got, _ := e.dir.Lookup(ctx, a.ID); got.Status != StatusActive {
			t.Errorf("after reactivate: %+v", got)
		}
		e.do(http.MethodDelete, "/api/v1/agents/"+a.ID, e.admin, nil)
		if got, _ := e.dir.Lookup(ctx, a.ID); got.Status != StatusDecommissioned {
			t.Errorf("after delete: %+v", got)
		}

	})
}

// An entry expires on its own after the TTL (a change made behind the module's back is
// seen only then).
func TestIntegrationDirectoryEntryExpires(t *testing.T) {
	testenv.ForEachBackend(t, func(t *testing.T, b testenv.Backend) {
		e := newEnv(t, b, nil, lookupsLive(50*time.Millisecond))
		ctx := t.Context()
		b2 := e.create(map[string]any{"name": "behind"})
		if _, err := e.dir.Lookup(ctx, b2.ID); err != nil {
			t.Fatal(err)
		}
		if _, err := b.DB.ExecContext(ctx, `UPDATE agents SET name = 'edited' WHERE agent_id = ?`, b2.ID); err != nil {
			t.Fatal(err)
		}
		if !eventually(2*time.Second, func() bool { got, _ := e.dir.Lookup(ctx, b2.ID); return got.Name == "edited" }) {
			t.Error("the cached entry never expired")
		}
	})
}

// Two replicas on one PostgreSQL and one Redis: a change made through one is seen by the
// other's Directory within a second, through the broadcast (its own entries would live
// for an hour).
func TestIntegrationDirectoryAcrossReplicas(t *testing.T) {
	dbURL := testenv.PostgresURL(t)
	client1, prefix := testenv.RedisClient(t)
	opts, err := redis.ParseURL(testenv.RedisURL())
	if err != nil {
		t.Fatal(err)
	}
	client2 := redis.NewClient(opts)
	t.Cleanup(func() { _ = client2.Close() })

	replica := func(client *redis.Client) testenv.Backend {
		db, err := database.OpenPostgres(context.Background(), dbURL, 5, 2, time.Minute)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = db.Close() })
		c := cache.NewRedis(client, prefix, zaptest.NewLogger(t))
		t.Cleanup(func() { _ = c.Close() })
		return testenv.Backend{Name: "postgres", DB: db, Cache: c}
	}
	b1, b2 := replica(client1), replica(client2)
	// Replicas share the master key (the audit module's key is sealed under it).
	sameMasterKey := func(c *config.Config) { c.MasterKey = bytes.Repeat([]byte{3}, 32) }
	one := newEnv(t, b1, sameMasterKey)
	two := newEnv(t, b2, sameMasterKey, lookupsLive(time.Hour))
	ctx := t.Context()

	a := one.create(map[string]any{"name": "shared"})
	if got, err := two.dir.Lookup(ctx, a.ID); err != nil || got.Name != "shared" {
		t.Fatalf("replica two: %+v %v", got, err)
	}
	steps := []struct {
		name  string
		do    func()
		check func(*Agent) bool
	}{
		{"patch", func() {
			one.do(http.MethodPatch, "/api/v1/agents/"+a.ID, one.admin, map[string]any{"name": "renamed"}).agent(t, 200)
		}, func(g *Agent) bool { return g.Name == "renamed" }},
		{"suspend", func() {
			one.do(http.MethodPost, "/api/v1/agents/"+a.ID+"/suspend", one.admin, nil).agent(t, 200)
		}, func(g *Agent) bool { return g.Status == StatusSuspended && !g.TokensNotBefore.IsZero() }},
		{"decommission", func() { one.do(http.MethodDelete, "/api/v1/agents/"+a.ID, one.admin, nil) },
			func(g *Agent) bool { return g.Status == StatusDecommissioned }},
	}
	for _, s := range steps {
		if got, _ := two.dir.Lookup(ctx, a.ID); s.check(got) {
			t.Fatalf("%s: replica two already sees the change before it is made", s.name)
		}
		s.do()
		if !eventually(time.Second, func() bool { got, _ := two.dir.Lookup(ctx, a.ID); return s.check(got) }) {
			got, _ := two.dir.Lookup(ctx, a.ID)
			t.Errorf("%s: replica two still sees %+v after a second", s.name, got)
		}
	}
}
