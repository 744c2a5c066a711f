package testenv

import (
	"context"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
	"go.uber.org/zap/zaptest"

	"github.com/agentidp/agentidp/platform/cache"
)

// RedisURL is the Redis server tests use.
func RedisURL() string { return envOr("AGENTIDP_TEST_REDIS_URL", "redis://127.0.0.1:6379/0") }

// RedisClient returns a client to the test Redis and a key prefix unique to t; every key
// under the prefix is deleted at cleanup.
func RedisClient(t testing.TB) (*redis.Client, string) {
	t.Helper()
	opts, err := redis.ParseURL(RedisURL())
	if err != nil {
		t.Fatalf("testenv: AGENTIDP_TEST_REDIS_URL: %v", err)
	}
	client := redis.NewClient(opts)
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
	defer cancel()
	if err := client.Ping(ctx).Err(); err != nil {
		_ = client.Close()
		Unavailable(t, "Redis", err)
	}
	prefix := "agentidp-test:" + randomHex(6) + ":"
	t.Cleanup(func() {
		ctx := context.Background()
		iter := client.Scan(ctx, 0, prefix+"*", 500).Iterator()
		for iter.Next(ctx) {
			client.Del(ctx, iter.Val())
		}
		_ = client.Close()
	})
	return client, prefix
}

// RedisCache is the Redis-backed cache.Cache under a key prefix unique to t.
func RedisCache(t testing.TB) cache.Cache {
	t.Helper()
	client, prefix := RedisClient(t)
	c := cache.NewRedis(client, prefix, zaptest.NewLogger(t))
	t.Cleanup(func() { _ = c.Close() })
	return c
}

// MemoryCache is the in-process cache.Cache.
func MemoryCache(t testing.TB) cache.Cache {
	c := cache.NewMemory()
	t.Cleanup(func() { _ = c.Close() })
	return c
}
