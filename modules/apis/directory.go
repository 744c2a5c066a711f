package apis

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
	// lookupTTL bounds how long a cached API or grants list lives.
	lookupTTL = 5 * time.Second
	// maxEntries caps each cache.
	maxEntries = 100_000
	// changePollEvery is how often every replica reads the APIs and grants changed since its
	// last poll: the bound on how long a replica that missed the broadcast (Redis down)
	// serves a changed API, a deleted one included, or an agent's former grants.
	changePollEvery = time.Second
)

// Cache keys of the directory: an API by id, and the live API of an org by identifier.
// Both are dropped whenever the API changes.
func idKey(id string) string { return "api " + id }

func identifierKey(orgID, identifier string) string { return "aud " + orgID + " " + identifier }

// directory is the cached Directory (platform/readcache): lookups, "not found" included,
// live for lookupTTL, dropped on every replica when the API changes (ChangedChannel, and a
// poll of the apis table's updated_at every changePollEvery).
type directory struct {
	rows *readcache.Cache[*API]
}

var _ Directory = (*directory)(nil)

func newDirectory(db *bun.DB, repo repository, bc cache.Broadcaster, log *zap.Logger) *directory {
	src := readcache.Source[*API]{
		Load: func(ctx context.Context, key string) (*API, bool, error) {
			var row *apiRow
			var err error
			switch kind, rest := key[:4], key[4:]; kind {
			case "api ":
				row, err = repo.get(ctx, db, rest)
			default:
				org, identifier := rest[:36], rest[37:]
				row, err = repo.liveByIdentifier(ctx, db, org, identifier)
			}
			switch {
			case errors.Is(err, database.ErrNotFound):
				return nil, false, nil
			case err != nil:
				return nil, false, err
			case row.deleted():
				return nil, false, nil
			}
			a, err := row.toAPI()
			return a, err == nil, err
		},
		Changes: func(ctx context.Context, since, until time.Time) ([]readcache.Change, error) {
			rows, err := repo.changedSince(ctx, db, since, until)
			out := make([]readcache.Change, 0, 2*len(rows))
			for _, r := range rows {
				out = append(out, readcache.Change{ID: idKey(r.ID), At: r.UpdatedAt},
					readcache.Change{ID: identifierKey(r.OrgID, r.Identifier), At: r.UpdatedAt})
			}
			return out, err
		},
	}
	return &directory{rows: readcache.New(src, bc, ChangedChannel, log, lookupTTL, maxEntries)}
}

// ByIdentifier implements Directory. The returned API is shared and must not be modified.
func (d *directory) ByIdentifier(ctx context.Context, orgID, identifier string) (*API, error) {
	org, ok := ident.Canonical(orgID)
	if !ok {
		return nil, ErrNotFound
	}
	n, msg := normalize(identifier)
	if msg != "" {
		return nil, ErrNotFound
	}
	return d.get(ctx, identifierKey(org, n))
}

// ByID implements Directory. The returned API is shared and must not be modified.
func (d *directory) ByID(ctx context.Context, id string) (*API, error) {
	id, ok := ident.Canonical(id)
	if !ok {
		return nil, ErrNotFound
	}
	return d.get(ctx, idKey(id))
}

func (d *directory) get(ctx context.Context, key string) (*API, error) {
	a, found, err := d.rows.Get(ctx, key)
	switch {
	case err != nil:
		return nil, err
	case !found:
		return nil, ErrNotFound
	}
	return a, nil
}

// changed is called after a change to the API has committed: it drops both of its keys
// here at once and tells every replica.
func (d *directory) changed(ctx context.Context, a *API) {
	d.rows.Changed(ctx, idKey(a.ID))
	d.rows.Changed(ctx, identifierKey(a.OrgID, a.Identifier))
}

// onMessage is the ChangedChannel handler: it drops a key another replica announced.
// Anything that is not one of our keys is ignored.
func (d *directory) onMessage(payload []byte) {
	key := string(payload)
	if len(key) < 4 || (key[:4] != "api " && key[:4] != "aud ") || len(key) > 600 {
		return
	}
	d.rows.Drop(key)
}

// grantsCache is the cached grants of agents: entries live for lookupTTL and are dropped on
// every replica when the agent's grants change (GrantsChangedChannel, and a poll of the
// api_grants table every changePollEvery).
type grantsCache struct {
	rows *readcache.Cache[[]Grant]
}

func newGrantsCache(db *bun.DB, repo repository, bc cache.Broadcaster, log *zap.Logger) *grantsCache {
	src := readcache.Source[[]Grant]{
		Load: func(ctx context.Context, agentID string) ([]Grant, bool, error) {
			row, err := repo.grantsOf(ctx, db, agentID)
			switch {
			case errors.Is(err, database.ErrNotFound):
				return []Grant{}, true, nil
			case err != nil:
				return nil, false, err
			}
			g, err := decodeGrants(row.AgentID, row.Grants)
			return g, err == nil, err
		},
		Changes: func(ctx context.Context, since, until time.Time) ([]readcache.Change, error) {
			rows, err := repo.grantsChangedSince(ctx, db, since, until)
			out := make([]readcache.Change, len(rows))
			for i, r := range rows {
				out[i] = readcache.Change{ID: r.AgentID, At: r.UpdatedAt}
			}
			return out, err
		},
	}
	return &grantsCache{rows: readcache.New(src, bc, GrantsChangedChannel, log, lookupTTL, maxEntries)}
}
