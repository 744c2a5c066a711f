package audit_test

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/uptrace/bun"
	"go.uber.org/fx"

	"github.com/agentidp/agentidp/modules/audit"
	"github.com/agentidp/agentidp/platform/audittrail"
	"github.com/agentidp/agentidp/platform/httpserver"
	"github.com/agentidp/agentidp/platform/testenv"
)

const (
	queueDepth = "agentidp_audit_queue_depth"
	batchSize  = "agentidp_audit_batch_size"
	writeTime  = "agentidp_audit_write_duration_seconds"
)

// recordAll calls Record from n goroutines at once (target ids "<prefix>-<i>") and returns
// each call's error.
func recordAll(ctx context.Context, e *env, n int, prefix string) []error {
	errs := make([]error, n)
	var wg sync.WaitGroup
	start := make(chan struct{})
	for i := range n {
		wg.Go(func() {
			<-start
			errs[i] = e.rec.Record(ctx, audittrail.Event{Action: "token.issued", AgentID: agentA,
				TargetType: audittrail.TargetToken, TargetID: fmt.Sprintf("%s-%d", prefix, i)})
		})
	}
	close(start)
	wg.Wait()
	return errs
}

// 200 concurrent callers: every event committed once, the chain intact, and the writer
// shared inserts between callers.
func TestIntegrationGroupCommitConcurrentCallers(t *testing.T) {
	testenv.ForEachBackend(t, func(t *testing.T, b testenv.Backend) {
		e := newEnv(t, b)
		for i, err := range recordAll(ctxT(t), e, 200, "tok") {
			if err != nil {
				t.Fatalf("caller %d: %v", i, err)
			}
		}
		if n := count(t, b.DB); n != 200 {
			t.Fatalf("%d rows, want 200", n)
		}
		if rep := mustVerify(t, e); rep.Checked != 200 {
			t.Fatalf("report %+v", rep)
		}
		batches, events := histogram(t, e.reg, batchSize)
		if events != 200 || batches >= 200 {
			t.Fatalf("%v events in %d batches: no batch held more than one event", events, batches)
		}
		if n, _ := histogram(t, e.reg, writeTime); n != batches {
			t.Fatalf("write duration observed %d times for %d batches", n, batches)
		}
		if d := gauge(t, e.reg, queueDepth); d != 0 {
			t.Fatalf("queue depth %v after every caller returned", d)
		}
	})
}

// Two replicas' group-commit writers and transactional writers share one chain. A writer
// appends after the head it last wrote in one statement; when another writer has appended
// since, that statement writes nothing and the batch goes in under the chain lock. A
// transaction holding the lock (RecordTx) is never refused because of it.
func TestIntegrationReplicasShareOneChain(t *testing.T) {
	testenv.ForEachBackend(t, func(t *testing.T, b testenv.Backend) {
		a := newEnv(t, b)
		c := newReplica(t, a)
		ctx := ctxT(t)
		record := func(e *env, id string) error {
			return e.rec.Record(ctx, audittrail.Event{Action: "token.issued", AgentID: agentA,
				TargetType: audittrail.TargetToken, TargetID: id})
		}
		// In turn: a's head goes stale when c appends, and the other way round.
		for i, e := range []*env{a, c, a, c, a} {
			if err := record(e, fmt.Sprintf("turn-%d", i)); err != nil {
				t.Fatalf("turn %d: %v", i, err)
			}
		}
		stale := func(e *env) float64 {
			return testenv.CounterValue(t, e.reg, "agentidp_audit_stale_head_total", nil)
		}
		if sa, sc := stale(a), stale(c); sa != 2 || sc != 1 {
			t.Fatalf("stale heads a=%v c=%v, want 2 and 1 (every turn after the first of each)", sa, sc)
		}
		// At once: both writers and transactional writers.
		var wg sync.WaitGroup
		errs := make(chan error, 400)
		for i := range 150 {
			for _, e := range []*env{a, c} {
				wg.Go(func() { errs <- record(e, fmt.Sprintf("burst-%d", i)) })
			}
		}
		for range 30 {
			wg.Go(func() {
				errs <- b.DB.RunInTx(ctx, nil, func(ctx context.Context, tx bun.Tx) error {
					return a.rec.RecordTx(ctx, tx, audittrail.Event{Action: "agent.updated", AgentID: agentB,
						TargetType: audittrail.TargetAgent, TargetID: agentB})
				})
			})
		}
		wg.Wait()
		close(errs)
		for err := range errs {
			if err != nil {
				t.Fatal(err)
			}
		}
		if n := count(t, b.DB); n != 5+300+30 {
			t.Fatalf("%d rows, want %d", n, 5+300+30)
		}
		if rep := mustVerify(t, a); rep.Checked != 335 {
			t.Fatalf("report %+v", rep)
		}
	})
}

// Stopping the module writes every event already queued before Stop returns; later calls
// are refused.
func TestIntegrationStopFlushesPendingEvents(t *testing.T) {
	testenv.ForEachBackend(t, func(t *testing.T, b testenv.Backend) {
		e := newEnv(t, b)
		release := holdChain(t, b)
		var errs []error
		done := make(chan struct{})
		go func() { errs = recordAll(context.Background(), e, 50, "pending"); close(done) }()
		waitFor(t, "50 queued events", func() bool { return gauge(t, e.reg, queueDepth) == 50 })

		stopped := make(chan error, 1)
		go func() { stopped <- e.app.Stop(context.Background()) }()
		// Stop cannot finish while the events cannot be written.
		select {
		case err := <-stopped:
			t.Fatalf("Stop returned (%v) with 50 events unwritten", err)
		case <-time.After(100 * time.Millisecond):
		}
		release()
		if err := <-stopped; err != nil {
			t.Fatal(err)
		}
		<-done
		for i, err := range errs {
			if err != nil {
				t.Fatalf("caller %d: %v", i, err)
			}
		}
		if n := count(t, b.DB); n != 50 {
			t.Fatalf("%d rows after stop, want 50", n)
		}
		mustVerify(t, e)
		if err := e.rec.Record(ctxT(t), audittrail.Event{Action: "token.issued"}); !errors.Is(err, audit.ErrWriterStopped) {
			t.Fatalf("Record after stop: %v", err)
		}
	})
}

// When a batch cannot be written, every caller in it gets the error and nothing is stored.
func TestIntegrationGroupCommitErrorReachesEveryCaller(t *testing.T) {
	testenv.ForEachBackend(t, func(t *testing.T, b testenv.Backend) {
		e := newEnv(t, b)
		ctx := ctxT(t)
		refuse, allow := refuseInserts(b)
		exec(t, b.DB, refuse...)
		for i, err := range recordAll(ctx, e, 40, "refused") {
			if err == nil {
				t.Fatalf("caller %d: stored despite the failing insert", i)
			}
		}
		err := b.DB.RunInTx(ctx, nil, func(ctx context.Context, tx bun.Tx) error {
			return e.rec.RecordTx(ctx, tx, audittrail.Event{Action: "agent.created"})
		})
		if err == nil {
			t.Fatal("RecordTx succeeded despite the failing insert")
		}
		if n := count(t, b.DB); n != 0 {
			t.Fatalf("%d rows stored", n)
		}
		exec(t, b.DB, allow...)
		if err := e.rec.Record(ctx, audittrail.Event{Action: "token.issued"}); err != nil {
			t.Fatalf("after recovery: %v", err)
		}
		mustVerify(t, e)
	})
}

// A caller that gives up while queued is answered with its context's error and its event is
// not written; nil always means stored, an error always means not stored, and the batch the
// others share is unharmed.
func TestIntegrationCancelledCallerDoesNotCorruptBatch(t *testing.T) {
	testenv.ForEachBackend(t, func(t *testing.T, b testenv.Backend) {
		e := newEnv(t, b)
		if err := e.rec.Record(context.Background(), audittrail.Event{Action: "x"}); err != nil {
			t.Fatal(err)
		}
		cancelled, cancel := context.WithCancel(context.Background())
		cancel()
		if err := e.rec.Record(cancelled, audittrail.Event{Action: "x"}); !errors.Is(err, context.Canceled) {
			t.Fatalf("cancelled before: %v", err)
		}

		release := holdChain(t, b)
		blocker := make(chan error, 1)
		go func() { blocker <- e.rec.Record(context.Background(), audittrail.Event{Action: "blocker"}) }()
		waitWriterBlocked(t, e)

		giveUp, cancel := context.WithCancel(context.Background())
		var quitters, stayers []error
		var wg sync.WaitGroup
		wg.Go(func() { quitters = recordAll(giveUp, e, 10, "quit") })
		wg.Go(func() { stayers = recordAll(context.Background(), e, 10, "stay") })
		waitFor(t, "21 queued events", func() bool { return gauge(t, e.reg, queueDepth) == 21 })
		cancel()
		release()
		wg.Wait()
		if err := <-blocker; err != nil {
			t.Fatal(err)
		}

		stored := map[string]bool{}
		var ids []string
		if err := b.DB.NewSelect().Table("audit_events").Column("target_id").Scan(ctxT(t), &ids); err != nil {
			t.Fatal(err)
		}
		for _, id := range ids {
			stored[id] = true
		}
		gaveUp := 0
		for i, err := range quitters {
			id := fmt.Sprintf("quit-%d", i)
			switch {
			case err == nil && !stored[id]:
				t.Fatalf("%s: nil but not stored", id)
			case err != nil && stored[id]:
				t.Fatalf("%s: %v but stored", id, err)
			case err != nil && !errors.Is(err, context.Canceled):
				t.Fatalf("%s: %v", id, err)
			case err != nil:
				gaveUp++
			}
		}
		if gaveUp == 0 {
			t.Fatal("no queued caller was answered with its cancellation")
		}
		for i, err := range stayers {
			if id := fmt.Sprintf("stay-%d", i); err != nil || !stored[id] {
				t.Fatalf("%s: %v, stored %v", id, err, stored[id])
			}
		}
		mustVerify(t, e)
	})
}

// waitWriterBlocked waits until the writer's batch is stuck behind holdChain: on PostgreSQL
// until its advisory lock request is seen waiting; on SQLite (no such view) until the one
// event is in flight, then briefly for the writer to take it.
func waitWriterBlocked(t *testing.T, e *env) {
	t.Helper()
	waitFor(t, "the blocker in flight", func() bool { return gauge(t, e.reg, queueDepth) == 1 })
	if e.b.Name != "postgres" {
		time.Sleep(50 * time.Millisecond)
		return
	}
	waitFor(t, "the writer waiting on the chain lock", func() bool {
		var waiting int
		err := e.b.DB.QueryRowContext(ctxT(t),
			`SELECT COUNT(*) FROM pg_locks WHERE locktype = 'advisory' AND NOT granted`).Scan(&waiting)
		return err == nil && waiting > 0
	})
}

// refuseInserts returns statements that make every insert into audit_events fail, and
// statements that undo it.
func refuseInserts(b testenv.Backend) (refuse, allow []string) {
	if b.Name == "postgres" {
		return []string{
				`CREATE FUNCTION refuse_audit_insert() RETURNS trigger LANGUAGE plpgsql AS $$
				 BEGIN RAISE EXCEPTION 'disk full (simulated)'; END; $$`,
				`CREATE TRIGGER refuse_audit_insert BEFORE INSERT ON audit_events
				 FOR EACH ROW EXECUTE FUNCTION refuse_audit_insert()`,
			}, []string{
				`DROP TRIGGER refuse_audit_insert ON audit_events`,
			}
	}
	return []string{
			`CREATE TRIGGER refuse_audit_insert BEFORE INSERT ON audit_events
			 BEGIN SELECT RAISE(ABORT, 'disk full (simulated)'); END`,
		}, []string{
			`DROP TRIGGER refuse_audit_insert`,
		}
}

func exec(t *testing.T, db bun.IDB, stmts ...string) {
	t.Helper()
	for _, s := range stmts {
		if _, err := db.ExecContext(context.Background(), s); err != nil {
			t.Fatalf("%s: %v", s, err)
		}
	}
}

// At shutdown the HTTP server drains its requests before the writer stops, so a request
// still in flight can record its event.
func TestIntegrationWriterOutlivesHTTPServer(t *testing.T) {
	testenv.ForEachBackend(t, func(t *testing.T, b testenv.Backend) {
		entered, proceed := make(chan struct{}), make(chan struct{})
		slow := httpserver.AsRoutes(func(rec audittrail.Recorder) []httpserver.Route {
			return []httpserver.Route{{Method: http.MethodPost, Path: "/test/slow", Auth: httpserver.AuthNone,
				Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
					close(entered)
					<-proceed
					if err := rec.Record(context.Background(), audittrail.Event{Action: "token.issued"}); err != nil {
						http.Error(w, err.Error(), http.StatusServiceUnavailable)
						return
					}
					w.WriteHeader(http.StatusNoContent)
				})}}
		})
		e := newEnv(t, b, fx.Provide(slow))
		status := make(chan int, 1)
		go func() {
			resp, err := testenv.Client.Post(e.app.URL+"/test/slow", "text/plain", nil)
			if err != nil {
				status <- 0
				return
			}
			resp.Body.Close()
			status <- resp.StatusCode
		}()
		<-entered
		stopped := make(chan error, 1)
		go func() { stopped <- e.app.Stop(context.Background()) }()
		waitFor(t, "the server to stop accepting connections", func() bool {
			c, err := net.DialTimeout("tcp", strings.TrimPrefix(e.app.URL, "http://"), time.Second)
			if err == nil {
				c.Close()
			}
			return err != nil
		})
		close(proceed)
		if s := <-status; s != http.StatusNoContent {
			t.Fatalf("in-flight request answered %d: its event could not be recorded", s)
		}
		if err := <-stopped; err != nil {
			t.Fatal(err)
		}
		if n := count(t, b.DB); n != 1 {
			t.Fatalf("%d rows", n)
		}
	})
}
