// Package cache gives the modules the small shared-state interfaces they need: keys with
// a TTL, atomic counters, a rate limiter and a broadcast channel for cache invalidation
// across replicas. With AGENTIDP_REDIS_URL set they are backed by Redis (go-redis v9);
// otherwise by an in-process implementation with the same behaviour, checked by one
// contract suite (contract_test.go) that runs against both.
package cache

import (
	"context"
	"errors"
	"time"
)

// ErrUnavailable wraps every failure to reach the backing store, so that callers can answer
// 503 (or fall back to the durable store) without knowing which backend is in use.
var ErrUnavailable = errors.New("cache unavailable")

// KV stores string values under keys, each with an optional TTL (0 means no expiry).
type KV interface {
	// Get returns the value and true, or "" and false when the key is absent or expired.
	Get(ctx context.Context, key string) (string, bool, error)
	Set(ctx context.Context, key, value string, ttl time.Duration) error
	// SetNX sets the key only when it is absent and reports whether it did.
	SetNX(ctx context.Context, key, value string, ttl time.Duration) (bool, error)
	Delete(ctx context.Context, keys ...string) error
}

// Counters are atomic integer counters that expire.
type Counters interface {
	// IncrBy adds n to the counter (creating it at 0) and returns the new value. The TTL
	// is set when the counter is created and left alone afterwards; 0 means no expiry.
	IncrBy(ctx context.Context, key string, n int64, ttl time.Duration) (int64, error)
	// IncrUpTo adds n only if the result stays ≤ limit, atomically; it returns the value
	// after the call and whether the increment happened. Concurrent callers can never push
	// the counter past limit.
	IncrUpTo(ctx context.Context, key string, n, limit int64, ttl time.Duration) (int64, bool, error)
	// GetCount returns the counter's value, 0 when absent.
	GetCount(ctx context.Context, key string) (int64, error)
	// SetCountIfAbsent seeds a counter (e.g. restored from the database after a cache loss)
	// unless it already exists; it reports whether it set it.
	SetCountIfAbsent(ctx context.Context, key string, value int64, ttl time.Duration) (bool, error)
}

// Limit is a token bucket: Rate events per second on average, bursts of up to Burst. Rate
// must be > 0 (math.Inf(1): unlimited) and Burst ≥ 1; Allow rejects anything else
// with an error that does not wrap ErrUnavailable.
type Limit struct {
	Rate  float64
	Burst int
}

// PerWindow is a Limit allowing n events per window, all of which may come at once.
func PerWindow(n int, window time.Duration) Limit {
	return Limit{Rate: float64(n) / window.Seconds(), Burst: n}
}

// Decision is a rate limiter's answer.
type Decision struct {
	Allowed    bool
	Remaining  int           // events still allowed at once after this one; 0 when refused
	RetryAfter time.Duration // > 0 when not allowed: wait this long before trying again
}

// RateLimiter decides whether one more event under key fits its Limit (GCRA / token bucket).
type RateLimiter interface {
	Allow(ctx context.Context, key string, limit Limit) (Decision, error)
}

// Admitter applies a rate limit and a capped counter in one call (one round trip on Redis),
// for a hot path that needs both: the token endpoint's per-agent rate and monthly quota.
type Admitter interface {
	// AllowIncrUpTo is Allow(rateKey, limit) followed, only when that allows the event, by
	// IncrUpTo(counterKey, n, max, ttl), whose value and outcome it returns. When the rate
	// limit refuses, the counter is not touched (0, false).
	AllowIncrUpTo(ctx context.Context, rateKey string, limit Limit, counterKey string,
		n, max int64, ttl time.Duration) (Decision, int64, bool, error)
}

// Broadcaster delivers messages to every replica's subscribers, including this one's.
// Delivery is best effort (Redis pub/sub): subscribers use it to drop cached entries, and
// every cache that listens also expires its entries on its own.
type Broadcaster interface {
	Publish(ctx context.Context, channel string, payload []byte) error
	// Subscribe calls fn for every message on channel until the returned function is
	// called. fn runs on the subscriber's goroutine and must not block for long.
	// The subscription takes effect shortly after Subscribe returns (Redis: once the
	// server has processed it); the returned function may be called more than once.
	Subscribe(channel string, fn func(payload []byte)) (unsubscribe func())
}

// Cache is everything above, as one value provided by Module.
type Cache interface {
	KV
	Counters
	RateLimiter
	Admitter
	Broadcaster
	// Ping checks the backing store (readiness).
	Ping(ctx context.Context) error
	// Backend names the implementation: "redis" or "memory".
	Backend() string
}
