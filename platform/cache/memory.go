package cache

import (
	"context"
	"hash/maphash"
	"math"
	"strconv"
	"sync"
	"time"

	"golang.org/x/time/rate"
)

const (
	memShards       = 64 // a power of two
	memSweepEvery   = 10 * time.Second
	memPublishQueue = 256
)

// Memory is the in-process Cache, used when AGENTIDP_REDIS_URL is not set. It behaves as the
// Redis backend does (the contract suite checks both): keys and counters share one keyspace
// and expire lazily on access and by a periodic sweep; the rate limiter is a token bucket per
// key (golang.org/x/time/rate), which the Redis backend's GCRA script computes the same way;
// broadcasts reach this process's subscribers only, on one delivery goroutine.
//
// Its methods never return ErrUnavailable, and they ignore ctx: they do not block.
type Memory struct {
	seed   maphash.Seed
	base   time.Time // monotonic origin of every stored time
	shards [memShards]memShard

	hub     hub
	publish chan memMessage
	stop    chan struct{}
	wg      sync.WaitGroup
	once    sync.Once
}

// memShard is one lock's worth of keys, padded to its own cache line.
type memShard struct {
	mu      sync.Mutex
	kv      map[string]memEntry
	buckets map[string]*rate.Limiter // rate limiter: one token bucket per key
	_       [40]byte
}

// memEntry is a string or, for counters, an integer (converted on demand, as Redis does, so
// that a counter never has to be formatted and parsed on the hot path).
type memEntry struct {
	str   string
	num   int64
	isNum bool
	exp   int64 // ns since base; 0 = no expiry
}

type memMessage struct{ channel, payload string }

var _ Cache = (*Memory)(nil)

// NewMemory returns an empty in-process cache. Its sweep and delivery goroutines run until
// Close.
func NewMemory() *Memory {
	m := &Memory{
		seed:    maphash.MakeSeed(),
		base:    time.Now(),
		publish: make(chan memMessage, memPublishQueue),
		stop:    make(chan struct{}),
	}
	for i := range m.shards {
		m.shards[i].kv = make(map[string]memEntry)
		m.shards[i].buckets = make(map[string]*rate.Limiter)
	}
	m.wg.Add(2)
	go m.sweepLoop()
	go m.deliverLoop()
	return m
}

// Close stops the sweep and the delivery of broadcasts (messages still queued are dropped)
// and waits for both goroutines. The keys stay usable; Subscribe becomes a no-op.
func (m *Memory) Close() error {
	m.once.Do(func() {
		close(m.stop)
		m.wg.Wait()
		m.hub.clear()
	})
	return nil
}

// Backend implements Cache.
func (m *Memory) Backend() string { return "memory" }

// Ping implements Cache: the process is always reachable.
func (m *Memory) Ping(context.Context) error { return nil }

func (m *Memory) now() int64 { return int64(time.Since(m.base)) }

func (m *Memory) shard(key string) *memShard {
	return &m.shards[maphash.String(m.seed, key)&(memShards-1)]
}

func (m *Memory) expiry(now int64, ttl time.Duration) int64 {
	ms := ttlMillis(ttl)
	if ms == 0 {
		return 0
	}
	if ms > (math.MaxInt64-now)/int64(time.Millisecond) {
		return 0 // centuries away: as good as never
	}
	return now + ms*int64(time.Millisecond)
}

// live returns key's entry unless it is absent or expired (deleting it then). Call with
// s.mu held.
func (s *memShard) live(key string, now int64) (memEntry, bool) {
	e, ok := s.kv[key]
	if ok && e.exp != 0 && e.exp <= now {
		delete(s.kv, key)
		return memEntry{}, false
	}
	return e, ok
}

func (e memEntry) int() (int64, error) {
	if e.isNum {
		return e.num, nil
	}
	n, err := strconv.ParseInt(e.str, 10, 64)
	if err != nil {
		return 0, errNotInteger
	}
	return n, nil
}

// Get implements KV.
func (m *Memory) Get(_ context.Context, key string) (string, bool, error) {
	s := m.shard(key)
	s.mu.Lock()
	e, ok := s.live(key, m.now())
	s.mu.Unlock()
	if !ok {
		return "", false, nil
	}
	if e.isNum {
		return strconv.FormatInt(e.num, 10), true, nil
	}
	return e.str, true, nil
}

// Set implements KV. A TTL of 0 clears any previous expiry, as Redis's SET does.
func (m *Memory) Set(_ context.Context, key, value string, ttl time.Duration) error {
	s := m.shard(key)
	s.mu.Lock()
	s.kv[key] = memEntry{str: value, exp: m.expiry(m.now(), ttl)}
	s.mu.Unlock()
	return nil
}

// SetNX implements KV.
func (m *Memory) SetNX(_ context.Context, key, value string, ttl time.Duration) (bool, error) {
	s := m.shard(key)
	s.mu.Lock()
	defer s.mu.Unlock()
	now := m.now()
	if _, ok := s.live(key, now); ok {
		return false, nil
	}
	s.kv[key] = memEntry{str: value, exp: m.expiry(now, ttl)}
	return true, nil
}

// Delete implements KV.
func (m *Memory) Delete(_ context.Context, keys ...string) error {
	for _, key := range keys {
		s := m.shard(key)
		s.mu.Lock()
		delete(s.kv, key)
		s.mu.Unlock()
	}
	return nil
}

// IncrBy implements Counters.
func (m *Memory) IncrBy(_ context.Context, key string, n int64, ttl time.Duration) (int64, error) {
	s := m.shard(key)
	s.mu.Lock()
	defer s.mu.Unlock()
	now := m.now()
	e, ok := s.live(key, now)
	if !ok {
		s.kv[key] = memEntry{num: n, isNum: true, exp: m.expiry(now, ttl)}
		return n, nil
	}
	cur, err := e.int()
	if err != nil {
		return 0, err
	}
	v, overflow := add(cur, n)
	if overflow {
		return 0, errNotInteger
	}
	s.kv[key] = memEntry{num: v, isNum: true, exp: e.exp}
	return v, nil
}

// IncrUpTo implements Counters. A refused increment leaves an absent key absent.
func (m *Memory) IncrUpTo(_ context.Context, key string, n, limit int64, ttl time.Duration) (int64, bool, error) {
	s := m.shard(key)
	s.mu.Lock()
	defer s.mu.Unlock()
	now := m.now()
	e, ok := s.live(key, now)
	var cur int64
	if ok {
		var err error
		if cur, err = e.int(); err != nil {
			return 0, false, err
		}
	}
	v, overflow := add(cur, n)
	if overflow || v > limit {
		return cur, false, nil
	}
	exp := e.exp
	if !ok {
		exp = m.expiry(now, ttl)
	}
	s.kv[key] = memEntry{num: v, isNum: true, exp: exp}
	return v, true, nil
}

// GetCount implements Counters.
func (m *Memory) GetCount(_ context.Context, key string) (int64, error) {
	s := m.shard(key)
	s.mu.Lock()
	e, ok := s.live(key, m.now())
	s.mu.Unlock()
	if !ok {
		return 0, nil
	}
	return e.int()
}

// SetCountIfAbsent implements Counters.
func (m *Memory) SetCountIfAbsent(_ context.Context, key string, value int64, ttl time.Duration) (bool, error) {
	s := m.shard(key)
	s.mu.Lock()
	defer s.mu.Unlock()
	now := m.now()
	if _, ok := s.live(key, now); ok {
		return false, nil
	}
	s.kv[key] = memEntry{num: value, isNum: true, exp: m.expiry(now, ttl)}
	return true, nil
}

func add(a, b int64) (int64, bool) {
	c := a + b
	return c, (b > 0 && c < a) || (b < 0 && c > a)
}

// Allow implements RateLimiter.
func (m *Memory) Allow(_ context.Context, key string, limit Limit) (Decision, error) {
	if _, _, unlimited, err := gcraParams(limit, time.Nanosecond); err != nil || unlimited {
		return Decision{Allowed: err == nil, Remaining: limit.Burst}, err
	}
	s := m.shard(key)
	s.mu.Lock()
	defer s.mu.Unlock()
	now := time.Now()
	b := s.buckets[key]
	switch {
	case b == nil:
		b = rate.NewLimiter(rate.Limit(limit.Rate), limit.Burst)
		s.buckets[key] = b
	case b.Limit() != rate.Limit(limit.Rate) || b.Burst() != limit.Burst:
		b.SetLimitAt(now, rate.Limit(limit.Rate))
		b.SetBurstAt(now, limit.Burst)
	}
	r := b.ReserveN(now, 1)
	if wait := r.DelayFrom(now); wait > 0 {
		r.CancelAt(now)
		return Decision{RetryAfter: wait}, nil
	}
	return Decision{Allowed: true, Remaining: int(b.TokensAt(now))}, nil
}

// AllowIncrUpTo implements Admitter.
func (m *Memory) AllowIncrUpTo(ctx context.Context, rateKey string, limit Limit, counterKey string,
	n, max int64, ttl time.Duration) (Decision, int64, bool, error) {
	d, err := m.Allow(ctx, rateKey, limit)
	if err != nil || !d.Allowed {
		return d, 0, false, err
	}
	v, ok, err := m.IncrUpTo(ctx, counterKey, n, max, ttl)
	return d, v, ok, err
}

// Publish implements Broadcaster: it queues the message for the delivery goroutine, waiting
// for room while ctx allows. After Close it drops the message.
func (m *Memory) Publish(ctx context.Context, channel string, payload []byte) error {
	msg := memMessage{channel: channel, payload: string(payload)}
	select {
	case m.publish <- msg:
		return nil
	case <-m.stop:
		return nil
	default:
	}
	select {
	case m.publish <- msg:
		return nil
	case <-m.stop:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// Subscribe implements Broadcaster.
func (m *Memory) Subscribe(channel string, fn func(payload []byte)) (unsubscribe func()) {
	select {
	case <-m.stop:
		return func() {}
	default:
	}
	s, _ := m.hub.add(channel, fn)
	return func() { m.hub.remove(s) }
}

func (m *Memory) deliverLoop() {
	defer m.wg.Done()
	for {
		select {
		case msg := <-m.publish:
			m.hub.deliver(msg.channel, msg.payload)
		case <-m.stop:
			return
		}
	}
}

func (m *Memory) sweepLoop() {
	defer m.wg.Done()
	t := time.NewTicker(memSweepEvery)
	defer t.Stop()
	for {
		select {
		case <-t.C:
			m.sweep()
		case <-m.stop:
			return
		}
	}
}

// sweep drops expired keys and full (idle) rate-limiter buckets, one shard at a time.
func (m *Memory) sweep() {
	for i := range m.shards {
		s := &m.shards[i]
		s.mu.Lock()
		now := m.now()
		for k, e := range s.kv {
			if e.exp != 0 && e.exp <= now {
				delete(s.kv, k)
			}
		}
		wall := time.Now()
		for k, b := range s.buckets {
			if b.TokensAt(wall) >= float64(b.Burst()) {
				delete(s.buckets, k)
			}
		}
		s.mu.Unlock()
	}
}
