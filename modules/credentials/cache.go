package credentials

import (
	"context"
	"encoding/json"
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	"github.com/go-jose/go-jose/v4"
	"github.com/google/uuid"
	"github.com/hashicorp/golang-lru/v2/expirable"
	"github.com/uptrace/bun"
	"golang.org/x/sync/singleflight"

	"github.com/agentidp/agentidp/platform/config"
)

// Bounds and lifetimes of the caches (expirable LRUs: past its bound, a cache forgets its
// least recently used entry).
const (
	cacheTTL       = 30 * time.Second // an agent's credentials stay in memory this long
	cacheMaxAgents = 100_000
	memoMax        = 100_000 // agents in the memo; Vault digests; dead credentials; owners
)

// caches are the verifier's in-memory state: an agent's live credentials, the memo of slow
// verifications, the digests of Vault-held secrets, and for State the dead credentials and
// the owners of live ones. The invalidator drops an agent from them.
type caches struct {
	agents *credCache
	memo   *memo
	// vault holds the digest of a Vault-held secret by credential id, for the Vault cache
	// TTL: the plain secret itself is not kept in memory.
	vault *expirable.LRU[string, digest]
	// dead holds the final states of revoked and expired credentials (final: no TTL).
	dead *expirable.LRU[string, State]
	// owners maps a live credential's id to its agent's, for State (it never changes).
	owners *expirable.LRU[string, uuid.UUID]
}

// newCaches builds the caches; an agent's credentials are loaded from repo on a miss.
func newCaches(cfg *config.Config, db *bun.DB, repo repository) *caches {
	vaultTTL := cfg.VaultCacheTTL
	if vaultTTL <= 0 {
		vaultTTL = time.Second
	}
	return &caches{
		agents: newCredCache(cacheTTL, cacheMaxAgents, func(ctx context.Context, agentID string) ([]credentialRow, error) {
			return repo.live(ctx, db, agentID, time.Now(), maxLive)
		}),
		memo:   newMemo(memoMax),
		vault:  expirable.NewLRU[string, digest](memoMax, nil, vaultTTL),
		dead:   expirable.NewLRU[string, State](memoMax, nil, 0),
		owners: expirable.NewLRU[string, uuid.UUID](memoMax, nil, 0),
	}
}

// drop forgets the agent's live credentials, its memos, and the Vault digests of the
// credentials its cached entry lists: O(the agent's entries), no scan. (A digest whose
// agent entry had already expired is not found this way; it expires within the Vault cache
// TTL, and is never consulted meanwhile: only credentials live in a fresh entry are.) Dead
// states are final and a credential's owner never changes: both are kept.
func (c *caches) drop(id uuid.UUID) {
	if e := c.agents.invalidate(id); e != nil {
		for i := range e.creds {
			if e.creds[i].hash.kind == kindVault {
				c.vault.Remove(e.creds[i].id)
			}
		}
	}
	c.memo.dropAgent(id)
}

// liveCred is what verification needs of one usable credential row, decoded once at load.
type liveCred struct {
	id        string
	typ       Type
	hash      parsedHash // secrets only; the zero value (no kind) never matches
	vaultPath string
	keys      jose.JSONWebKeySet // private_key_jwt
	issuerID  string             // federated
	subject   string             // federated
	// until is when the credential stops working: the earlier of its expiry and a scheduled
	// revocation (a rotation's grace period); zero when neither is set.
	until time.Time
}

// usable reports whether c still works at now.
func (c *liveCred) usable(now time.Time) bool {
	return c.until.IsZero() || now.Before(c.until)
}

// agentEntry is the cached set of an agent's live credentials; empty for an agent with
// none, or an unknown client id (so that unknown clients do not reach the database either).
type agentEntry struct {
	agentID string // canonical form
	creds   []liveCred
}

// credCache holds the live credentials of recently seen agents, keyed by agent id, for ttl.
// Concurrent misses of one agent share one load (singleflight). invalidate drops an agent at
// once and forgets its load in flight, so that later callers read again; a load that
// started before an invalidation is not stored (the generation check), so a stale read
// never outlives the change it missed.
type credCache struct {
	entries *expirable.LRU[uuid.UUID, *agentEntry]
	loads   singleflight.Group // keyed by the canonical agent id
	load    func(ctx context.Context, agentID string) ([]credentialRow, error)

	mu  sync.Mutex // orders a load's generation check and store against invalidate
	gen atomic.Uint64
}

func newCredCache(ttl time.Duration, maxEntries int,
	load func(ctx context.Context, agentID string) ([]credentialRow, error)) *credCache {
	return &credCache{entries: expirable.NewLRU[uuid.UUID, *agentEntry](maxEntries, nil, ttl), load: load}
}

// get returns the agent's entry from memory, or loads it (one load per agent at a time). A
// caller whose context ends stops waiting; the load goes on for the others.
func (c *credCache) get(ctx context.Context, id uuid.UUID) (*agentEntry, error) {
	if e, ok := c.entries.Get(id); ok {
		return e, nil
	}
	agentID := id.String()
	// The load outlives a caller that gives up: others may be waiting on it.
	loadCtx := context.WithoutCancel(ctx)
	ch := c.loads.DoChan(agentID, func() (any, error) { return c.fill(loadCtx, id, agentID) })
	select {
	case r := <-ch:
		if r.Err != nil {
			return nil, r.Err
		}
		return r.Val.(*agentEntry), nil
	case <-ctx.Done():
		return nil, ctx.Err()
	}
}

// fill loads the agent's rows and stores them unless an invalidation ran meanwhile. It runs
// on singleflight's goroutine, which cannot hand a panic to the callers (DoChan re-panics
// where nothing recovers): a load that panics fails its callers with an error instead.
func (c *credCache) fill(ctx context.Context, id uuid.UUID, agentID string) (e *agentEntry, err error) {
	defer func() {
		if r := recover(); r != nil {
			e, err = nil, fmt.Errorf("credentials: loading the credentials of agent %s panicked: %v", agentID, r)
		}
	}()
	gen := c.gen.Load()
	rows, err := c.load(ctx, agentID)
	if err != nil {
		return nil, err
	}
	e = newAgentEntry(agentID, rows)
	c.mu.Lock()
	if c.gen.Load() == gen {
		c.entries.Add(id, e)
	}
	c.mu.Unlock()
	return e, nil
}

// invalidate drops the agent's entry and forgets a load in flight, so that the next caller
// reads the database again; it returns the entry it dropped (nil if none was live).
func (c *credCache) invalidate(id uuid.UUID) *agentEntry {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.gen.Add(1)
	e, _ := c.entries.Peek(id)
	c.entries.Remove(id)
	c.loads.Forget(id.String())
	return e
}

func newAgentEntry(agentID string, rows []credentialRow) *agentEntry {
	e := &agentEntry{agentID: agentID, creds: make([]liveCred, 0, len(rows))}
	for i := range rows {
		r := &rows[i]
		c := liveCred{id: r.ID, typ: r.typ(), vaultPath: r.VaultPath, subject: r.Subject}
		switch {
		case c.typ == TypePrivateKeyJWT:
			// Stored as validated at creation; a row that no longer decodes has no key.
			_ = json.Unmarshal([]byte(r.JWKS), &c.keys)
		case c.typ == TypeFederated:
			c.issuerID = derefString(r.IssuerID)
		case c.typ != TypeSecret:
		case r.VaultPath == "":
			c.hash = parseHash(r.SecretHash)
		default:
			c.hash.kind = kindVault
		}
		if r.ExpiresAt != nil {
			c.until = *r.ExpiresAt
		}
		if r.RevokedAt != nil && (c.until.IsZero() || r.RevokedAt.Before(c.until)) {
			c.until = *r.RevokedAt
		}
		e.creds = append(e.creds, c)
	}
	return e
}

// memo remembers, per agent, which credential a secret verified against when that took a
// slow step (bcrypt) or a remote one (Vault). An entry only says "this digest matched
// credential X"; X must still be live in the agent's entry to pass. It is an LRU of agents,
// so that dropping an agent costs one removal; an agent's set holds at most one digest per
// bcrypt or Vault credential of the agent (only digests that matched one are put, and the
// set is dropped whenever the agent's credentials change).
type memo struct {
	agents *expirable.LRU[uuid.UUID, *memoSet]
}

// memoSet is one agent's memos.
type memoSet struct {
	mu   sync.Mutex
	hits map[digest]memoHit
}

type memoHit struct {
	credID  string
	expires time.Time // zero: until the agent is invalidated
}

func newMemo(maxAgents int) *memo {
	return &memo{agents: expirable.NewLRU[uuid.UUID, *memoSet](maxAgents, nil, 0)}
}

func (m *memo) get(d *digest, agent uuid.UUID, now time.Time) (string, bool) {
	set, ok := m.agents.Get(agent)
	if !ok {
		return "", false
	}
	set.mu.Lock()
	h, ok := set.hits[*d]
	set.mu.Unlock()
	if !ok || (!h.expires.IsZero() && !now.Before(h.expires)) {
		return "", false
	}
	return h.credID, true
}

// put remembers h for d. A put racing with another agent's first put, or with dropAgent,
// may land in a set that is no longer cached: that memo is lost (the slow step runs again),
// never wrong.
func (m *memo) put(d *digest, agent uuid.UUID, h memoHit) {
	set, ok := m.agents.Get(agent)
	if !ok {
		set = &memoSet{hits: map[digest]memoHit{}}
		m.agents.Add(agent, set)
	}
	set.mu.Lock()
	set.hits[*d] = h
	set.mu.Unlock()
}

// dropAgent forgets every memo of agent.
func (m *memo) dropAgent(agent uuid.UUID) { m.agents.Remove(agent) }
