package metering_test

import (
	"errors"
	"net"
	"net/http"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/redis/go-redis/v9"

	"github.com/agentidp/agentidp/modules/agents"
	"github.com/agentidp/agentidp/platform/cache"
	"github.com/agentidp/agentidp/platform/testenv"
)

// deadCache is a Redis cache pointed at a port nobody listens on.
func deadCache(t *testing.T) cache.Cache {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	_ = ln.Close()
	client := redis.NewClient(&redis.Options{Addr: addr, MaxRetries: -1, DialTimeout: time.Second,
		DialerRetries: 1, DialerRetryTimeout: time.Millisecond})
	c := cache.NewRedis(client, "agentidp-test-dead:", nil)
	t.Cleanup(func() { _ = c.Close(); _ = client.Close() })
	return c
}

// With the cache down, the quota fails closed (an error wrapping cache.ErrUnavailable, so
// the token endpoint answers 503 and issues nothing uncounted); the rate limits fail open;
// the usage API answers from the store.
func TestIntegrationCacheUnavailable(t *testing.T) {
	for _, name := range []string{"postgres", "sqlite"} {
		t.Run(name, func(t *testing.T) {
			b := testenv.Backend{Name: name, Cache: deadCache(t)}
			if name == "postgres" {
				b.DB = testenv.Postgres(t)
			} else {
				b.DB = testenv.SQLite(t)
			}
			cfg := testenv.Config(t)
			cfg.AuthFailuresPerClientIP = 1
			cfg.TokenRateBurst = 1
			e := newEnv(t, b, envOptions{cfg: cfg})
			id := e.Dir.add(agents.PlanFree)
			unl := e.Dir.add(agents.PlanUnlimited)
			ctx := ctxFor(t)

			for _, a := range []struct{ id, plan string }{{id, "free"}, {unl, "unlimited"}} {
				err := e.Meter.ConsumeToken(ctx, a.id, a.plan)
				if !errors.Is(err, cache.ErrUnavailable) {
					t.Fatalf("ConsumeToken (%s) with the cache down: %v, want an error wrapping cache.ErrUnavailable", a.plan, err)
				}
			}
			for range 3 {
				if err := e.Meter.AllowTokenRequest(ctx, id); err != nil {
					t.Fatalf("AllowTokenRequest should fail open: %v", err)
				}
				e.Meter.RecordAuthFailure(ctx, id, "192.0.2.1")
				if err := e.Meter.CheckAuthFailures(ctx, id, "192.0.2.1"); err != nil {
					t.Fatalf("CheckAuthFailures needs no cache; with the cache down nothing is locked: %v", err)
				}
			}
			if got := e.metric(t, "agentidp_metering_cache_errors_total", map[string]string{"call": "consume_token"}); got != 2 {
				t.Fatalf("cache errors{consume_token} = %v, want 2", got)
			}
			if got := e.metric(t, "agentidp_metering_cache_errors_total", map[string]string{"call": "record_auth_failure"}); got != 3 {
				t.Fatalf("cache errors{record_auth_failure} = %v, want 3", got)
			}
			e.flush(t)

			reader := e.Bearers.Issue(uuid.NewString(), "usage:read")
			var u usageBody
			if st := e.get(t, "/api/v1/agents/"+id+"/usage", reader, &u); st != http.StatusOK {
				t.Fatalf("usage with the cache down: status %d", st)
			}
			if len(u.Months) == 0 || u.Months[0].TokensIssued != 0 {
				t.Fatalf("usage with the cache down: %+v", u.Months)
			}
		})
	}
}
