package agents

import (
	"context"
	"errors"
	"time"

	"github.com/uptrace/bun"
	"go.uber.org/zap"

	"github.com/agentidp/agentidp/platform/cache"
	"github.com/agentidp/agentidp/platform/database"
	"github.com/agentidp/agentidp/platform/ident"
	"github.com/agentidp/agentidp/platform/readcache"
)

// ChangedChannel is the broadcast channel on which every replica announces the id of an
// agent it has changed (after commit), so that the others drop it from their Directory.
const ChangedChannel = "agents.changed"

const (
	// defaultLookupTTL bounds how long an entry lives.
	defaultLookupTTL = 5 * time.Second
	// maxDirectoryEntries caps the cache; past it, the least recently used entry goes.
	maxDirectoryEntries = 100_000
	// changePollEvery is how often every replica reads the agents changed since its last
	// poll: the bound on how long a replica that missed the broadcast (Redis down) serves
	// a changed agent, a suspended one included.
	changePollEvery = time.Second
)

// directory is the cached Directory (platform/readcache): lookups, "not found" included,
// live for the TTL, dropped on every replica when the agent changes (ChangedChannel, and a
// poll of the agents table's updated_at every changePollEvery).
type directory struct {
	rows *readcache.Cache[*Agent]
}

var _ Directory = (*directory)(nil)

// newDirectory builds the Directory: entries live for ttl, at most maxEntries of them.
func newDirectory(db *bun.DB, repo repository, bc cache.Broadcaster, log *zap.Logger, ttl time.Duration, maxEntries int) *directory {
	src := readcache.Source[*Agent]{
		Load: func(ctx context.Context, id string) (*Agent, bool, error) {
			row, err := repo.get(ctx, db, id)
			switch {
			case errors.Is(err, database.ErrNotFound):
				return nil, false, nil
			case err != nil:
				return nil, false, err
			}
			a, err := row.toAgent()
			return a, err == nil, err
		},
		Changes: func(ctx context.Context, since, until time.Time) ([]readcache.Change, error) {
			rows, err := repo.changedSince(ctx, db, since, until)
			out := make([]readcache.Change, len(rows))
			for i, r := range rows {
				out[i] = readcache.Change{ID: r.ID, At: r.UpdatedAt}
			}
			return out, err
		},
	}
	return &directory{rows: readcache.New(src, bc, ChangedChannel, log, ttl, maxEntries)}
}

// Lookup implements Directory. The returned Agent is shared with other callers and must
// not be modified.
func (d *directory) Lookup(ctx context.Context, agentID string) (*Agent, error) {
	id, ok := ident.Canonical(agentID)
	if !ok {
		return nil, ErrNotFound
	}
	a, found, err := d.rows.Get(ctx, id)
	switch {
	case err != nil:
		return nil, err
	case !found:
		return nil, ErrNotFound
	}
	return a, nil
}

// invalidate drops id from this replica's cache.
func (d *directory) invalidate(id string) { d.rows.Drop(id) }

// changed is called after a change to id has committed: it drops the entry here at once
// and tells every replica (this one included) through the broadcast.
func (d *directory) changed(ctx context.Context, id string) { d.rows.Changed(ctx, id) }
