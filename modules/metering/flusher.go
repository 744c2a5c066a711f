package metering

import (
	"context"
	"sync"
	"time"

	"go.uber.org/zap"
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

// flusher persists the tallies every flushEvery, and once more on stop. A failed flush keeps
// the observations for the next one.
type flusher struct {
	tallies *tallies
	repo    repository
	once    *onceRecorder
	metrics *meterMetrics
	log     *zap.Logger
	now     func() time.Time
	every   time.Duration

	mu     sync.Mutex // serialises flushes (the loop, the stop hook, tests)
	cancel context.CancelFunc
	done   chan struct{}
}

func (f *flusher) start(context.Context) error {
	ctx, cancel := context.WithCancel(context.Background())
	f.cancel = cancel
	f.done = make(chan struct{})
	go f.loop(ctx)
	return nil
}

// stop ends the loop, waits for it, and flushes what is left within ctx.
func (f *flusher) stop(ctx context.Context) error {
	if f.cancel != nil {
		f.cancel()
		<-f.done
	}
	return f.flush(ctx, true)
}

func (f *flusher) loop(ctx context.Context) {
	defer close(f.done)
	tick := time.NewTicker(f.every)
	defer tick.Stop()
	lastPrune := time.Now()
	for {
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
		}
		fctx, cancel := context.WithTimeout(ctx, flushTimeout)
		if err := f.flush(fctx, false); err != nil && ctx.Err() == nil {
			f.log.Warn("persisting usage counts failed; retrying on the next flush", zap.Error(err))
		}
		cancel()
		if time.Since(lastPrune) >= pruneEvery {
			lastPrune = time.Now()
			now := f.now()
			f.tallies.evict(now.Add(-evictIdle))
			f.once.prune(now)
		}
	}
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
	if err := f.repo.saveObservations(ctx, rows, f.now()); err != nil {
		f.metrics.flushErrors.Inc()
		f.tallies.restore(rows)
		return err
	}
	return nil
}
