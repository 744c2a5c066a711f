package cache

import (
	"context"
	"errors"
	"fmt"
	"net"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/redis/go-redis/v9"
	"go.uber.org/zap"
)

// Redis is the Cache on Redis 7 through go-redis v9. Every key and channel is prefixed by the
// prefix given to NewRedis. Read-modify-write operations are single commands or Lua scripts
// (sent by EVALSHA), so they are atomic across replicas. Every failure to talk to Redis
// wraps ErrUnavailable; an absent key (redis.Nil) is not a failure.
type Redis struct {
	client redis.UniversalClient
	prefix string
	log    *zap.Logger

	hub hub

	// mu serialises SUBSCRIBE/UNSUBSCRIBE so that the last unsubscribe of a channel and the
	// next subscribe to it reach Redis in order, and guards ps and closed.
	mu     sync.Mutex
	ps     *redis.PubSub // nil until the first Subscribe
	closed bool
	stop   chan struct{}
	done   chan struct{} // closed when the receive loop has returned

	pingEvery time.Duration // pubsubPingEvery; tests shorten it

	// The hot commands' pipeline (redis_pipeline.go), started on first use.
	pipeOnce  sync.Once
	pipeQueue chan *pipelined
}

var _ Cache = (*Redis)(nil)

// Pub/sub timing: the receive loop pings after pubsubPingEvery without traffic, and
// recycles the connection when a second interval passes without even the pong; after a
// failure it retries with a backoff from pubsubRetryMin to pubsubRetryMax.
const (
	pubsubPingEvery  = 5 * time.Second
	pubsubRetryMin   = 50 * time.Millisecond
	pubsubRetryMax   = time.Second
	pubsubCmdTimeout = 5 * time.Second
)

// NewRedis returns a Cache on client, with every key and channel prefixed by prefix. It does
// not contact Redis: calls fail with ErrUnavailable until Redis answers. The caller owns
// client and closes it after Close.
func NewRedis(client redis.UniversalClient, prefix string, log *zap.Logger) *Redis {
	if log == nil {
		log = zap.NewNop()
	}
	return &Redis{
		client: client,
		prefix: prefix,
		log:    log,
		stop:   make(chan struct{}),
		done:   make(chan struct{}),

		pingEvery: pubsubPingEvery,
	}
}

// Backend implements Cache.
func (r *Redis) Backend() string { return "redis" }

// Ping implements Cache.
func (r *Redis) Ping(ctx context.Context) error {
	return r.wrap("ping", r.client.Ping(ctx).Err())
}

func (r *Redis) key(k string) string { return r.prefix + k }

// wrap translates go-redis errors: nil and redis.Nil are not failures; a value that is not
// an integer is a misuse and stays a plain error; anything else (network, timeout, closed
// client, LOADING, OOM, READONLY, a cancelled context...) means the cache cannot answer and
// wraps ErrUnavailable, keeping the original error inspectable.
func (r *Redis) wrap(op string, err error) error {
	if err == nil || errors.Is(err, redis.Nil) {
		return nil
	}
	var re redis.Error
	if errors.As(err, &re) && (strings.Contains(err.Error(), "not an integer") ||
		strings.HasPrefix(err.Error(), "WRONGTYPE")) {
		return fmt.Errorf("cache: redis %s: %w (%w)", op, errNotInteger, err)
	}
	return fmt.Errorf("cache: redis %s: %w: %w", op, ErrUnavailable, err)
}

// Get implements KV.
func (r *Redis) Get(ctx context.Context, key string) (string, bool, error) {
	cmd, err := r.pipe(ctx, func(p redis.Pipeliner) redis.Cmder { return p.Get(ctx, r.key(key)) })
	if err != nil {
		return "", false, r.wrap("get", err)
	}
	v, err := cmd.(*redis.StringCmd).Result()
	if errors.Is(err, redis.Nil) {
		return "", false, nil
	}
	if err != nil {
		return "", false, r.wrap("get", err)
	}
	return v, true, nil
}

// Set implements KV.
func (r *Redis) Set(ctx context.Context, key, value string, ttl time.Duration) error {
	return r.wrap("set", r.client.Set(ctx, r.key(key), value, redisTTL(ttl)).Err())
}

// SetNX implements KV.
func (r *Redis) SetNX(ctx context.Context, key, value string, ttl time.Duration) (bool, error) {
	ok, err := r.client.SetNX(ctx, r.key(key), value, redisTTL(ttl)).Result()
	if err != nil {
		return false, r.wrap("setnx", err)
	}
	return ok, nil
}

// Delete implements KV.
func (r *Redis) Delete(ctx context.Context, keys ...string) error {
	if len(keys) == 0 {
		return nil
	}
	full := make([]string, len(keys))
	for i, k := range keys {
		full[i] = r.key(k)
	}
	return r.wrap("del", r.client.Del(ctx, full...).Err())
}

// redisTTL is ttl rounded as ttlMillis does; go-redis sends it as PX (or EX when whole
// seconds). 0 stays 0: no expiry (go-redis reserves -1 for KEEPTTL, never produced here).
func redisTTL(ttl time.Duration) time.Duration {
	return time.Duration(ttlMillis(ttl)) * time.Millisecond
}

// incrByScript: INCRBY that sets the TTL (ARGV[2] ms, 0 for none) only when it creates the
// key.
var incrByScript = redis.NewScript(`
if tonumber(ARGV[2]) > 0 then
  redis.call('SET', KEYS[1], 0, 'PX', ARGV[2], 'NX')
end
return redis.call('INCRBY', KEYS[1], ARGV[1])
`)

// incrUpToLua defines incrupto(key, n, limit, ttl ms): add n unless the result would
// exceed limit; a created key gets the TTL (0 for none). Returns {value after the call, 1 if
// incremented else 0}, or an error reply when the key holds no integer.
const incrUpToLua = `
local function incrupto(key, n, limit, ttl)
  local cur = redis.call('GET', key)
  local c = 0
  if cur then
    c = tonumber(cur)
    if c == nil or string.find(cur, '^-?%d+$') == nil then
      return redis.error_reply('ERR value is not an integer or out of range')
    end
  end
  if c + n > limit then
    return {c, 0}
  end
  if cur then
    return {redis.call('INCRBY', key, n), 1}
  end
  if ttl > 0 then
    redis.call('SET', key, n, 'PX', ttl)
  else
    redis.call('SET', key, n)
  end
  return {n, 1}
end
`

// incrUpToScript is IncrUpTo: KEYS[1]; ARGV: n, limit, ttl ms.
var incrUpToScript = redis.NewScript(incrUpToLua + `
return incrupto(KEYS[1], tonumber(ARGV[1]), tonumber(ARGV[2]), tonumber(ARGV[3]))
`)

// IncrBy implements Counters.
func (r *Redis) IncrBy(ctx context.Context, key string, n int64, ttl time.Duration) (int64, error) {
	v, err := incrByScript.Run(ctx, r.client, []string{r.key(key)}, n, ttlMillis(ttl)).Int64()
	if err != nil {
		return 0, r.wrap("incrby", err)
	}
	return v, nil
}

// IncrUpTo implements Counters. A refused increment leaves an absent key absent.
func (r *Redis) IncrUpTo(ctx context.Context, key string, n, limit int64, ttl time.Duration) (int64, bool, error) {
	res, err := incrUpToScript.Run(ctx, r.client, []string{r.key(key)}, n, limit, ttlMillis(ttl)).Int64Slice()
	if err != nil {
		return 0, false, r.wrap("incrupto", err)
	}
	if len(res) != 2 {
		return 0, false, fmt.Errorf("cache: redis incrupto: unexpected reply %v", res)
	}
	return res[0], res[1] == 1, nil
}

// GetCount implements Counters.
func (r *Redis) GetCount(ctx context.Context, key string) (int64, error) {
	v, err := r.client.Get(ctx, r.key(key)).Result()
	if errors.Is(err, redis.Nil) {
		return 0, nil
	}
	if err != nil {
		return 0, r.wrap("get", err)
	}
	n, err := strconv.ParseInt(v, 10, 64)
	if err != nil {
		return 0, errNotInteger
	}
	return n, nil
}

// SetCountIfAbsent implements Counters. SET NX is a single command, atomic without a script.
func (r *Redis) SetCountIfAbsent(ctx context.Context, key string, value int64, ttl time.Duration) (bool, error) {
	ok, err := r.client.SetNX(ctx, r.key(key), value, redisTTL(ttl)).Result()
	if err != nil {
		return false, r.wrap("setnx", err)
	}
	return ok, nil
}

// gcraLua defines gcra(key, interval, tolerance): the generic cell rate algorithm, the
// token bucket expressed as one timestamp (the theoretical arrival time of the next event,
// tat), in microseconds of Redis's own clock (one clock for every replica): an event is
// allowed when tat + interval - tolerance <= now, and then tat advances by interval. The key
// holds tat and expires when the bucket is full again. Returns {allowed 1|0, remaining,
// retry after µs}. The in-process backend's token bucket (golang.org/x/time/rate) gives the
// same decisions; the contract suite checks both. Redis ≥ 5 replicates the SET, not the
// script, so calling TIME before a write is allowed.
const gcraLua = `
local function gcra(key, interval, tolerance)
  local t = redis.call('TIME')
  local now = tonumber(t[1]) * 1000000 + tonumber(t[2])
  local tat = tonumber(redis.call('GET', key) or 0) or 0
  if tat < now then
    tat = now
  end
  local new_tat = tat + interval
  local allow_at = new_tat - tolerance
  if now < allow_at then
    return {0, 0, allow_at - now}
  end
  redis.call('SET', key, string.format('%d', new_tat), 'PX', math.ceil((new_tat - now) / 1000))
  return {1, math.floor((tolerance - (new_tat - now)) / interval), 0}
end
`

// gcraScript is Allow: KEYS[1]; ARGV: emission interval, tolerance.
var gcraScript = redis.NewScript(gcraLua + `
return gcra(KEYS[1], tonumber(ARGV[1]), tonumber(ARGV[2]))
`)

// allowIncrUpToScript is AllowIncrUpTo: KEYS[1] the rate key, KEYS[2] the counter; ARGV:
// interval, tolerance (0 and 0: no rate limit), n, limit, ttl ms. Returns gcra's three
// values followed by incrupto's two ({0, 0} when the rate limit refused).
var allowIncrUpToScript = redis.NewScript(gcraLua + incrUpToLua + `
local d = {1, 0, 0}
local interval = tonumber(ARGV[1])
if interval > 0 then
  d = gcra(KEYS[1], interval, tonumber(ARGV[2]))
  if d[1] == 0 then
    return {0, 0, d[3], 0, 0}
  end
end
local c = incrupto(KEYS[2], tonumber(ARGV[3]), tonumber(ARGV[4]), tonumber(ARGV[5]))
if c.err then
  return c
end
return {1, d[2], 0, c[1], c[2]}
`)

// Allow implements RateLimiter.
func (r *Redis) Allow(ctx context.Context, key string, limit Limit) (Decision, error) {
	interval, tolerance, unlimited, err := gcraParams(limit, time.Microsecond)
	if err != nil {
		return Decision{}, err
	}
	if unlimited {
		return Decision{Allowed: true, Remaining: limit.Burst}, nil
	}
	res, err := r.evalPipelined(ctx, gcraScript, []string{r.key(key)}, interval, tolerance).Int64Slice()
	if err != nil {
		return Decision{}, r.wrap("ratelimit", err)
	}
	if len(res) != 3 {
		return Decision{}, fmt.Errorf("cache: redis ratelimit: unexpected reply %v", res)
	}
	return gcraDecision(res), nil
}

// gcraDecision reads gcra's three values (allowed 1|0, remaining, retry after µs).
func gcraDecision(res []int64) Decision {
	return Decision{Allowed: res[0] == 1, Remaining: int(res[1]), RetryAfter: time.Duration(res[2]) * time.Microsecond}
}

// AllowIncrUpTo implements Admitter, in one script: one round trip.
func (r *Redis) AllowIncrUpTo(ctx context.Context, rateKey string, limit Limit, counterKey string,
	n, max int64, ttl time.Duration) (Decision, int64, bool, error) {
	interval, tolerance, unlimited, err := gcraParams(limit, time.Microsecond)
	if err != nil {
		return Decision{}, 0, false, err
	}
	if unlimited {
		interval, tolerance = 0, 0
	}
	res, err := r.evalPipelined(ctx, allowIncrUpToScript, []string{r.key(rateKey), r.key(counterKey)},
		interval, tolerance, n, max, ttlMillis(ttl)).Int64Slice()
	if err != nil {
		return Decision{}, 0, false, r.wrap("allow+incrupto", err)
	}
	if len(res) != 5 {
		return Decision{}, 0, false, fmt.Errorf("cache: redis allow+incrupto: unexpected reply %v", res)
	}
	d := gcraDecision(res[:3])
	if unlimited {
		d.Remaining = limit.Burst
	}
	return d, res[3], res[4] == 1, nil
}

// Publish implements Broadcaster.
func (r *Redis) Publish(ctx context.Context, channel string, payload []byte) error {
	return r.wrap("publish", r.client.Publish(ctx, r.key(channel), payload).Err())
}

// Subscribe implements Broadcaster. All subscriptions share one pub/sub connection, read by
// one goroutine started by the first Subscribe; a channel is subscribed in Redis while it
// has local subscribers. The subscription takes effect once Redis has processed it, shortly
// after Subscribe returns; if Redis is unreachable it takes effect when Redis is back.
func (r *Redis) Subscribe(channel string, fn func(payload []byte)) (unsubscribe func()) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.closed {
		return func() {}
	}
	s, first := r.hub.add(channel, fn)
	if first {
		if r.ps == nil {
			// No channel yet, so go-redis does not connect here; the receive loop or the
			// Subscribe below will.
			r.ps = r.client.Subscribe(context.Background())
			go r.receive()
		}
		ctx, cancel := context.WithTimeout(context.Background(), pubsubCmdTimeout)
		// go-redis records the channel even when this fails, and subscribes to it again on
		// every (re)connection, so an error here only delays the subscription.
		if err := r.ps.Subscribe(ctx, r.key(channel)); err != nil {
			r.log.Warn("subscribe failed; will subscribe when Redis is back",
				zap.String("channel", channel), zap.Error(err))
		}
		cancel()
	}
	return func() { r.unsubscribe(s) }
}

func (r *Redis) unsubscribe(s *subscriber) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if !r.hub.remove(s) || r.closed || r.ps == nil {
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), pubsubCmdTimeout)
	defer cancel()
	// go-redis forgets the channel even when this fails, so it is not resubscribed on the
	// next connection; until then a stray message finds no local subscriber.
	if err := r.ps.Unsubscribe(ctx, r.key(s.channel)); err != nil {
		r.log.Debug("unsubscribe failed", zap.String("channel", s.channel), zap.Error(err))
	}
}

// Close stops the subscription goroutine and waits for it. It does not close the client,
// which belongs to the caller. The other methods keep working; Subscribe becomes a no-op.
func (r *Redis) Close() error {
	r.mu.Lock()
	if r.closed {
		r.mu.Unlock()
		return nil
	}
	r.closed = true
	close(r.stop)
	ps := r.ps
	r.mu.Unlock()
	if ps != nil {
		_ = ps.Close()
		<-r.done
	}
	r.hub.clear()
	return nil
}

func (r *Redis) currentPubSub() *redis.PubSub {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.ps
}

// receive is the subscription goroutine: it reads the pub/sub connection and hands each
// message to the local subscribers. go-redis redials and resubscribes every recorded
// channel after a read or write error; this loop adds the backoff, the logging, and a
// liveness check for a connection that died silently (no pong within two intervals: it
// replaces the PubSub with a new one subscribed to the same channels).
func (r *Redis) receive() {
	defer close(r.done)
	ctx := context.Background()
	ps := r.currentPubSub()
	healthy, pingPending := true, false
	backoff := pubsubRetryMin
	for {
		msg, err := ps.ReceiveTimeout(ctx, r.pingEvery)
		if r.stopped() {
			return
		}
		if err != nil {
			var ne net.Error
			if errors.As(err, &ne) && ne.Timeout() {
				if !pingPending {
					pingPending = true
					pctx, cancel := context.WithTimeout(ctx, pubsubCmdTimeout)
					_ = ps.Ping(pctx) // a failed write makes go-redis reconnect
					cancel()
					continue
				}
				err = errors.New("no pong from Redis")
				if ps = r.replacePubSub(ps); ps == nil {
					return
				}
				pingPending = false
			}
			if healthy {
				r.log.Warn("Redis pub/sub connection lost; resubscribing", zap.Error(err))
				healthy = false
			}
			if !r.sleep(backoff) {
				return
			}
			backoff = min(2*backoff, pubsubRetryMax)
			continue
		}
		pingPending = false
		if !healthy {
			r.log.Info("Redis pub/sub connection restored")
			healthy = true
		}
		backoff = pubsubRetryMin
		if m, ok := msg.(*redis.Message); ok {
			if ch, ok := strings.CutPrefix(m.Channel, r.prefix); ok {
				r.hub.deliver(ch, m.Payload)
			}
		}
	}
}

// replacePubSub closes old and installs a new PubSub subscribed to every channel that has
// subscribers; nil when the Redis has been closed meanwhile.
func (r *Redis) replacePubSub(old *redis.PubSub) *redis.PubSub {
	_ = old.Close()
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.closed {
		return nil
	}
	chans := r.hub.channels()
	for i, ch := range chans {
		chans[i] = r.key(ch)
	}
	r.ps = r.client.Subscribe(context.Background())
	if len(chans) > 0 {
		ctx, cancel := context.WithTimeout(context.Background(), pubsubCmdTimeout)
		_ = r.ps.Subscribe(ctx, chans...) // recorded even on failure, as above
		cancel()
	}
	return r.ps
}

func (r *Redis) stopped() bool {
	select {
	case <-r.stop:
		return true
	default:
		return false
	}
}

// sleep waits d, or returns false as soon as Close is called.
func (r *Redis) sleep(d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-r.stop:
		return false
	}
}
