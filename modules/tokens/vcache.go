package tokens

import (
	"hash/maphash"
	"strings"
	"sync"
	"time"
)

const (
	// verifiedCacheSize bounds the tokens whose signature check is remembered (about 1 KiB
	// each).
	verifiedCacheSize = 8192
	vcacheShards      = 16 // a power of two
)

// verifiedCache remembers tokens that passed the signature and claim checks, keyed by the
// exact token string: only the very same bytes hit, so a hit proves what the signature
// proved. It never remembers a verdict on revocation, agent or credential: those are
// checked on every use. Entries leave when their token expires, or at random when a shard
// is full.
type verifiedCache struct {
	seed     maphash.Seed
	perShard int
	shards   [vcacheShards]vcacheShard
}

type vcacheShard struct {
	mu sync.RWMutex
	m  map[string]vcacheEntry
}

type vcacheEntry struct {
	t   *verified
	exp int64 // unix seconds, the token's exp plus the leeway
}

func newVerifiedCache(size int) *verifiedCache {
	c := &verifiedCache{seed: maphash.MakeSeed(), perShard: max(size/vcacheShards, 1)}
	for i := range c.shards {
		c.shards[i].m = make(map[string]vcacheEntry)
	}
	return c
}

func (c *verifiedCache) shard(token string) *vcacheShard {
	return &c.shards[maphash.String(c.seed, token)&(vcacheShards-1)]
}

func (c *verifiedCache) get(token string) *verified {
	s := c.shard(token)
	s.mu.RLock()
	e, ok := s.m[token]
	s.mu.RUnlock()
	if !ok {
		return nil
	}
	return e.t
}

func (c *verifiedCache) put(token string, t *verified, exp int64) {
	s := c.shard(token)
	now := time.Now().Unix()
	s.mu.Lock()
	defer s.mu.Unlock()
	if len(s.m) >= c.perShard {
		for k, e := range s.m {
			if e.exp < now {
				delete(s.m, k)
			}
		}
		// Still full: drop about a quarter, in map order (random).
		for k := range s.m {
			if len(s.m) < c.perShard*3/4 {
				break
			}
			delete(s.m, k)
		}
	}
	// A copy: token may be a slice of a larger request body, which must not stay pinned.
	s.m[strings.Clone(token)] = vcacheEntry{t: t, exp: exp + int64(leeway/time.Second)}
}
