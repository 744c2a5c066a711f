package agents

import (
	"context"
	"errors"
	"sync"
	"sync/atomic"
	"time"

	"github.com/uptrace/bun"
	"go.uber.org/zap"

	"github.com/agentidp/agentidp/platform/cache"
	"github.com/agentidp/agentidp/platform/database"
)

// ChangedChannel is the broadcast channel on which every replica announces the id of an
// agent it has changed (after commit), so that the others drop it from their Directory.
const ChangedChannel = "agents.changed"

const (
	// defaultLookupTTL bounds how long a replica that missed a broadcast serves a stale
	// agent.
	defaultLookupTTL = 5 * time.Second
	// maxDirectoryEntries caps the cache; past it, lookups go to the database uncached
	// until the janitor has swept expired entries.
	maxDirectoryEntries = 100_000
	// publishTimeout bounds the broadcast after a change; a lost message is covered by
	// the TTL.
	publishTimeout = 2 * time.Second
)

// dirEntry is a cached lookup; a nil agent caches "not found".
type dirEntry struct {
	agent   *Agent
	expires time.Time
}

// directory is the cached Directory. Entries expire after ttl and are dropped on every
// replica when the agent changes (ChangedChannel). A generation counter keeps a lookup
// that raced with an invalidation from caching what it read before the change.
type directory struct {
	db   *bun.DB
	repo repository
	bc   cache.Broadcaster
	log  *zap.Logger

	ttl     atomic.Int64 // time.Duration
	entries sync.Map     // canonical agent id → *dirEntry
	size    atomic.Int64
	gen     atomic.Uint64
}

var _ Directory = (*directory)(nil)

func newDirectory(db *bun.DB, repo repository, bc cache.Broadcaster, log *zap.Logger) *directory {
	d := &directory{db: db, repo: repo, bc: bc, log: log}
	d.ttl.Store(int64(defaultLookupTTL))
	return d
}

// Lookup implements Directory. The returned Agent is shared with other callers and must
// not be modified.
func (d *directory) Lookup(ctx context.Context, agentID string) (*Agent, error) {
	if a, err, ok := d.cached(agentID); ok {
		return a, err
	}
	id, ok := canonicalID(agentID)
	if !ok {
		return nil, ErrNotFound
	}
	if id != agentID {
		if a, err, ok := d.cached(id); ok {
			return a, err
		}
	}
	return d.load(ctx, id)
}

// cached answers from an unexpired entry.
func (d *directory) cached(id string) (*Agent, error, bool) {
	v, ok := d.entries.Load(id)
	if !ok {
		return nil, nil, false
	}
	e := v.(*dirEntry)
	if !time.Now().Before(e.expires) {
		return nil, nil, false
	}
	if e.agent == nil {
		return nil, ErrNotFound, true
	}
	return e.agent, nil, true
}

func (d *directory) load(ctx context.Context, id string) (*Agent, error) {
	gen := d.gen.Load()
	var a *Agent
	row, err := d.repo.get(ctx, d.db, id)
	switch {
	case err == nil:
		if a, err = row.toAgent(); err != nil {
			return nil, err
		}
	case errors.Is(err, database.ErrNotFound):
	default:
		return nil, err
	}
	e := &dirEntry{agent: a, expires: time.Now().Add(time.Duration(d.ttl.Load()))}
	if d.size.Load() < maxDirectoryEntries {
		if _, replaced := d.entries.Swap(id, e); !replaced {
			d.size.Add(1)
		}
		// An invalidation since the read may have run before the Swap: drop what we read.
		if d.gen.Load() != gen && d.entries.CompareAndDelete(id, e) {
			d.size.Add(-1)
		}
	}
	if a == nil {
		return nil, ErrNotFound
	}
	return a, nil
}

// invalidate drops id from this replica's cache.
func (d *directory) invalidate(id string) {
	d.gen.Add(1)
	if _, ok := d.entries.LoadAndDelete(id); ok {
		d.size.Add(-1)
	}
}

// changed is called after a change to id has committed: it drops the entry here at once
// and tells every replica (this one included) through the broadcast.
func (d *directory) changed(ctx context.Context, id string) {
	d.invalidate(id)
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), publishTimeout)
	defer cancel()
	if err := d.bc.Publish(ctx, ChangedChannel, []byte(id)); err != nil {
		d.log.Warn("broadcasting an agent change failed; other replicas catch up within the cache TTL",
			zap.String("agent_id", id), zap.Error(err))
	}
}

// onChanged is the ChangedChannel handler: another replica (or this one) changed an agent.
func (d *directory) onChanged(payload []byte) {
	if id, ok := canonicalID(string(payload)); ok {
		d.invalidate(id)
	}
}

// sweepEvery is the janitor's interval: the TTL, at least a second.
func (d *directory) sweepEvery() time.Duration { return max(time.Duration(d.ttl.Load()), time.Second) }

// sweep drops the entries expired when it runs (the janitor, every sweepEvery).
func (d *directory) sweep(context.Context) error {
	d.sweepAt(time.Now())
	return nil
}

// sweepAt drops entries expired at now.
func (d *directory) sweepAt(now time.Time) {
	d.entries.Range(func(k, v any) bool {
		if !now.Before(v.(*dirEntry).expires) && d.entries.CompareAndDelete(k, v) {
			d.size.Add(-1)
		}
		return true
	})
}
