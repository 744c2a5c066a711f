// Package cachetest is the contract suite of cache.Cache, in the manner of Dex's storage
// conformance tests: one suite, handed a factory of fresh caches, runs against every
// backend, so that the in-process cache and the Redis one cannot drift apart.
package cachetest

import (
	"context"
	"errors"
	"fmt"
	"math"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/agentidp/agentidp/platform/cache"
)

// Run runs the whole suite. newCache must return a fresh, empty cache for each subtest (for
// Redis: a unique key prefix) and register its own cleanup with t.Cleanup. Timing-based
// checks use windows of 100–300 ms and wait for effects instead of asserting speed.
func Run(t *testing.T, newCache func(t *testing.T) cache.Cache) {
	tests := []struct {
		name string
		run  func(t *testing.T, c cache.Cache)
	}{
		{"KV/GetSet", testGetSet},
		{"KV/TTL", testTTL},
		{"KV/SetNX", testSetNX},
		{"KV/Delete", testDelete},
		{"Counters/IncrBy", testIncrBy},
		{"Counters/IncrByTTLOnCreateOnly", testIncrByTTL},
		{"Counters/IncrUpTo", testIncrUpTo},
		{"Counters/IncrUpToConcurrent", testIncrUpToConcurrent},
		{"Counters/SetCountIfAbsent", testSetCountIfAbsent},
		{"Counters/SharedKeyspace", testSharedKeyspace},
		{"RateLimiter/BurstThenRefuse", testBurstThenRefuse},
		{"RateLimiter/Refill", testRefill},
		{"RateLimiter/IndependentKeys", testIndependentKeys},
		{"RateLimiter/InvalidLimit", testInvalidLimit},
		{"Admitter/RateThenCounter", testAllowIncrUpTo},
		{"Admitter/CounterCap", testAllowIncrUpToCap},
		{"Admitter/Errors", testAllowIncrUpToErrors},
		{"Broadcast", testBroadcast},
		{"Ping", testPing},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) { tc.run(t, newCache(t)) })
	}
}

func ctxFor(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	t.Cleanup(cancel)
	return ctx
}

// eventually polls cond every 10 ms until it holds or timeout passes.
func eventually(t *testing.T, timeout time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("after %v: %s", timeout, what)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// must(v, err).ok(t) is v, or fails the test on err.
func must[T any](v T, err error) result[T] { return result[T]{v, err} }

type result[T any] struct {
	v   T
	err error
}

func (r result[T]) ok(t *testing.T) T {
	t.Helper()
	if r.err != nil {
		t.Fatalf("unexpected error: %v", r.err)
	}
	return r.v
}

func noErr(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatalf("unexpected error: %v", err)
	}
}

func wantValue(t *testing.T, c cache.Cache, key, want string) {
	t.Helper()
	got, ok, err := c.Get(ctxFor(t), key)
	noErr(t, err)
	if !ok || got != want {
		t.Fatalf("Get(%q) = %q, %v; want %q, true", key, got, ok, want)
	}
}

func wantAbsent(t *testing.T, c cache.Cache, key string) {
	t.Helper()
	got, ok, err := c.Get(ctxFor(t), key)
	noErr(t, err)
	if ok || got != "" {
		t.Fatalf("Get(%q) = %q, %v; want absent", key, got, ok)
	}
}

func present(t *testing.T, c cache.Cache, key string) bool {
	t.Helper()
	_, ok, err := c.Get(ctxFor(t), key)
	noErr(t, err)
	return ok
}

func testGetSet(t *testing.T, c cache.Cache) {
	ctx := ctxFor(t)
	wantAbsent(t, c, "k")
	noErr(t, c.Set(ctx, "k", "v1", 0))
	wantValue(t, c, "k", "v1")
	noErr(t, c.Set(ctx, "k", "v2", time.Minute))
	wantValue(t, c, "k", "v2")
	noErr(t, c.Set(ctx, "empty", "", 0))
	wantValue(t, c, "empty", "")
	bin := string([]byte{0, 1, 0xff, '\n', ' '})
	noErr(t, c.Set(ctx, "bin", bin, 0))
	wantValue(t, c, "bin", bin)
}

func testTTL(t *testing.T, c cache.Cache) {
	ctx := ctxFor(t)
	noErr(t, c.Set(ctx, "short", "1", 250*time.Millisecond))
	noErr(t, c.Set(ctx, "forever", "2", 0))
	noErr(t, c.Set(ctx, "long", "3", time.Minute))
	// A later Set without a TTL clears the earlier one.
	noErr(t, c.Set(ctx, "cleared", "4", 250*time.Millisecond))
	noErr(t, c.Set(ctx, "cleared", "5", 0))
	wantValue(t, c, "short", "1")
	eventually(t, 3*time.Second, "key with a 250ms TTL still present", func() bool {
		return !present(t, c, "short")
	})
	wantValue(t, c, "forever", "2")
	wantValue(t, c, "long", "3")
	wantValue(t, c, "cleared", "5")
}

func testSetNX(t *testing.T, c cache.Cache) {
	ctx := ctxFor(t)
	if !must(c.SetNX(ctx, "nx", "first", 200*time.Millisecond)).ok(t) {
		t.Fatal("SetNX on an absent key = false")
	}
	if must(c.SetNX(ctx, "nx", "second", 0)).ok(t) {
		t.Fatal("SetNX on a present key = true")
	}
	wantValue(t, c, "nx", "first")
	eventually(t, 3*time.Second, "SetNX key with a 200ms TTL still present", func() bool {
		return !present(t, c, "nx")
	})
	if !must(c.SetNX(ctx, "nx", "third", 0)).ok(t) {
		t.Fatal("SetNX after expiry = false")
	}
	wantValue(t, c, "nx", "third")
}

func testDelete(t *testing.T, c cache.Cache) {
	ctx := ctxFor(t)
	noErr(t, c.Set(ctx, "a", "1", 0))
	noErr(t, c.Set(ctx, "b", "2", time.Minute))
	_ = must(c.IncrBy(ctx, "n", 5, 0)).ok(t)
	noErr(t, c.Set(ctx, "keep", "3", 0))
	noErr(t, c.Delete(ctx, "a", "b", "n", "never-set"))
	noErr(t, c.Delete(ctx))
	wantAbsent(t, c, "a")
	wantAbsent(t, c, "b")
	if n := must(c.GetCount(ctx, "n")).ok(t); n != 0 {
		t.Fatalf("GetCount after Delete = %d, want 0", n)
	}
	wantValue(t, c, "keep", "3")
}

func testIncrBy(t *testing.T, c cache.Cache) {
	ctx := ctxFor(t)
	if n := must(c.GetCount(ctx, "c")).ok(t); n != 0 {
		t.Fatalf("GetCount(absent) = %d, want 0", n)
	}
	for _, step := range []struct{ n, want int64 }{{1, 1}, {4, 5}, {-2, 3}, {0, 3}} {
		if got := must(c.IncrBy(ctx, "c", step.n, 0)).ok(t); got != step.want {
			t.Fatalf("IncrBy(%d) = %d, want %d", step.n, got, step.want)
		}
	}
	if n := must(c.GetCount(ctx, "c")).ok(t); n != 3 {
		t.Fatalf("GetCount = %d, want 3", n)
	}
	wantValue(t, c, "c", "3")
}

func testIncrByTTL(t *testing.T, c cache.Cache) {
	ctx := ctxFor(t)
	// Created with a short TTL: a later call with a long TTL must not extend it.
	_ = must(c.IncrBy(ctx, "short", 1, 200*time.Millisecond)).ok(t)
	if got := must(c.IncrBy(ctx, "short", 1, time.Hour)).ok(t); got != 2 {
		t.Fatalf("IncrBy = %d, want 2", got)
	}
	// Created without a TTL: a later call with a TTL must not add one.
	_ = must(c.IncrBy(ctx, "forever", 1, 0)).ok(t)
	_ = must(c.IncrBy(ctx, "forever", 1, 100*time.Millisecond)).ok(t)
	eventually(t, 3*time.Second, "counter created with a 200ms TTL still present", func() bool {
		return must(c.GetCount(ctx, "short")).ok(t) == 0
	})
	if n := must(c.GetCount(ctx, "forever")).ok(t); n != 2 {
		t.Fatalf("counter created without TTL: GetCount = %d, want 2 (a later TTL was applied)", n)
	}
	// Expired, it starts again from 0 with the new TTL.
	if got := must(c.IncrBy(ctx, "short", 7, time.Minute)).ok(t); got != 7 {
		t.Fatalf("IncrBy after expiry = %d, want 7", got)
	}
}

func testIncrUpTo(t *testing.T, c cache.Cache) {
	ctx := ctxFor(t)
	type call struct {
		n, limit, want int64
		ok             bool
	}
	for i, s := range []call{
		{1, 3, 1, true}, {1, 3, 2, true}, {2, 3, 2, false}, {1, 3, 3, true},
		{1, 3, 3, false}, {0, 3, 3, true}, {1, 5, 4, true}, {-4, 5, 0, true},
	} {
		v, ok, err := c.IncrUpTo(ctx, "q", s.n, s.limit, 0)
		noErr(t, err)
		if v != s.want || ok != s.ok {
			t.Fatalf("call %d IncrUpTo(n=%d, limit=%d) = %d, %v; want %d, %v", i, s.n, s.limit, v, ok, s.want, s.ok)
		}
	}
	// Refused on an absent key: the key stays absent.
	v, ok, err := c.IncrUpTo(ctx, "big", 10, 5, time.Minute)
	noErr(t, err)
	if v != 0 || ok {
		t.Fatalf("IncrUpTo over the limit on an absent key = %d, %v; want 0, false", v, ok)
	}
	wantAbsent(t, c, "big")
	// TTL on create.
	_, ok, err = c.IncrUpTo(ctx, "ttl", 1, 10, 200*time.Millisecond)
	noErr(t, err)
	if !ok {
		t.Fatal("IncrUpTo under the limit refused")
	}
	_, _, err = c.IncrUpTo(ctx, "ttl", 1, 10, time.Hour)
	noErr(t, err)
	eventually(t, 3*time.Second, "IncrUpTo counter with a 200ms TTL still present", func() bool {
		return must(c.GetCount(ctx, "ttl")).ok(t) == 0
	})
}

func testIncrUpToConcurrent(t *testing.T, c cache.Cache) {
	ctx := ctxFor(t)
	const (
		workers  = 50
		attempts = 10
		limit    = 100
	)
	var (
		wg        sync.WaitGroup
		succeeded atomic.Int64
		errs      = make(chan error, workers*attempts)
	)
	for range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for range attempts {
				v, ok, err := c.IncrUpTo(ctx, "race", 1, limit, time.Minute)
				switch {
				case err != nil:
					errs <- err
				case v > limit:
					errs <- fmt.Errorf("IncrUpTo returned %d > limit %d", v, limit)
				case ok:
					succeeded.Add(1)
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	if n := succeeded.Load(); n != limit {
		t.Fatalf("%d increments succeeded, want exactly %d", n, limit)
	}
	if n := must(c.GetCount(ctx, "race")).ok(t); n != limit {
		t.Fatalf("final count = %d, want exactly %d", n, limit)
	}
}

func testSetCountIfAbsent(t *testing.T, c cache.Cache) {
	ctx := ctxFor(t)
	if !must(c.SetCountIfAbsent(ctx, "m", 41, time.Minute)).ok(t) {
		t.Fatal("SetCountIfAbsent on an absent key = false")
	}
	if n := must(c.GetCount(ctx, "m")).ok(t); n != 41 {
		t.Fatalf("GetCount = %d, want 41", n)
	}
	if must(c.SetCountIfAbsent(ctx, "m", 7, time.Minute)).ok(t) {
		t.Fatal("SetCountIfAbsent on a present key = true")
	}
	if got := must(c.IncrBy(ctx, "m", 1, 0)).ok(t); got != 42 {
		t.Fatalf("IncrBy after seeding = %d, want 42", got)
	}
	v, ok, err := c.IncrUpTo(ctx, "m", 1, 42, 0)
	noErr(t, err)
	if v != 42 || ok {
		t.Fatalf("IncrUpTo at the limit = %d, %v; want 42, false", v, ok)
	}
	_ = must(c.SetCountIfAbsent(ctx, "short", 3, 150*time.Millisecond)).ok(t)
	eventually(t, 3*time.Second, "seeded counter with a 150ms TTL still present", func() bool {
		return must(c.GetCount(ctx, "short")).ok(t) == 0
	})
	if !must(c.SetCountIfAbsent(ctx, "short", 9, 0)).ok(t) {
		t.Fatal("SetCountIfAbsent after expiry = false")
	}
}

// testSharedKeyspace: counters and strings live in one keyspace, as in Redis.
func testSharedKeyspace(t *testing.T, c cache.Cache) {
	ctx := ctxFor(t)
	noErr(t, c.Set(ctx, "n", "10", 0))
	if got := must(c.IncrBy(ctx, "n", 5, 0)).ok(t); got != 15 {
		t.Fatalf("IncrBy on a string \"10\" = %d, want 15", got)
	}
	wantValue(t, c, "n", "15")
	if ok := must(c.SetNX(ctx, "n", "x", 0)).ok(t); ok {
		t.Fatal("SetNX over a counter = true")
	}
	noErr(t, c.Set(ctx, "s", "not a number", 0))
	if _, err := c.IncrBy(ctx, "s", 1, 0); err == nil {
		t.Fatal("IncrBy on a non-integer value: no error")
	} else if errors.Is(err, cache.ErrUnavailable) {
		t.Fatalf("IncrBy on a non-integer value: %v wraps ErrUnavailable; it is a misuse, not an outage", err)
	}
	if _, _, err := c.IncrUpTo(ctx, "s", 1, 10, 0); err == nil {
		t.Fatal("IncrUpTo on a non-integer value: no error")
	}
	if _, err := c.GetCount(ctx, "s"); err == nil {
		t.Fatal("GetCount on a non-integer value: no error")
	}
	wantValue(t, c, "s", "not a number")
}

func allow(t *testing.T, c cache.Cache, key string, l cache.Limit) cache.Decision {
	t.Helper()
	return must(c.Allow(ctxFor(t), key, l)).ok(t)
}

func testBurstThenRefuse(t *testing.T, c cache.Cache) {
	// One event per 12 s on average: nothing refills during the test.
	l := cache.PerWindow(5, time.Minute)
	for i := range 5 {
		d := allow(t, c, "rl", l)
		if !d.Allowed || d.Remaining != 4-i || d.RetryAfter != 0 {
			t.Fatalf("event %d: %+v; want allowed, remaining %d, no RetryAfter", i+1, d, 4-i)
		}
	}
	for range 3 {
		d := allow(t, c, "rl", l)
		if d.Allowed || d.Remaining != 0 {
			t.Fatalf("event past the burst: %+v; want refused, remaining 0", d)
		}
		if d.RetryAfter <= 0 || d.RetryAfter > 12*time.Second {
			t.Fatalf("RetryAfter = %v; want in (0, 12s]", d.RetryAfter)
		}
	}
}

func testRefill(t *testing.T, c cache.Cache) {
	l := cache.Limit{Rate: 10, Burst: 2} // one event per 100 ms
	var d cache.Decision
	for i := 0; ; i++ {
		if d = allow(t, c, "refill", l); !d.Allowed {
			break
		}
		if i > 20 {
			t.Fatal("never refused")
		}
	}
	if d.RetryAfter <= 0 || d.RetryAfter > 100*time.Millisecond {
		t.Fatalf("RetryAfter = %v; want in (0, 100ms]", d.RetryAfter)
	}
	time.Sleep(d.RetryAfter + 5*time.Millisecond)
	if d = allow(t, c, "refill", l); !d.Allowed {
		t.Fatalf("after waiting RetryAfter: %+v; want allowed", d)
	}
	// A long idle period refills up to Burst and no further.
	time.Sleep(300 * time.Millisecond)
	if d = allow(t, c, "refill", l); !d.Allowed || d.Remaining != l.Burst-1 {
		t.Fatalf("after idling: %+v; want allowed with remaining %d", d, l.Burst-1)
	}
}

func testIndependentKeys(t *testing.T, c cache.Cache) {
	l := cache.PerWindow(2, time.Minute)
	allow(t, c, "a", l)
	allow(t, c, "a", l)
	if d := allow(t, c, "a", l); d.Allowed {
		t.Fatal("key a not exhausted")
	}
	if d := allow(t, c, "b", l); !d.Allowed || d.Remaining != 1 {
		t.Fatalf("key b after exhausting a: %+v; want allowed, remaining 1", d)
	}
}

func testInvalidLimit(t *testing.T, c cache.Cache) {
	ctx := ctxFor(t)
	for _, l := range []cache.Limit{{Rate: 0, Burst: 1}, {Rate: 1, Burst: 0}, {Rate: -1, Burst: 5}} {
		if _, err := c.Allow(ctx, "bad", l); err == nil {
			t.Fatalf("Allow with %+v: no error", l)
		}
	}
}

func testAllowIncrUpTo(t *testing.T, c cache.Cache) {
	ctx := ctxFor(t)
	l := cache.PerWindow(2, time.Minute)
	for i := range 2 {
		d, v, ok, err := c.AllowIncrUpTo(ctx, "adm:rate", l, "adm:count", 1, 100, time.Minute)
		noErr(t, err)
		if !d.Allowed || d.Remaining != 1-i || v != int64(i+1) || !ok {
			t.Fatalf("call %d: %+v, %d, %v; want allowed (remaining %d), counted to %d", i+1, d, v, ok, 1-i, i+1)
		}
	}
	d, v, ok, err := c.AllowIncrUpTo(ctx, "adm:rate", l, "adm:count", 1, 100, time.Minute)
	noErr(t, err)
	if d.Allowed || d.RetryAfter <= 0 || v != 0 || ok {
		t.Fatalf("past the rate: %+v, %d, %v; want refused with RetryAfter, counter untouched", d, v, ok)
	}
	if n := must(c.GetCount(ctx, "adm:count")).ok(t); n != 2 {
		t.Fatalf("counter after a rate refusal = %d, want 2", n)
	}
	// The rate key is the rate limiter's own: Allow sees what AllowIncrUpTo consumed.
	if d := allow(t, c, "adm:rate", l); d.Allowed {
		t.Fatalf("Allow on the rate key exhausted by AllowIncrUpTo: %+v", d)
	}
	// The counter's TTL is set on create.
	_, _, ok, err = c.AllowIncrUpTo(ctx, "adm:rate2", l, "adm:ttl", 1, 10, 200*time.Millisecond)
	noErr(t, err)
	if !ok {
		t.Fatal("AllowIncrUpTo under both limits did not count")
	}
	eventually(t, 3*time.Second, "AllowIncrUpTo counter with a 200ms TTL still present", func() bool {
		return must(c.GetCount(ctx, "adm:ttl")).ok(t) == 0
	})
}

func testAllowIncrUpToCap(t *testing.T, c cache.Cache) {
	ctx := ctxFor(t)
	unlimited := cache.Limit{Rate: math.Inf(1), Burst: 1}
	for i, want := range []struct {
		v  int64
		ok bool
	}{{2, true}, {4, true}, {4, false}, {4, false}} {
		d, v, ok, err := c.AllowIncrUpTo(ctx, "cap:rate", unlimited, "cap:count", 2, 5, 0)
		noErr(t, err)
		if !d.Allowed || v != want.v || ok != want.ok {
			t.Fatalf("call %d: %+v, %d, %v; want allowed, %d, %v", i+1, d, v, ok, want.v, want.ok)
		}
	}
	// No maximum in practice: the unlimited plan's counter.
	_, v, ok, err := c.AllowIncrUpTo(ctx, "cap:rate", unlimited, "cap:count", 1, math.MaxInt64, 0)
	noErr(t, err)
	if v != 5 || !ok {
		t.Fatalf("with max MaxInt64: %d, %v; want 5, true", v, ok)
	}
	// Both limits hold under concurrency: exactly max increments out of many.
	var wg sync.WaitGroup
	var counted atomic.Int64
	for range 20 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for range 10 {
				_, _, ok, err := c.AllowIncrUpTo(ctx, "cap:rate", unlimited, "cap:race", 1, 50, time.Minute)
				if err == nil && ok {
					counted.Add(1)
				}
			}
		}()
	}
	wg.Wait()
	if n := counted.Load(); n != 50 {
		t.Fatalf("%d concurrent increments counted, want exactly 50", n)
	}
}

func testAllowIncrUpToErrors(t *testing.T, c cache.Cache) {
	ctx := ctxFor(t)
	if _, _, _, err := c.AllowIncrUpTo(ctx, "e:rate", cache.Limit{Rate: 0, Burst: 1}, "e:count", 1, 5, 0); err == nil {
		t.Fatal("AllowIncrUpTo with an invalid limit: no error")
	}
	noErr(t, c.Set(ctx, "e:text", "not a number", 0))
	_, _, _, err := c.AllowIncrUpTo(ctx, "e:rate", cache.PerWindow(5, time.Minute), "e:text", 1, 5, 0)
	if err == nil || errors.Is(err, cache.ErrUnavailable) {
		t.Fatalf("AllowIncrUpTo on a text value: %v; want an error that is not ErrUnavailable", err)
	}
}

// inbox collects a subscriber's messages without ever blocking the delivering goroutine.
type inbox struct {
	mu   sync.Mutex
	msgs []string
}

func (b *inbox) add(p []byte) {
	b.mu.Lock()
	b.msgs = append(b.msgs, string(p))
	b.mu.Unlock()
}

func (b *inbox) has(msg string) bool {
	b.mu.Lock()
	defer b.mu.Unlock()
	for _, m := range b.msgs {
		if m == msg {
			return true
		}
	}
	return false
}

func (b *inbox) len() int {
	b.mu.Lock()
	defer b.mu.Unlock()
	return len(b.msgs)
}

// publishUntil publishes msg on channel every 50 ms until cond holds: delivery is best
// effort, and a subscription takes effect shortly after Subscribe returns.
func publishUntil(t *testing.T, c cache.Cache, channel, msg string, cond func() bool) {
	t.Helper()
	ctx := ctxFor(t)
	deadline := time.Now().Add(3 * time.Second)
	for {
		noErr(t, c.Publish(ctx, channel, []byte(msg)))
		for range 5 {
			if cond() {
				return
			}
			time.Sleep(10 * time.Millisecond)
		}
		if time.Now().After(deadline) {
			t.Fatalf("message %q on %q not delivered within 3s", msg, channel)
		}
	}
}

func testBroadcast(t *testing.T, c cache.Cache) {
	ctx := ctxFor(t)
	noErr(t, c.Publish(ctx, "nobody-listens", []byte("x")))

	var one, two, other inbox
	unsub1 := c.Subscribe("inv", one.add)
	unsub2 := c.Subscribe("inv", two.add)
	unsubOther := c.Subscribe("other", other.add)
	defer unsubOther()

	publishUntil(t, c, "inv", "hello", func() bool { return one.has("hello") && two.has("hello") })
	bin := string([]byte{0, 0xff, '\r', '\n'})
	publishUntil(t, c, "inv", bin, func() bool { return one.has(bin) && two.has(bin) })
	if n := other.len(); n != 0 {
		t.Fatalf("subscriber of another channel got %d messages", n)
	}

	unsub1()
	unsub1() // idempotent
	publishUntil(t, c, "inv", "after", func() bool { return two.has("after") })
	if one.has("after") {
		t.Fatal("message delivered after unsubscribe")
	}

	// Last subscriber gone, then a new one: the channel is subscribed again.
	unsub2()
	var three inbox
	unsub3 := c.Subscribe("inv", three.add)
	defer unsub3()
	publishUntil(t, c, "inv", "again", func() bool { return three.has("again") })
	if two.has("again") {
		t.Fatal("message delivered after unsubscribe")
	}
	if n := other.len(); n != 0 {
		t.Fatalf("subscriber of another channel got %d messages", n)
	}
}

func testPing(t *testing.T, c cache.Cache) {
	noErr(t, c.Ping(ctxFor(t)))
	if b := c.Backend(); b != "redis" && b != "memory" {
		t.Fatalf("Backend() = %q", b)
	}
}
