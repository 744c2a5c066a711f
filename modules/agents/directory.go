package agents

import (
	"context"
	"errors"
	"sync"
	"sync/atomic"
	"time"

	"github.com/hashicorp/golang-lru/v2/expirable"
	"github.com/uptrace/bun"
	"go.uber.org/zap"

	"github.com/agentidp/agentidp/platform/cache"
	"github.com/agentidp/agentidp/platform/changefeed"
	"github.com/agentidp/agentidp/platform/database"
	"github.com/agentidp/agentidp/platform/ident"
)

// ChangedChannel is the broadcast channel on which every replica announces the id of an
// agent it has changed (after commit), so that the others drop it from their Directory.
const ChangedChannel = "agents.changed"

const (
	// defaultLookupTTL bounds how long a replica that missed a broadcast serves a stale
	// agent.
	defaultLookupTTL = 5 * time.Second
	// maxDirectoryEntries caps the cache; past it, the least recently used entry goes.
	maxDirectoryEntries = 100_000
	// publishTimeout bounds the broadcast after a change; a lost message is covered by
	// the change poll.
	publishTimeout = 2 * time.Second
	// changePollEvery is how often every replica reads the agents changed since its last
	// poll: the bound on how long a replica that missed the broadcast (Redis down) serves
	// a changed agent, a suspended one included.
	changePollEvery = time.Second
)

// directory is the cached Directory: an expirable LRU of lookups ("not found" included, as
// a nil agent) that live for ttl and are dropped on every replica when the agent changes
// (ChangedChannel). A generation counter keeps a lookup that raced with an invalidation from
// caching what it read before the change.
type directory struct {
	db   *bun.DB
	repo repository
	bc   cache.Broadcaster
	log  *zap.Logger

	entries *expirable.LRU[string, *Agent] // canonical agent id → agent (nil: not found)
	mu      sync.Mutex                     // orders a load's generation check and store against invalidate
	gen     atomic.Uint64

	mark changefeed.Mark // where the next poll of the agents table starts (poll's worker only)
	now  func() time.Time
}

var _ Directory = (*directory)(nil)

// newDirectory builds the Directory: entries live for ttl, at most maxEntries of them. The
// LRU's own goroutine drops expired entries.
func newDirectory(db *bun.DB, repo repository, bc cache.Broadcaster, log *zap.Logger, ttl time.Duration, maxEntries int) *directory {
	return &directory{db: db, repo: repo, bc: bc, log: log, now: time.Now,
		entries: expirable.NewLRU[string, *Agent](maxEntries, nil, ttl)}
}

// Lookup implements Directory. The returned Agent is shared with other callers and must
// not be modified.
func (d *directory) Lookup(ctx context.Context, agentID string) (*Agent, error) {
	if a, err, ok := d.cached(agentID); ok {
		return a, err
	}
	id, ok := ident.Canonical(agentID)
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
	a, ok := d.entries.Get(id)
	switch {
	case !ok:
		return nil, nil, false
	case a == nil:
		return nil, ErrNotFound, true
	}
	return a, nil, true
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
	d.mu.Lock()
	if d.gen.Load() == gen { // else an invalidation ran since the read: drop what we read
		d.entries.Add(id, a)
	}
	d.mu.Unlock()
	if a == nil {
		return nil, ErrNotFound
	}
	return a, nil
}

// invalidate drops id from this replica's cache.
func (d *directory) invalidate(id string) {
	d.mu.Lock()
	d.gen.Add(1)
	d.entries.Remove(id)
	d.mu.Unlock()
}

// changed is called after a change to id has committed: it drops the entry here at once
// and tells every replica (this one included) through the broadcast.
func (d *directory) changed(ctx context.Context, id string) {
	d.invalidate(id)
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), publishTimeout)
	defer cancel()
	if err := d.bc.Publish(ctx, ChangedChannel, []byte(id)); err != nil {
		d.log.Warn("broadcasting an agent change failed; other replicas catch up at their next poll (about a second)",
			zap.String("agent_id", id), zap.Error(err))
	}
}

// poll drops the agents changed since the last poll (on any replica) from this replica's
// cache: the agents table's updated_at, followed with platform/changefeed. It is how a
// replica learns of a change within a second when the broadcast is lost or Redis is down.
// The first poll only marks where to start: the cache holds nothing older than the start.
func (d *directory) poll(ctx context.Context) error {
	now := d.now()
	if !d.mark.Started() {
		d.mark.Start(now)
		return nil
	}
	rows, err := d.repo.changedSince(ctx, d.db, d.mark.Since(now), now)
	if err != nil {
		return err
	}
	for _, r := range rows {
		if id, ok := ident.Canonical(r.ID); ok {
			d.invalidate(id)
		}
		d.mark.Saw(r.UpdatedAt)
	}
	return nil
}

// onChanged is the ChangedChannel handler: another replica (or this one) changed an agent.
func (d *directory) onChanged(payload []byte) {
	if id, ok := ident.Canonical(string(payload)); ok {
		d.invalidate(id)
	}
}
