package credentials

import (
	"context"
	"errors"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/agentidp/agentidp/platform/config"
)

// blockingLoader is a credCache load that can be held: every call counts, and while gate is
// set a call waits on it after announcing itself on started.
type blockingLoader struct {
	calls   atomic.Int64
	started chan struct{}
	mu      sync.Mutex
	gate    chan struct{}
	rows    func() []credentialRow
}

func newBlockingLoader(rows func() []credentialRow) *blockingLoader {
	return &blockingLoader{started: make(chan struct{}, 16), rows: rows}
}

func (l *blockingLoader) hold() chan struct{} {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.gate = make(chan struct{})
	return l.gate
}

// load reads the rows first, then waits while held (a slow query that already read).
func (l *blockingLoader) load(ctx context.Context, _ string) ([]credentialRow, error) {
	l.calls.Add(1)
	rows := l.rows()
	l.mu.Lock()
	gate := l.gate
	l.mu.Unlock()
	if gate != nil {
		l.started <- struct{}{}
		<-gate
	}
	return rows, nil
}

// waitStarted waits for a held load to start, failing the test after 5 s.
func (l *blockingLoader) waitStarted(t *testing.T, what string) {
	t.Helper()
	select {
	case <-l.started:
	case <-time.After(5 * time.Second):
		t.Fatalf("no load started: %s", what)
	}
}

func (l *blockingLoader) release() {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.gate != nil {
		close(l.gate)
		l.gate = nil
	}
}

func credRows(ids ...string) []credentialRow {
	rows := make([]credentialRow, len(ids))
	for i, id := range ids {
		rows[i] = credentialRow{ID: id, SecretHash: "h1$x"}
	}
	return rows
}

var testAgent = uuid.MustParse("0b1c2d3e-4f50-4617-8293-a4b5c6d7e8f9")

// A load that read the rows before an invalidation and finishes after it answers its own
// callers but is not stored: the next get reads again.
func TestCredCacheDoesNotStoreALoadThatRacedAnInvalidation(t *testing.T) {
	var mu sync.Mutex
	current := "old"
	l := newBlockingLoader(func() []credentialRow { mu.Lock(); defer mu.Unlock(); return credRows(current) })
	c := newCredCache(time.Hour, 10, l.load)
	l.hold()
	got := make(chan *agentEntry)
	go func() {
		e, err := c.get(context.Background(), testAgent)
		if err != nil {
			t.Error(err)
		}
		got <- e
	}()
	l.waitStarted(t, "the first get")
	mu.Lock()
	current = "new" // the change commits while the load holds the old rows
	mu.Unlock()
	c.invalidate(testAgent)
	l.release()
	if e := <-got; e.creds[0].id != "old" {
		t.Fatalf("the racing get answers %q, want what it read", e.creds[0].id)
	}
	e, err := c.get(context.Background(), testAgent)
	if err != nil || e.creds[0].id != "new" {
		t.Fatalf("next get: %+v %v; the stale load was stored", e, err)
	}
	if n := l.calls.Load(); n != 2 {
		t.Fatalf("%d loads, want 2", n)
	}
}

// Concurrent gets of one agent share one load; an invalidation detaches it, so that a get
// after the invalidation loads again instead of joining the load that read before it.
func TestCredCacheOneLoadPerAgentUntilInvalidated(t *testing.T) {
	l := newBlockingLoader(func() []credentialRow { return credRows("c1") })
	c := newCredCache(time.Hour, 10, l.load)
	l.hold()
	var wg sync.WaitGroup
	for range 8 {
		wg.Go(func() {
			if _, err := c.get(context.Background(), testAgent); err != nil {
				t.Error(err)
			}
		})
	}
	l.waitStarted(t, "the concurrent gets")
	time.Sleep(20 * time.Millisecond) // let the others join the load
	if n := l.calls.Load(); n != 1 {
		t.Fatalf("%d concurrent loads of one agent, want 1", n)
	}
	c.invalidate(testAgent)
	wg.Go(func() {
		if _, err := c.get(context.Background(), testAgent); err != nil {
			t.Error(err)
		}
	})
	l.waitStarted(t, "the get after the invalidation joined the load from before it")
	l.release()
	wg.Wait()
	if n := l.calls.Load(); n != 2 {
		t.Fatalf("%d loads, want 2", n)
	}
}

// A caller that gives up while waiting for a load gets its context's error; the load goes
// on for the others and is stored.
func TestCredCacheCallerGivingUpDoesNotCancelTheLoad(t *testing.T) {
	l := newBlockingLoader(func() []credentialRow { return credRows("c1") })
	c := newCredCache(time.Hour, 10, l.load)
	l.hold()
	first := make(chan error)
	go func() { _, err := c.get(context.Background(), testAgent); first <- err }()
	l.waitStarted(t, "the first get")
	ctx, cancel := context.WithCancel(context.Background())
	gaveUp := make(chan error)
	go func() { _, err := c.get(ctx, testAgent); gaveUp <- err }()
	time.Sleep(20 * time.Millisecond) // let it join the load
	cancel()
	select {
	case err := <-gaveUp:
		if !errors.Is(err, context.Canceled) {
			t.Fatalf("get with its context cancelled: %v", err)
		}
	case <-time.After(5 * time.Second):
		l.release()
		t.Fatal("a get whose context ended still waits for the load")
	}
	l.release()
	if err := <-first; err != nil {
		t.Fatal(err)
	}
	if _, err := c.get(context.Background(), testAgent); err != nil {
		t.Fatal(err)
	}
	if n := l.calls.Load(); n != 1 {
		t.Fatalf("%d loads, want 1 (the load stored for the next get)", n)
	}
}

// Entries live for the TTL; past the bound the least recently used agent goes first.
func TestCredCacheTTLAndBound(t *testing.T) {
	l := newBlockingLoader(func() []credentialRow { return credRows("c1") })
	c := newCredCache(time.Hour, 2, l.load)
	ctx := context.Background()
	a, b, d := uuid.New(), uuid.New(), uuid.New()
	for _, id := range []uuid.UUID{a, b, a, d} { // a used again before d arrives: b is the oldest
		if _, err := c.get(ctx, id); err != nil {
			t.Fatal(err)
		}
	}
	if n := l.calls.Load(); n != 3 {
		t.Fatalf("%d loads, want 3 (a, b, d)", n)
	}
	for _, id := range []uuid.UUID{a, d} {
		if _, err := c.get(ctx, id); err != nil {
			t.Fatal(err)
		}
	}
	if n := l.calls.Load(); n != 3 {
		t.Fatalf("%d loads, want 3: a and d are still cached", n)
	}
	if _, err := c.get(ctx, b); err != nil || l.calls.Load() != 4 {
		t.Fatalf("b, the least recently used, was not evicted (%d loads, %v)", l.calls.Load(), err)
	}

	short := newCredCache(30*time.Millisecond, 10, l.load)
	l.calls.Store(0)
	if _, err := short.get(ctx, a); err != nil {
		t.Fatal(err)
	}
	time.Sleep(60 * time.Millisecond)
	if _, err := short.get(ctx, a); err != nil || l.calls.Load() != 2 {
		t.Fatalf("an entry outlived its TTL (%d loads, %v)", l.calls.Load(), err)
	}
}

// Dropping an agent forgets its memos and the Vault digests its entry lists, and nothing of
// another agent; a memo past its expiry does not answer.
func TestCachesDropOneAgent(t *testing.T) {
	cfg := &config.Config{VaultCacheTTL: time.Hour}
	c := newCaches(cfg, nil, nil)
	a, b := uuid.New(), uuid.New()
	rows := map[uuid.UUID][]credentialRow{
		a: {{ID: "a-vault", VaultPath: "p/a"}, {ID: "a-hash", SecretHash: "h1$x"}},
		b: {{ID: "b-vault", VaultPath: "p/b"}},
	}
	c.agents.load = func(_ context.Context, agentID string) ([]credentialRow, error) {
		return rows[uuid.MustParse(agentID)], nil
	}
	ctx := context.Background()
	now := time.Now()
	var da, db, dOld digest
	da[0], db[0], dOld[0] = 1, 2, 3
	for _, id := range []uuid.UUID{a, b} {
		if _, err := c.agents.get(ctx, id); err != nil {
			t.Fatal(err)
		}
	}
	c.vault.Add("a-vault", da)
	c.vault.Add("b-vault", db)
	c.memo.put(&da, a, memoHit{credID: "a-vault"})
	c.memo.put(&dOld, a, memoHit{credID: "a-hash", expires: now.Add(-time.Second)})
	c.memo.put(&db, b, memoHit{credID: "b-vault"})
	if _, ok := c.memo.get(&dOld, a, now); ok {
		t.Error("an expired memo answered")
	}
	if _, ok := c.memo.get(&da, b, now); ok {
		t.Error("a memo of agent a answered for agent b")
	}
	if id, ok := c.memo.get(&da, a, now); !ok || id != "a-vault" {
		t.Fatalf("memo of a: %q %v", id, ok)
	}

	c.drop(a)
	if _, ok := c.memo.get(&da, a, now); ok {
		t.Error("a's memo survived the drop")
	}
	if _, ok := c.vault.Get("a-vault"); ok {
		t.Error("a's Vault digest survived the drop")
	}
	if _, ok := c.agents.entries.Peek(a); ok {
		t.Error("a's entry survived the drop")
	}
	if id, ok := c.memo.get(&db, b, now); !ok || id != "b-vault" {
		t.Error("b's memo was dropped with a")
	}
	if _, ok := c.vault.Get("b-vault"); !ok {
		t.Error("b's Vault digest was dropped with a")
	}
	if _, ok := c.agents.entries.Peek(b); !ok {
		t.Error("b's entry was dropped with a")
	}
}

// A load that panics fails its callers with an error (nothing is stored), and the next get
// loads again.
func TestCredCacheLoadThatPanicsIsAnError(t *testing.T) {
	var calls atomic.Int64
	c := newCredCache(time.Hour, 10, func(context.Context, string) ([]credentialRow, error) {
		if calls.Add(1) == 1 {
			panic("driver bug")
		}
		return credRows("c1"), nil
	})
	if _, err := c.get(context.Background(), testAgent); err == nil {
		t.Fatal("a load that panicked answered without an error")
	}
	if e, err := c.get(context.Background(), testAgent); err != nil || len(e.creds) != 1 {
		t.Fatalf("the next get: %+v %v", e, err)
	}
}
