package cache_test

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"net/url"
	"os"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
	"go.uber.org/zap/zaptest"

	"github.com/agentidp/agentidp/platform/cache"
	"github.com/agentidp/agentidp/platform/cache/cachetest"
)

func TestContractMemory(t *testing.T) {
	cachetest.Run(t, func(t *testing.T) cache.Cache {
		m := cache.NewMemory()
		t.Cleanup(func() { _ = m.Close() })
		return m
	})
}

func TestContractRedis(t *testing.T) {
	client := redisForTest(t)
	cachetest.Run(t, func(t *testing.T) cache.Cache { return newRedisCache(t, client) })
}

// redisForTest returns a client of the Redis at AGENTIDP_TEST_REDIS_URL (default
// redis://127.0.0.1:6379/0), closed at the end of the test. When that Redis does not answer
// a PING the test fails under CI=true and is skipped otherwise, saying why.
// (To move to platform/testenv.)
func redisForTest(t testing.TB) *redis.Client {
	t.Helper()
	raw := os.Getenv("AGENTIDP_TEST_REDIS_URL")
	if raw == "" {
		raw = "redis://127.0.0.1:6379/0"
	}
	shown := "AGENTIDP_TEST_REDIS_URL"
	if u, err := url.Parse(raw); err == nil {
		shown = u.Redacted()
	}
	opt, err := redis.ParseURL(raw)
	if err != nil {
		t.Fatalf("AGENTIDP_TEST_REDIS_URL (%s): %v", shown, err)
	}
	client := redis.NewClient(opt)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	if err := client.Ping(ctx).Err(); err != nil {
		_ = client.Close()
		msg := fmt.Sprintf("Redis not reachable at %s (set AGENTIDP_TEST_REDIS_URL, or start redis-server): %v", shown, err)
		if os.Getenv("CI") == "true" {
			t.Fatal(msg + "; CI=true requires it")
		}
		t.Skip(msg)
	}
	t.Cleanup(func() { _ = client.Close() })
	return client
}

// newRedisCache returns a Redis cache on client under a fresh random key prefix; at the end
// of the test it stops the subscription and deletes every key under the prefix.
func newRedisCache(t testing.TB, client *redis.Client) *cache.Redis {
	t.Helper()
	prefix := uniquePrefix(t)
	r := cache.NewRedis(client, prefix, zaptest.NewLogger(t))
	t.Cleanup(func() {
		_ = r.Close()
		cleanPrefix(t, client, prefix)
	})
	return r
}

func uniquePrefix(t testing.TB) string {
	var b [8]byte
	if _, err := rand.Read(b[:]); err != nil {
		t.Fatal(err)
	}
	return "agentidp-test:" + hex.EncodeToString(b[:]) + ":"
}

func cleanPrefix(t testing.TB, client *redis.Client, prefix string) {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	iter := client.Scan(ctx, 0, prefix+"*", 500).Iterator()
	var keys []string
	for iter.Next(ctx) {
		keys = append(keys, iter.Val())
	}
	if err := iter.Err(); err != nil {
		t.Logf("cleaning keys under %s: %v", prefix, err)
		return
	}
	if len(keys) > 0 {
		if err := client.Del(ctx, keys...).Err(); err != nil {
			t.Logf("cleaning keys under %s: %v", prefix, err)
		}
	}
}
