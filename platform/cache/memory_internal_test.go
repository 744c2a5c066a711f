package cache

import (
	"context"
	"testing"
	"time"
)

func TestMemorySweepDropsExpiredKeysAndIdleBuckets(t *testing.T) {
	m := NewMemory()
	defer m.Close()
	ctx := context.Background()
	_ = m.Set(ctx, "gone", "1", time.Millisecond)
	_, _ = m.IncrBy(ctx, "gone-counter", 1, time.Millisecond)
	_ = m.Set(ctx, "kept", "1", time.Minute)
	_, _ = m.Allow(ctx, "idle", Limit{Rate: 1000, Burst: 1}) // full again after 1 ms
	_, _ = m.Allow(ctx, "busy", PerWindow(1, time.Hour))
	time.Sleep(5 * time.Millisecond)
	m.sweep()
	var keys, buckets int
	for i := range m.shards {
		s := &m.shards[i]
		s.mu.Lock()
		keys += len(s.kv)
		buckets += len(s.buckets)
		s.mu.Unlock()
	}
	if keys != 1 || buckets != 1 {
		t.Fatalf("after sweep: %d keys, %d buckets; want 1 and 1", keys, buckets)
	}
}

func TestGCRAMatchesTokenBucket(t *testing.T) {
	// Burst 3 at 1 event per 10 units: 3 at once, then one every 10.
	iv, tol, _, err := gcraParams(Limit{Rate: 1e8, Burst: 3}, time.Nanosecond)
	if err != nil || iv != 10 || tol != 30 {
		t.Fatalf("gcraParams = %d, %d, %v", iv, tol, err)
	}
	var tat int64
	for i, want := range []int{2, 1, 0} {
		var ok bool
		var rem int
		tat, ok, rem, _ = gcra(tat, 1000, iv, tol)
		if !ok || rem != want {
			t.Fatalf("event %d: ok %v remaining %d; want remaining %d", i, ok, rem, want)
		}
	}
	if _, ok, _, retry := gcra(tat, 1000, iv, tol); ok || retry != 10 {
		t.Fatalf("4th event: ok %v retry %d; want refused, retry 10", ok, retry)
	}
	if _, ok, rem, _ := gcra(tat, 1010, iv, tol); !ok || rem != 0 {
		t.Fatalf("after one interval: ok %v remaining %d", ok, rem)
	}
}
