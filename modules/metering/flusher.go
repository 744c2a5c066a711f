package metering

import (
	"context"
	"errors"
	"sync"
	"time"

	"github.com/agentidp/agentidp/modules/agents"
	"github.com/agentidp/agentidp/modules/orgs"
)

// Flusher timing. An observation is persisted by the second periodic flush after it is made
// (1–2 × flushEvery later), which bounds what a crash of this process or a cache data loss
// can cost the stored counts; see README.md.
const (
	defaultFlushEvery = time.Second
	flushTimeout      = 10 * time.Second
	evictIdle         = 10 * time.Minute // clean tallies untouched this long are dropped
	pruneEvery        = time.Minute
)

// flusher persists the tallies: its worker (module.go) runs flushAged every flushEvery and
// flushAll once on stop, and prune every pruneEvery. A failed flush keeps the observations
// for the next one.
type flusher struct {
	tallies *tallies
	repo    repository
	once    *onceRecorder
	metrics *meterMetrics
	agents  agents.Directory // each row's organization (cached lookups)
	now     func() time.Time
	every   time.Duration // the interval of the periodic flush

	mu sync.Mutex // serialises flushes (the worker, its final flush, tests)
}

// setOrgs fills each row's organization from the agents Directory (the usage totals are per
// organization). An agent the Directory does not know (none is ever deleted) counts in root.
func (f *flusher) setOrgs(ctx context.Context, rows []flushRow) error {
	for i := range rows {
		a, err := f.agents.Lookup(ctx, rows[i].agent)
		switch {
		case errors.Is(err, agents.ErrNotFound):
			rows[i].org = orgs.RootID
		case err != nil:
			return err
		default:
			rows[i].org = a.OrgID
		}
	}
	return nil
}

// flushAged is the periodic flush: the observations made before the previous one.
func (f *flusher) flushAged(ctx context.Context) error { return f.flush(ctx, false) }

// flushAll is the flush on stop: every pending observation.
func (f *flusher) flushAll(ctx context.Context) error { return f.flush(ctx, true) }

// prune drops the tallies idle for evictIdle (persisted already) and the expired audit
// markers.
func (f *flusher) prune(context.Context) error {
	now := f.now()
	f.tallies.evict(now.Add(-evictIdle))
	f.once.prune(now)
	return nil
}

// flush persists the observations held back since the flush before the last one (see
// tallies), or with all every pending observation (on stop).
func (f *flusher) flush(ctx context.Context, all bool) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	rows := f.tallies.take(all)
	if len(rows) == 0 {
		return nil
	}
	err := f.setOrgs(ctx, rows)
	if err == nil {
		err = f.repo.saveObservations(ctx, rows, f.now())
	}
	if err != nil {
		f.metrics.flushErrors.Inc()
		f.tallies.restore(rows)
		return err
	}
	return nil
}
