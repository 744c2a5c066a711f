package credentials

import (
	"context"
	"errors"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/uuid"
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
	c := newCredCache(time.Hour, 10, time.Now, l.load)
	l.hold()
	got := make(chan *agentEntry)
	go func() {
		e, err := c.get(context.Background(), testAgent)
		if err != nil {
			t.Error(err)
		}
		got <- e
	}()
	<-l.started
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
	c := newCredCache(time.Hour, 10, time.Now, l.load)
	l.hold()
	var wg sync.WaitGroup
	for range 8 {
		wg.Go(func() {
			if _, err := c.get(context.Background(), testAgent); err != nil {
				t.Error(err)
			}
		})
	}
	<-l.started
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
	<-l.started // a second load started: the get after the invalidation did not join the first
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
	c := newCredCache(time.Hour, 10, time.Now, l.load)
	l.hold()
	first := make(chan error)
	go func() { _, err := c.get(context.Background(), testAgent); first <- err }()
	<-l.started
	ctx, cancel := context.WithCancel(context.Background())
	gaveUp := make(chan error)
	go func() { _, err := c.get(ctx, testAgent); gaveUp <- err }()
	time.Sleep(20 * time.Millisecond) // let it join the load
	cancel()
	if err := <-gaveUp; !errors.Is(err, context.Canceled) {
		t.Fatalf("get with its context cancelled: %v", err)
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
