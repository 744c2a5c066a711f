package orgs

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

const (
	// lookupTTL bounds how long an entry lives.
	lookupTTL = 5 * time.Second
	// maxEntries caps the cache.
	maxEntries = 100_000
	// changePollEvery is how often every replica reads the orgs changed since its last
	// poll: the bound on how long a replica that missed the broadcast (Redis down) serves
	// a changed org, a suspended one included.
	changePollEvery = time.Second
)

// directory is the cached Directory (platform/readcache): lookups, "not found" included,
// live for lookupTTL, dropped on every replica when the org changes.
type directory struct {
	rows *readcache.Cache[*Org]
}

var _ Directory = (*directory)(nil)

func newDirectory(db *bun.DB, repo repository, bc cache.Broadcaster, log *zap.Logger, defaultMax int) *directory {
	src := readcache.Source[*Org]{
		Load: func(ctx context.Context, id string) (*Org, bool, error) {
			row, err := repo.get(ctx, db, id)
			switch {
			case errors.Is(err, database.ErrNotFound):
				return nil, false, nil
			case err != nil:
				return nil, false, err
			}
			o, err := row.toOrg(defaultMax)
			return o, err == nil, err
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
	return &directory{rows: readcache.New(src, bc, ChangedChannel, log, lookupTTL, maxEntries)}
}

// Lookup implements Directory. The returned Org is shared and must not be modified.
func (d *directory) Lookup(ctx context.Context, orgID string) (*Org, error) {
	id, ok := ident.Canonical(orgID)
	if !ok {
		return nil, ErrNotFound
	}
	o, found, err := d.rows.Get(ctx, id)
	switch {
	case err != nil:
		return nil, err
	case !found:
		return nil, ErrNotFound
	}
	return o, nil
}

// changed drops the org here and on every replica, after a change to it has committed.
func (d *directory) changed(ctx context.Context, id string) { d.rows.Changed(ctx, id) }
