package credentials

import (
	"context"
	"sync"
	"time"

	"go.uber.org/zap"

	"github.com/agentidp/agentidp/platform/database"
)

// usageFlushInterval is how often last_used_at is written.
const usageFlushInterval = 5 * time.Second

// usageTracker collects last_used_at in memory: a verification records the time, and the
// flusher writes every credential used since the last flush in one UPDATE, every
// usageFlushInterval and at stop. The column is therefore up to that interval behind.
type usageTracker struct {
	repo repository
	log  *zap.Logger

	mu      sync.Mutex
	pending map[string]time.Time
}

func newUsageTracker(repo repository, log *zap.Logger) *usageTracker {
	return &usageTracker{repo: repo, log: log, pending: map[string]time.Time{}}
}

// touch records that credID was used at now.
func (u *usageTracker) touch(credID string, now time.Time) {
	u.mu.Lock()
	if t, ok := u.pending[credID]; !ok || now.After(t) {
		u.pending[credID] = now
	}
	u.mu.Unlock()
}

// flush writes the pending times. On failure they are put back (unless newer ones arrived)
// for the next flush.
func (u *usageTracker) flush(ctx context.Context) error {
	u.mu.Lock()
	batch := u.pending
	if len(batch) == 0 {
		u.mu.Unlock()
		return nil
	}
	u.pending = make(map[string]time.Time, len(batch))
	u.mu.Unlock()

	for id, t := range batch {
		batch[id] = database.Time(t)
	}
	err := u.repo.touch(ctx, batch)
	if err != nil {
		u.mu.Lock()
		for id, t := range batch {
			if cur, ok := u.pending[id]; !ok || t.After(cur) {
				u.pending[id] = t
			}
		}
		u.mu.Unlock()
	}
	return err
}
