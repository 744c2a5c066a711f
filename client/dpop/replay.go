package dpop

import (
	"context"
	"sync"
	"time"
)

// ReplayCache remembers the proofs already accepted. Seen records id until until and
// reports whether it was recorded before (then the proof is a replay). Replicas of a
// resource server that must refuse a proof replayed on another replica share one (e.g. in
// Redis, with SET NX and an expiry); an error refuses the request.
type ReplayCache interface {
	Seen(ctx context.Context, id string, until time.Time) (bool, error)
}

// MemoryReplayCache is an in-process ReplayCache: enough for one replica. Expired entries
// are swept as new ones come.
type MemoryReplayCache struct {
	mu        sync.Mutex
	seen      map[string]time.Time
	nextSweep time.Time
	now       func() time.Time
}

// NewMemoryReplayCache returns an empty in-process cache.
func NewMemoryReplayCache() *MemoryReplayCache {
	return &MemoryReplayCache{seen: map[string]time.Time{}, now: time.Now}
}

// sweepEvery is how often expired entries are dropped.
const sweepEvery = 10 * time.Second

// Seen implements ReplayCache.
func (m *MemoryReplayCache) Seen(_ context.Context, id string, until time.Time) (bool, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	now := m.now()
	if now.After(m.nextSweep) {
		for k, exp := range m.seen {
			if now.After(exp) {
				delete(m.seen, k)
			}
		}
		m.nextSweep = now.Add(sweepEvery)
	}
	if exp, ok := m.seen[id]; ok && !now.After(exp) {
		return true, nil
	}
	m.seen[id] = until
	return false, nil
}

// Len is the number of remembered proofs (tests).
func (m *MemoryReplayCache) Len() int {
	m.mu.Lock()
	defer m.mu.Unlock()
	return len(m.seen)
}
