package credentials

import (
	"context"
	"encoding/json"
	"errors"
	"time"

	"github.com/go-jose/go-jose/v4"
	"github.com/hashicorp/golang-lru/v2/expirable"
	"github.com/uptrace/bun"

	"github.com/agentidp/agentidp/platform/database"
)

// issuerCacheTTL is how long a trusted issuer read for verification stays in memory. A
// deletion drops it here at once; another replica may hold it this long, but the
// credentials bound to it are revoked in the deletion's transaction and dropped from every
// replica's credential cache (broadcast and poll), so it serves nothing meanwhile.
const issuerCacheTTL = 30 * time.Second

// cachedIssuer is what verification needs of a trusted issuer.
type cachedIssuer struct {
	id, org, issuer string
	jwksURI         string
	keys            jose.JSONWebKeySet // by value; empty when jwksURI is set
	deleted         bool
}

// issuerCache holds trusted issuers by id for the verifier.
type issuerCache struct {
	db      *bun.DB
	repo    issuerRepository
	entries *expirable.LRU[string, *cachedIssuer]
}

func newIssuerCache(db *bun.DB, repo issuerRepository) *issuerCache {
	return &issuerCache{db: db, repo: repo, entries: expirable.NewLRU[string, *cachedIssuer](memoMax, nil, issuerCacheTTL)}
}

// get returns the trusted issuer id, nil when there is none.
func (c *issuerCache) get(ctx context.Context, id string) (*cachedIssuer, error) {
	if e, ok := c.entries.Get(id); ok {
		return e, nil
	}
	row, err := c.repo.get(ctx, c.db, id, false)
	if errors.Is(err, database.ErrNotFound) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	e := &cachedIssuer{id: row.ID, org: row.OrgID, issuer: row.Issuer, jwksURI: row.JWKSURI, deleted: row.DeletedAt != nil}
	if row.JWKS != "" {
		_ = json.Unmarshal([]byte(row.JWKS), &e.keys) // validated at registration
	}
	c.entries.Add(id, e)
	return e, nil
}

func (c *issuerCache) drop(id string) { c.entries.Remove(id) }
