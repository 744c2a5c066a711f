package cache_test

import (
	"bufio"
	"context"
	"errors"
	"io"
	"net"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
	"go.uber.org/zap/zaptest"

	"github.com/agentidp/agentidp/platform/cache"
)

// closedAddr returns a local address nothing listens on.
func closedAddr(t testing.TB) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	_ = ln.Close()
	return addr
}

// fastFailClient is a client that gives up quickly: short timeouts, one dial attempt, no
// retried commands.
func fastFailClient(t testing.TB, addr string) *redis.Client {
	c := redis.NewClient(&redis.Options{
		Addr:          addr,
		DialTimeout:   200 * time.Millisecond,
		DialerRetries: 1,
		ReadTimeout:   200 * time.Millisecond,
		WriteTimeout:  200 * time.Millisecond,
		MaxRetries:    -1,
		PoolSize:      4,
	})
	t.Cleanup(func() { _ = c.Close() })
	return c
}

// everyOp calls each Cache method that talks to the store and returns their errors by name.
func everyOp(ctx context.Context, c cache.Cache) map[string]error {
	l := cache.PerWindow(10, time.Minute)
	errs := map[string]error{}
	_, _, errs["Get"] = c.Get(ctx, "k")
	errs["Set"] = c.Set(ctx, "k", "v", time.Minute)
	_, errs["SetNX"] = c.SetNX(ctx, "k", "v", time.Minute)
	errs["Delete"] = c.Delete(ctx, "k")
	_, errs["IncrBy"] = c.IncrBy(ctx, "n", 1, time.Minute)
	_, _, errs["IncrUpTo"] = c.IncrUpTo(ctx, "n", 1, 10, time.Minute)
	_, errs["GetCount"] = c.GetCount(ctx, "n")
	_, errs["SetCountIfAbsent"] = c.SetCountIfAbsent(ctx, "n", 1, time.Minute)
	_, errs["Allow"] = c.Allow(ctx, "rl", l)
	_, _, _, errs["AllowIncrUpTo"] = c.AllowIncrUpTo(ctx, "rl", l, "n", 1, 10, time.Minute)
	errs["Publish"] = c.Publish(ctx, "ch", []byte("x"))
	errs["Ping"] = c.Ping(ctx)
	return errs
}

func TestRedisUnavailableOnClosedPort(t *testing.T) {
	r := cache.NewRedis(fastFailClient(t, closedAddr(t)), "p:", zaptest.NewLogger(t))
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()

	start := time.Now()
	for op, err := range everyOp(ctx, r) {
		if !errors.Is(err, cache.ErrUnavailable) {
			t.Errorf("%s: error %v does not wrap ErrUnavailable", op, err)
		}
	}
	t.Logf("%d operations failed in %v", len(everyOp(ctx, r)), time.Since(start))

	// Subscribing to an unreachable Redis neither blocks for long nor panics; Close stops
	// the retrying subscription goroutine.
	unsub := r.Subscribe("ch", func([]byte) {})
	time.Sleep(100 * time.Millisecond)
	unsub()
	if err := r.Close(); err != nil {
		t.Fatal(err)
	}
	if err := r.Close(); err != nil {
		t.Fatal("second Close:", err)
	}
}

// The pipelined scripts survive a Redis that has forgotten them (restarted, or SCRIPT
// FLUSH): NOSCRIPT is answered by loading the script, not passed on as an outage.
func TestRedisScriptsReloadAfterFlush(t *testing.T) {
	client := redisForTest(t)
	r := newRedisCache(t, client)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	l := cache.PerWindow(10, time.Minute)
	for i := range 3 {
		if err := client.ScriptFlush(ctx).Err(); err != nil {
			t.Fatal(err)
		}
		if d, err := r.Allow(ctx, "rl", l); err != nil || !d.Allowed {
			t.Fatalf("Allow after SCRIPT FLUSH: %+v, %v", d, err)
		}
		if _, v, ok, err := r.AllowIncrUpTo(ctx, "rl2", l, "n", 1, 10, time.Minute); err != nil || !ok || v != int64(i+1) {
			t.Fatalf("AllowIncrUpTo after SCRIPT FLUSH: %d, %v, %v", v, ok, err)
		}
	}
}

// Commands after Close fail at once with an error wrapping ErrUnavailable; none blocks.
func TestRedisClosedCacheFailsFast(t *testing.T) {
	r := cache.NewRedis(redisForTest(t), uniquePrefix(t), zaptest.NewLogger(t))
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if _, _, err := r.Get(ctx, "k"); err != nil {
		t.Fatal(err)
	}
	if err := r.Close(); err != nil {
		t.Fatal(err)
	}
	for range 3 * 1024 { // more than the pipeline's queue holds
		callCtx, cancel := context.WithTimeout(ctx, time.Second)
		_, _, err := r.Get(callCtx, "k")
		cancel()
		if !errors.Is(err, cache.ErrUnavailable) || errors.Is(err, context.DeadlineExceeded) {
			t.Fatalf("Get after Close: %v, want an immediate error wrapping ErrUnavailable", err)
		}
	}
}

func TestRedisServerGoesAwayAndComesBack(t *testing.T) {
	direct := redisForTest(t)
	p := startProxy(t, direct.Options().Addr)
	prefix := uniquePrefix(t)
	t.Cleanup(func() { cleanPrefix(t, direct, prefix) })

	r := cache.NewRedis(fastFailClient(t, p.addr), prefix, zaptest.NewLogger(t))
	cache.SetPingInterval(r, 100*time.Millisecond)
	t.Cleanup(func() { _ = r.Close() })
	publisher := cache.NewRedis(direct, prefix, zaptest.NewLogger(t))

	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	if err := r.Set(ctx, "k", "v", time.Minute); err != nil {
		t.Fatal(err)
	}
	got := make(chan string, 100)
	unsub := r.Subscribe("ch", func(p []byte) { got <- string(p) })
	defer unsub()
	waitDelivered(t, publisher, got, "before")

	p.down()
	for op, err := range everyOp(ctx, r) {
		if !errors.Is(err, cache.ErrUnavailable) {
			t.Errorf("server gone: %s: error %v does not wrap ErrUnavailable", op, err)
		}
	}

	p.up()
	deadline := time.Now().Add(5 * time.Second)
	for {
		v, ok, err := r.Get(ctx, "k")
		if err == nil {
			if !ok || v != "v" {
				t.Fatalf("after recovery Get = %q, %v", v, ok)
			}
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("not recovered after the server came back: %v", err)
		}
		time.Sleep(50 * time.Millisecond)
	}
	waitDelivered(t, publisher, got, "after restart")

	// A connection that dies silently (no FIN, nothing answers): the liveness ping goes
	// unanswered, the subscription is rebuilt on a new connection.
	p.freeze()
	waitDelivered(t, publisher, got, "after freeze")
}

func TestRedisSubscriptionSurvivesClientKill(t *testing.T) {
	direct := redisForTest(t)
	prefix := uniquePrefix(t)
	t.Cleanup(func() { cleanPrefix(t, direct, prefix) })
	opt := *direct.Options()
	opt.ClientName = "agentidp-test-" + strings.Trim(strings.ReplaceAll(prefix, ":", "-"), "-")
	sub := redis.NewClient(&opt)
	t.Cleanup(func() { _ = sub.Close() })

	r := cache.NewRedis(sub, prefix, zaptest.NewLogger(t))
	t.Cleanup(func() { _ = r.Close() })
	publisher := cache.NewRedis(direct, prefix, zaptest.NewLogger(t))

	got := make(chan string, 100)
	unsub := r.Subscribe("ch", func(p []byte) { got <- string(p) })
	defer unsub()
	waitDelivered(t, publisher, got, "before")

	// CLIENT KILL TYPE pubsub, narrowed to this test's connection by ID: the Redis is shared
	// with other tests that may hold pub/sub connections of their own.
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	ids := pubsubClientIDs(t, ctx, direct, opt.ClientName)
	if len(ids) == 0 {
		t.Fatalf("no pub/sub connection named %s in CLIENT LIST", opt.ClientName)
	}
	for _, id := range ids {
		if err := direct.Do(ctx, "CLIENT", "KILL", "TYPE", "pubsub", "ID", id).Err(); err != nil {
			t.Fatalf("CLIENT KILL TYPE pubsub ID %s: %v", id, err)
		}
	}
	waitDelivered(t, publisher, got, "after kill")
	if after := pubsubClientIDs(t, ctx, direct, opt.ClientName); len(after) != 1 || after[0] == ids[0] {
		t.Fatalf("pub/sub connections after the kill: %v (killed %v); want one new one", after, ids)
	}
}

// pubsubClientIDs lists the ids of the pub/sub connections named name.
func pubsubClientIDs(t *testing.T, ctx context.Context, c *redis.Client, name string) []string {
	t.Helper()
	list, err := c.Do(ctx, "CLIENT", "LIST", "TYPE", "pubsub").Text()
	if err != nil {
		t.Fatal(err)
	}
	var ids []string
	sc := bufio.NewScanner(strings.NewReader(list))
	for sc.Scan() {
		fields := map[string]string{}
		for _, f := range strings.Fields(sc.Text()) {
			if k, v, ok := strings.Cut(f, "="); ok {
				fields[k] = v
			}
		}
		if fields["name"] == name {
			ids = append(ids, fields["id"])
		}
	}
	return ids
}

// waitDelivered publishes msg every 50 ms until it arrives on got (5 s at most): the
// subscription may still be re-establishing itself.
func waitDelivered(t *testing.T, publisher cache.Cache, got <-chan string, msg string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	deadline := time.After(5 * time.Second)
	tick := time.NewTicker(50 * time.Millisecond)
	defer tick.Stop()
	for {
		if err := publisher.Publish(ctx, "ch", []byte(msg)); err != nil {
			t.Fatal(err)
		}
		select {
		case m := <-got:
			if m == msg {
				return
			}
		case <-tick.C:
		case <-deadline:
			t.Fatalf("%q not delivered within 5s", msg)
		}
	}
}

// proxy is a TCP forwarder to Redis that a test can take down, bring back on the same
// address, or freeze (existing connections silently swallow everything, as in a network
// partition, while new connections work).
type proxy struct {
	t      testing.TB
	target string
	addr   string

	mu    sync.Mutex
	ln    net.Listener
	pairs []*proxyPair
	wg    sync.WaitGroup
}

type proxyPair struct {
	client, server net.Conn
	frozen         atomic.Bool
}

func startProxy(t testing.TB, target string) *proxy {
	p := &proxy{t: t, target: target}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	p.addr = ln.Addr().String()
	p.serve(ln)
	t.Cleanup(func() { p.down(); p.wg.Wait() })
	return p
}

func (p *proxy) serve(ln net.Listener) {
	p.mu.Lock()
	p.ln = ln
	p.mu.Unlock()
	p.wg.Add(1)
	go func() {
		defer p.wg.Done()
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			s, err := net.Dial("tcp", p.target)
			if err != nil {
				_ = c.Close()
				continue
			}
			pair := &proxyPair{client: c, server: s}
			p.mu.Lock()
			p.pairs = append(p.pairs, pair)
			p.mu.Unlock()
			p.wg.Add(2)
			go p.pipe(pair, s, c)
			go p.pipe(pair, c, s)
		}
	}()
}

func (p *proxy) pipe(pair *proxyPair, dst, src net.Conn) {
	defer p.wg.Done()
	buf := make([]byte, 32<<10)
	for {
		n, err := src.Read(buf)
		if n > 0 && !pair.frozen.Load() {
			if _, werr := dst.Write(buf[:n]); werr != nil {
				err = werr
			}
		}
		if err != nil {
			if !errors.Is(err, io.EOF) && !errors.Is(err, net.ErrClosed) {
				p.t.Logf("proxy: %v", err)
			}
			_ = dst.Close()
			_ = src.Close()
			return
		}
	}
}

// down closes the listener and every connection.
func (p *proxy) down() {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.ln != nil {
		_ = p.ln.Close()
		p.ln = nil
	}
	for _, pair := range p.pairs {
		_ = pair.client.Close()
		_ = pair.server.Close()
	}
	p.pairs = nil
}

// up listens again on the same address.
func (p *proxy) up() {
	var err error
	for range 50 {
		var ln net.Listener
		if ln, err = net.Listen("tcp", p.addr); err == nil {
			p.serve(ln)
			return
		}
		time.Sleep(20 * time.Millisecond)
	}
	p.t.Fatalf("proxy: listen again on %s: %v", p.addr, err)
}

// freeze makes every existing connection a black hole; it stays open.
func (p *proxy) freeze() {
	p.mu.Lock()
	defer p.mu.Unlock()
	for _, pair := range p.pairs {
		pair.frozen.Store(true)
	}
}
