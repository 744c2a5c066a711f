// Package readcache is the cached read model a module keeps of its own rows for the hot
// paths (an agent, an org): lookups by id in an expirable LRU, "not found" included, dropped
// on every replica when the row changes — at once on the replica that made the change, by
// broadcast on the others, and within a poll interval by following the table's change
// column (platform/changefeed) when the broadcast is lost or Redis is down. A load that
// raced with a drop does not store what it read (a generation counter).
package readcache

import (
	"context"
	"sync"
	"sync/atomic"
	"time"

	"github.com/hashicorp/golang-lru/v2/expirable"
	"go.uber.org/zap"

	"github.com/agentidp/agentidp/platform/cache"
	"github.com/agentidp/agentidp/platform/changefeed"
)

// publishTimeout bounds the broadcast after a change; a lost message costs at most a poll.
const publishTimeout = 2 * time.Second

// Change is one changed row: its id and the time of its change.
type Change struct {
	ID string
	At time.Time
}

// Source is where a Cache reads its rows.
type Source[V any] struct {
	// Load reads one row: (value, true), or (zero, false) for an id with no row.
	Load func(ctx context.Context, id string) (V, bool, error)
	// Changes lists the rows changed at or after since and not after until.
	Changes func(ctx context.Context, since, until time.Time) ([]Change, error)
}

// Cache is one module's cached rows. Ids are given in their canonical form.
type Cache[V any] struct {
	src     Source[V]
	bus     cache.Broadcaster
	channel string
	log     *zap.Logger
	now     func() time.Time

	entries *expirable.LRU[string, entry[V]]
	mu      sync.Mutex // orders a load's generation check and store against a drop
	gen     atomic.Uint64

	mark changefeed.Mark // where the next poll starts (the poll's worker only)
}

type entry[V any] struct {
	v     V
	found bool
}

// New is a Cache of at most max rows, each kept for ttl, whose changes are announced on
// channel through bus.
func New[V any](src Source[V], bus cache.Broadcaster, channel string, log *zap.Logger, ttl time.Duration, max int) *Cache[V] {
	return &Cache[V]{src: src, bus: bus, channel: channel, log: log, now: time.Now,
		entries: expirable.NewLRU[string, entry[V]](max, nil, ttl)}
}

// Get returns the row id from memory, or loads it: (value, true), or (zero, false) when no
// such row exists.
func (c *Cache[V]) Get(ctx context.Context, id string) (V, bool, error) {
	if e, ok := c.entries.Get(id); ok {
		return e.v, e.found, nil
	}
	gen := c.gen.Load()
	v, found, err := c.src.Load(ctx, id)
	if err != nil {
		var zero V
		return zero, false, err
	}
	c.mu.Lock()
	if c.gen.Load() == gen { // else a drop ran since the read: do not keep what we read
		c.entries.Add(id, entry[V]{v: v, found: found})
	}
	c.mu.Unlock()
	return v, found, nil
}

// Drop forgets id on this replica.
func (c *Cache[V]) Drop(id string) {
	c.mu.Lock()
	c.gen.Add(1)
	c.entries.Remove(id)
	c.mu.Unlock()
}

// Len is the number of rows held.
func (c *Cache[V]) Len() int { return c.entries.Len() }

// Changed is called after a change to id has committed: it drops the row here at once and
// tells every replica (this one included) through the broadcast.
func (c *Cache[V]) Changed(ctx context.Context, id string) {
	c.Drop(id)
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), publishTimeout)
	defer cancel()
	if err := c.bus.Publish(ctx, c.channel, []byte(id)); err != nil {
		c.log.Warn("broadcasting a change failed; other replicas catch up at their next poll (about a second)",
			zap.String("channel", c.channel), zap.String("id", id), zap.Error(err))
	}
}

// OnMessage is the channel's handler: another replica (or this one) changed a row. canon
// reads the id (nil: taken as it is).
func (c *Cache[V]) OnMessage(canon func(string) (string, bool)) func(payload []byte) {
	return func(payload []byte) {
		id := string(payload)
		if canon != nil {
			var ok bool
			if id, ok = canon(id); !ok {
				return
			}
		}
		c.Drop(id)
	}
}

// Poll drops the rows changed since the last poll (on any replica). The first poll only
// marks where to start: the cache holds nothing older than the start.
func (c *Cache[V]) Poll(ctx context.Context) error {
	now := c.now()
	if !c.mark.Started() {
		c.mark.Start(now)
		return nil
	}
	rows, err := c.src.Changes(ctx, c.mark.Since(now), now)
	if err != nil {
		return err
	}
	for _, r := range rows {
		c.Drop(r.ID)
		c.mark.Saw(r.At)
	}
	return nil
}
