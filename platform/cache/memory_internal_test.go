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
