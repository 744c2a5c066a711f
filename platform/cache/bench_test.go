package cache_test

import (
	"context"
	"math"
	"testing"
	"time"

	"github.com/agentidp/agentidp/platform/cache"
)

// The hot-path operations of the token endpoint: the monthly quota counter and the per-agent
// rate limit. Run: go test -run '^$' -bench . -benchmem ./platform/cache/

func benchIncrUpTo(b *testing.B, c cache.Cache) {
	ctx := context.Background()
	for b.Loop() {
		if _, _, err := c.IncrUpTo(ctx, "monthly:tokens:agent:2026-01", 1, math.MaxInt64, time.Hour); err != nil {
			b.Fatal(err)
		}
	}
}

func benchAllow(b *testing.B, c cache.Cache) {
	ctx := context.Background()
	l := cache.Limit{Rate: 1e6, Burst: 1000}
	for b.Loop() {
		if _, err := c.Allow(ctx, "rate:token:agent", l); err != nil {
			b.Fatal(err)
		}
	}
}

func newMemoryBench(b *testing.B) cache.Cache {
	m := cache.NewMemory()
	b.Cleanup(func() { _ = m.Close() })
	return m
}

func BenchmarkMemoryIncrUpTo(b *testing.B) { benchIncrUpTo(b, newMemoryBench(b)) }
func BenchmarkMemoryAllow(b *testing.B)    { benchAllow(b, newMemoryBench(b)) }

func BenchmarkMemoryAllowParallel(b *testing.B) {
	c := newMemoryBench(b)
	l := cache.Limit{Rate: 1e6, Burst: 1000}
	keys := []string{"rate:a", "rate:b", "rate:c", "rate:d", "rate:e", "rate:f", "rate:g", "rate:h"}
	b.RunParallel(func(pb *testing.PB) {
		ctx := context.Background()
		i := 0
		for pb.Next() {
			if _, err := c.Allow(ctx, keys[i%len(keys)], l); err != nil {
				b.Fatal(err)
			}
			i++
		}
	})
}

func BenchmarkRedisIncrUpTo(b *testing.B) { benchIncrUpTo(b, newRedisCache(b, redisForTest(b))) }
func BenchmarkRedisAllow(b *testing.B)    { benchAllow(b, newRedisCache(b, redisForTest(b))) }
