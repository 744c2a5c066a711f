package cache_test

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/prometheus/client_golang/prometheus"
	"go.uber.org/fx"
	"go.uber.org/fx/fxtest"
	"go.uber.org/zap"
	"go.uber.org/zap/zaptest"

	"github.com/agentidp/agentidp/platform/cache"
	"github.com/agentidp/agentidp/platform/config"
)

func TestModuleGraph(t *testing.T) {
	err := fx.ValidateApp(
		cache.Module,
		fx.NopLogger,
		fx.Supply(&config.Config{}),
		fx.Provide(zap.NewNop),
		fx.Provide(func() prometheus.Registerer { return prometheus.NewRegistry() }),
		fx.Invoke(func(cache.Cache) {}),
	)
	if err != nil {
		t.Fatal(err)
	}
}

func TestNewMemoryWithMetrics(t *testing.T) {
	lc := fxtest.NewLifecycle(t)
	reg := prometheus.NewRegistry()
	c, err := cache.New(lc, &config.Config{}, zaptest.NewLogger(t), reg)
	if err != nil {
		t.Fatal(err)
	}
	// Several graphs in one process (replica tests) each have a registry of their own
	// (platform/metrics): a second cache counts in its own, and not in the first's.
	reg2 := prometheus.NewRegistry()
	c2, err := cache.New(lc, &config.Config{}, zaptest.NewLogger(t), reg2)
	if err != nil {
		t.Fatal("second New on its own registry:", err)
	}
	lc.RequireStart()
	defer lc.RequireStop()
	if c.Backend() != "memory" {
		t.Fatalf("Backend() = %q", c.Backend())
	}
	ctx := context.Background()
	_, _, _ = c.Get(ctx, "absent")
	_ = c.Set(ctx, "k", "v", 0)
	_, _, _ = c.Get(ctx, "k")
	_, _, _ = c.Get(ctx, "k")
	_, _, _ = c2.Get(ctx, "absent")
	for _, tc := range []struct {
		reg             *prometheus.Registry
		hit, miss, fail float64
	}{{reg, 2, 1, 0}, {reg2, 0, 1, 0}} {
		got := cacheOps(t, tc.reg)
		want := map[string]float64{
			"backend=memory,op=get,result=hit":   tc.hit,
			"backend=memory,op=get,result=miss":  tc.miss,
			"backend=memory,op=get,result=error": tc.fail,
		}
		if len(got) != len(want) {
			t.Fatalf("agentidp_cache_operations_total = %v; want %v", got, want)
		}
		for k, v := range want {
			if got[k] != v {
				t.Fatalf("agentidp_cache_operations_total = %v; want %v", got, want)
			}
		}
	}
}

// cacheOps reads agentidp_cache_operations_total from reg, by label set.
func cacheOps(t *testing.T, reg *prometheus.Registry) map[string]float64 {
	t.Helper()
	got := map[string]float64{}
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, mf := range mfs {
		if mf.GetName() != "agentidp_cache_operations_total" {
			continue
		}
		for _, m := range mf.GetMetric() {
			var labels []string
			for _, lp := range m.GetLabel() {
				labels = append(labels, lp.GetName()+"="+lp.GetValue())
			}
			got[strings.Join(labels, ",")] = m.GetCounter().GetValue()
		}
	}
	return got
}

func TestNewRedisDownAtBootStillStarts(t *testing.T) {
	lc := fxtest.NewLifecycle(t)
	cfg := &config.Config{
		RedisURL:       "redis://" + closedAddr(t) + "/0?dial_timeout=200ms&max_retries=-1",
		RedisKeyPrefix: "x:",
	}
	c, err := cache.New(lc, cfg, zaptest.NewLogger(t), prometheus.NewRegistry())
	if err != nil {
		t.Fatal(err)
	}
	lc.RequireStart()
	defer lc.RequireStop()
	if c.Backend() != "redis" {
		t.Fatalf("Backend() = %q", c.Backend())
	}
	if err := c.Ping(context.Background()); !errors.Is(err, cache.ErrUnavailable) {
		t.Fatalf("Ping = %v; want ErrUnavailable", err)
	}
	if _, _, err := c.Get(context.Background(), "k"); !errors.Is(err, cache.ErrUnavailable) {
		t.Fatalf("Get = %v; want ErrUnavailable", err)
	}
}

func TestNewBadRedisURL(t *testing.T) {
	lc := fxtest.NewLifecycle(t)
	_, err := cache.New(lc, &config.Config{RedisURL: "http://user:s3cret@host:6379"}, zap.NewNop(), nil)
	if err == nil {
		t.Fatal("no error for an unparsable AGENTIDP_REDIS_URL")
	}
	if msg := err.Error(); !strings.Contains(msg, "AGENTIDP_REDIS_URL") || strings.Contains(msg, "s3cret") || strings.Contains(msg, "\n") {
		t.Fatalf("error %q: want one line naming AGENTIDP_REDIS_URL, without the URL", msg)
	}
}

func TestNewRedis(t *testing.T) {
	client := redisForTest(t)
	lc := fxtest.NewLifecycle(t)
	prefix := uniquePrefix(t)
	t.Cleanup(func() { cleanPrefix(t, client, prefix) })
	cfg := &config.Config{RedisURL: "redis://" + client.Options().Addr + "/0", RedisKeyPrefix: prefix}
	c, err := cache.New(lc, cfg, zaptest.NewLogger(t), prometheus.NewRegistry())
	if err != nil {
		t.Fatal(err)
	}
	lc.RequireStart()
	ctx := context.Background()
	if err := c.Set(ctx, "k", "v", 0); err != nil {
		t.Fatal(err)
	}
	if v, err := client.Get(ctx, prefix+"k").Result(); err != nil || v != "v" {
		t.Fatalf("key not stored under the prefix: %q, %v", v, err)
	}
	lc.RequireStop()
	if err := c.Ping(ctx); !errors.Is(err, cache.ErrUnavailable) {
		t.Fatalf("Ping after stop = %v; want ErrUnavailable (client closed)", err)
	}
}
