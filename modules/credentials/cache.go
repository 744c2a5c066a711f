package credentials

import (
	"context"
	"sync"
	"sync/atomic"
	"time"

	"github.com/google/uuid"
	"github.com/uptrace/bun"

	"github.com/agentidp/agentidp/platform/config"
)

// Bounds and lifetimes of the caches.
const (
	cacheTTL       = 30 * time.Second // an agent's credentials stay in memory this long
	cacheMaxAgents = 100_000
	memoMax        = 100_000
)

// caches are the verifier's in-memory state: an agent's live credentials, the memo of slow
// verifications, the digests of Vault-held secrets, and for State the dead credentials and
// the owners of live ones. The invalidator drops an agent from them.
type caches struct {
	agents *credCache
	memo   *memo
	vault  *vaultDigests
	dead   *boundedMap[State]     // final states of revoked and expired credentials
	owners *boundedMap[uuid.UUID] // credential id → agent id, for State
}

// newCaches builds the caches; an agent's credentials are loaded from repo on a miss.
func newCaches(cfg *config.Config, db *bun.DB, repo repository) *caches {
	vaultTTL := cfg.VaultCacheTTL
	if vaultTTL <= 0 {
		vaultTTL = time.Second
	}
	return &caches{
		agents: newCredCache(cacheTTL, cacheMaxAgents, time.Now, func(ctx context.Context, agentID string) ([]credentialRow, error) {
			return repo.live(ctx, db, agentID, time.Now(), maxLive)
		}),
		memo:   newMemo(memoMax),
		vault:  newVaultDigests(vaultTTL, memoMax),
		dead:   newBoundedMap[State](memoMax),
		owners: newBoundedMap[uuid.UUID](memoMax),
	}
}

// drop forgets the agent's live credentials, memos and Vault digests (dead states are
// final, and a credential's owner never changes: both are kept).
func (c *caches) drop(id uuid.UUID) {
	c.agents.invalidate(id)
	c.memo.dropAgent(id)
	c.vault.dropAgent(id)
}

// liveCred is what verification needs of one usable credential row, decoded once at load.
type liveCred struct {
	id        string
	hash      parsedHash
	vaultPath string
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
	expires time.Time
}

// flight is one load of an agent's rows that concurrent callers share.
type flight struct {
	done  chan struct{}
	entry *agentEntry
	err   error
}

// credCache holds the live credentials of recently seen agents, keyed by agent id, for
// ttl. invalidate drops an agent at once; a load that started before an invalidation is
// not stored (the generation check), so a stale read never outlives the change it missed.
type credCache struct {
	ttl        time.Duration
	maxEntries int
	load       func(ctx context.Context, agentID string) ([]credentialRow, error)
	now        func() time.Time

	mu      sync.RWMutex
	entries map[uuid.UUID]*agentEntry
	flights map[uuid.UUID]*flight
	gen     atomic.Uint64
}

func newCredCache(ttl time.Duration, maxEntries int, now func() time.Time,
	load func(ctx context.Context, agentID string) ([]credentialRow, error)) *credCache {
	return &credCache{ttl: ttl, maxEntries: maxEntries, load: load, now: now,
		entries: map[uuid.UUID]*agentEntry{}, flights: map[uuid.UUID]*flight{}}
}

// get returns the agent's entry from memory, or loads it (one load per agent at a time).
func (c *credCache) get(ctx context.Context, id uuid.UUID) (*agentEntry, error) {
	now := c.now()
	c.mu.RLock()
	e := c.entries[id]
	c.mu.RUnlock()
	if e != nil && now.Before(e.expires) {
		return e, nil
	}

	c.mu.Lock()
	if e := c.entries[id]; e != nil && now.Before(e.expires) {
		c.mu.Unlock()
		return e, nil
	}
	f := c.flights[id]
	if f == nil {
		f = &flight{done: make(chan struct{})}
		c.flights[id] = f
		c.mu.Unlock()
		c.fill(ctx, id, f)
	} else {
		c.mu.Unlock()
	}
	select {
	case <-f.done:
		return f.entry, f.err
	case <-ctx.Done():
		return nil, ctx.Err()
	}
}

// fill runs a load for f and publishes its result.
func (c *credCache) fill(ctx context.Context, id uuid.UUID, f *flight) {
	gen := c.gen.Load()
	agentID := id.String()
	// The load outlives a caller that gives up: others may be waiting on it.
	rows, err := c.load(context.WithoutCancel(ctx), agentID)
	if err == nil {
		f.entry = newAgentEntry(agentID, rows, c.now().Add(c.ttl))
	}
	f.err = err

	c.mu.Lock()
	if c.flights[id] == f {
		delete(c.flights, id)
	}
	if err == nil && c.gen.Load() == gen {
		if len(c.entries) >= c.maxEntries {
			c.evictLocked()
		}
		c.entries[id] = f.entry
	}
	c.mu.Unlock()
	close(f.done)
}

// evictLocked drops expired entries, or one arbitrary entry when none is expired.
func (c *credCache) evictLocked() {
	now := c.now()
	for k, e := range c.entries {
		if !now.Before(e.expires) {
			delete(c.entries, k)
		}
	}
	if len(c.entries) < c.maxEntries {
		return
	}
	for k := range c.entries {
		delete(c.entries, k)
		return
	}
}

// invalidate drops the agent's entry and detaches a load in flight, so that the next
// caller reads the database again.
func (c *credCache) invalidate(id uuid.UUID) {
	c.mu.Lock()
	c.gen.Add(1)
	delete(c.entries, id)
	delete(c.flights, id)
	c.mu.Unlock()
}

func newAgentEntry(agentID string, rows []credentialRow, expires time.Time) *agentEntry {
	e := &agentEntry{agentID: agentID, expires: expires, creds: make([]liveCred, 0, len(rows))}
	for i := range rows {
		r := &rows[i]
		c := liveCred{id: r.ID, vaultPath: r.VaultPath}
		if r.VaultPath == "" {
			c.hash = parseHash(r.SecretHash)
		} else {
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

// memo remembers, for a bounded number of digests, which credential a secret verified
// against when that took a slow step (bcrypt) or a remote one (Vault). An entry only says
// "this digest matched credential X"; X must still be live in the agent's entry to pass.
type memo struct {
	max int
	mu  sync.RWMutex
	m   map[digest]memoHit
}

type memoHit struct {
	agent   uuid.UUID
	credID  string
	expires time.Time // zero: until the agent is invalidated
}

func newMemo(max int) *memo { return &memo{max: max, m: map[digest]memoHit{}} }

func (m *memo) get(d *digest, agent uuid.UUID, now time.Time) (string, bool) {
	m.mu.RLock()
	h, ok := m.m[*d]
	m.mu.RUnlock()
	if !ok || h.agent != agent || (!h.expires.IsZero() && !now.Before(h.expires)) {
		return "", false
	}
	return h.credID, true
}

func (m *memo) put(d *digest, h memoHit) {
	m.mu.Lock()
	if len(m.m) >= m.max {
		clear(m.m)
	}
	m.m[*d] = h
	m.mu.Unlock()
}

// dropAgent forgets every memo of agent.
func (m *memo) dropAgent(agent uuid.UUID) {
	m.mu.Lock()
	for k, h := range m.m {
		if h.agent == agent {
			delete(m.m, k)
		}
	}
	m.mu.Unlock()
}

// vaultDigests caches the digest of a Vault-held secret by credential id for the Vault
// cache TTL: the plain secret itself is not kept in memory.
type vaultDigests struct {
	ttl time.Duration
	max int
	mu  sync.Mutex
	m   map[string]vaultDigest
}

type vaultDigest struct {
	agent   uuid.UUID
	d       digest
	expires time.Time
}

func newVaultDigests(ttl time.Duration, max int) *vaultDigests {
	return &vaultDigests{ttl: ttl, max: max, m: map[string]vaultDigest{}}
}

func (v *vaultDigests) get(credID string, now time.Time) (digest, bool) {
	v.mu.Lock()
	e, ok := v.m[credID]
	v.mu.Unlock()
	if !ok || !now.Before(e.expires) {
		return digest{}, false
	}
	return e.d, true
}

func (v *vaultDigests) put(credID string, agent uuid.UUID, d digest, now time.Time) {
	v.mu.Lock()
	if len(v.m) >= v.max {
		clear(v.m)
	}
	v.m[credID] = vaultDigest{agent: agent, d: d, expires: now.Add(v.ttl)}
	v.mu.Unlock()
}

func (v *vaultDigests) dropAgent(agent uuid.UUID) {
	v.mu.Lock()
	for k, e := range v.m {
		if e.agent == agent {
			delete(v.m, k)
		}
	}
	v.mu.Unlock()
}

// boundedMap is a small concurrent map that forgets everything when it grows past max
// (a cache of facts that can always be read again from the database).
type boundedMap[V any] struct {
	max int
	mu  sync.RWMutex
	m   map[string]V
}

func newBoundedMap[V any](max int) *boundedMap[V] {
	return &boundedMap[V]{max: max, m: map[string]V{}}
}

func (b *boundedMap[V]) get(k string) (V, bool) {
	b.mu.RLock()
	v, ok := b.m[k]
	b.mu.RUnlock()
	return v, ok
}

func (b *boundedMap[V]) put(k string, v V) {
	b.mu.Lock()
	if len(b.m) >= b.max {
		clear(b.m)
	}
	b.m[k] = v
	b.mu.Unlock()
}
