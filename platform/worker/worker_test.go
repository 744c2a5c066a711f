package worker_test

import (
	"context"
	"errors"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"go.uber.org/fx"
	"go.uber.org/fx/fxtest"
	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"
	"go.uber.org/zap/zaptest/observer"

	"github.com/agentidp/agentidp/platform/cache"
	"github.com/agentidp/agentidp/platform/worker"
)

var _ worker.Subscriber = cache.Cache(nil) // a cache.Broadcaster is a Subscriber

// fakeBus is a Subscriber that delivers messages synchronously and remembers whether the
// subscription is still held.
type fakeBus struct {
	mu       sync.Mutex
	channel  string
	fn       func([]byte)
	subs     int
	unsubbed int
}

func (b *fakeBus) Subscribe(channel string, fn func([]byte)) func() {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.channel, b.fn = channel, fn
	b.subs++
	return func() {
		b.mu.Lock()
		defer b.mu.Unlock()
		b.fn = nil
		b.unsubbed++
	}
}

// send delivers payload to the subscriber, if any; it reports whether one was there.
func (b *fakeBus) send(payload string) bool {
	b.mu.Lock()
	fn := b.fn
	b.mu.Unlock()
	if fn == nil {
		return false
	}
	fn([]byte(payload))
	return true
}

func (b *fakeBus) held() bool {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.fn != nil
}

// eventually polls cond every 5 ms until it holds, failing after 10 s.
func eventually(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("never: %s", what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

func observed() (*zap.Logger, *observer.ObservedLogs) {
	core, logs := observer.New(zapcore.DebugLevel)
	return zap.New(core), logs
}

func TestStartThenPeriodicRuns(t *testing.T) {
	var order []string
	var mu sync.Mutex
	note := func(s string) {
		mu.Lock()
		order = append(order, s)
		mu.Unlock()
	}
	var runs atomic.Int64
	h := worker.Hook(zap.NewNop(), worker.Spec{
		Name: "test", Every: 5 * time.Millisecond,
		Start: func(context.Context) error { note("start"); return nil },
		Run: func(ctx context.Context) error {
			if _, ok := ctx.Deadline(); !ok {
				t.Error("a run without a deadline (the timeout defaults to Every)")
			}
			if runs.Add(1) == 1 {
				note("run")
			}
			return nil
		},
	})
	ctx := context.Background()
	if err := h.OnStart(ctx); err != nil {
		t.Fatal(err)
	}
	eventually(t, "three periodic runs", func() bool { return runs.Load() >= 3 })
	if err := h.OnStop(ctx); err != nil {
		t.Fatal(err)
	}
	after := runs.Load()
	time.Sleep(30 * time.Millisecond)
	if runs.Load() != after {
		t.Errorf("Run ran after the stop returned (%d → %d)", after, runs.Load())
	}
	mu.Lock()
	defer mu.Unlock()
	if !slices.Equal(order, []string{"start", "run"}) {
		t.Errorf("order %v, want Start before the first run", order)
	}
}

// A message on the subscription reaches Handle and, with Kick, runs Run at once (the
// interval is an hour, so only a kick can make it run).
func TestSubscriptionHandlesAndKicks(t *testing.T) {
	bus := &fakeBus{}
	var runs atomic.Int64
	var got []string
	var mu sync.Mutex
	h := worker.Hook(zap.NewNop(), worker.Spec{
		Name: "test", Every: time.Hour,
		Run: func(context.Context) error { runs.Add(1); return nil },
		Subscribe: &worker.Subscription{Bus: bus, Channel: "things.changed", Kick: true,
			Handle: func(p []byte) { mu.Lock(); got = append(got, string(p)); mu.Unlock() }},
	})
	ctx := context.Background()
	if err := h.OnStart(ctx); err != nil {
		t.Fatal(err)
	}
	if bus.channel != "things.changed" || !bus.held() {
		t.Fatalf("subscribed to %q, held %v", bus.channel, bus.held())
	}
	if runs.Load() != 0 {
		t.Fatal("ran before any tick or kick")
	}
	bus.send("a")
	eventually(t, "a run after the kick", func() bool { return runs.Load() == 1 })
	bus.send("b")
	eventually(t, "a second run after the second kick", func() bool { return runs.Load() == 2 })
	if err := h.OnStop(ctx); err != nil {
		t.Fatal(err)
	}
	mu.Lock()
	defer mu.Unlock()
	if !slices.Equal(got, []string{"a", "b"}) {
		t.Errorf("Handle saw %v", got)
	}
}

// A subscription-only worker (no Run) holds its subscription from start to stop and drops
// it at stop; a real cache.Broadcaster works as its bus.
func TestSubscriptionUnsubscribedAtStop(t *testing.T) {
	bus := &fakeBus{}
	var handled atomic.Int64
	h := worker.Hook(zap.NewNop(), worker.Spec{Name: "test",
		Subscribe: &worker.Subscription{Bus: bus, Channel: "c", Handle: func([]byte) { handled.Add(1) }}})
	ctx := context.Background()
	if err := h.OnStart(ctx); err != nil {
		t.Fatal(err)
	}
	if !bus.send("x") || handled.Load() != 1 {
		t.Fatal("message not handled while started")
	}
	if err := h.OnStop(ctx); err != nil {
		t.Fatal(err)
	}
	if bus.held() || bus.unsubbed != 1 {
		t.Fatalf("after stop: held %v, unsubscribed %d times", bus.held(), bus.unsubbed)
	}

	// The same against the in-process broadcaster.
	mem := cache.NewMemory()
	defer mem.Close()
	h = worker.Hook(zap.NewNop(), worker.Spec{Name: "test",
		Subscribe: &worker.Subscription{Bus: mem, Channel: "c", Handle: func([]byte) { handled.Add(1) }}})
	if err := h.OnStart(ctx); err != nil {
		t.Fatal(err)
	}
	_ = mem.Publish(ctx, "c", []byte("y"))
	eventually(t, "the broadcast handled", func() bool { return handled.Load() == 2 })
	if err := h.OnStop(ctx); err != nil {
		t.Fatal(err)
	}
	_ = mem.Publish(ctx, "c", []byte("z"))
	time.Sleep(50 * time.Millisecond)
	if handled.Load() != 2 {
		t.Fatal("a broadcast after stop was handled")
	}
}

// A failing Start fails the start and leaves nothing behind: no subscription, no loop.
func TestFailingStartUnsubscribes(t *testing.T) {
	bus := &fakeBus{}
	var runs atomic.Int64
	boom := errors.New("no key")
	h := worker.Hook(zap.NewNop(), worker.Spec{
		Name: "test", Every: time.Millisecond,
		Start:     func(context.Context) error { return boom },
		Run:       func(context.Context) error { runs.Add(1); return nil },
		Subscribe: &worker.Subscription{Bus: bus, Channel: "c", Kick: true},
	})
	if err := h.OnStart(context.Background()); !errors.Is(err, boom) {
		t.Fatalf("OnStart: %v, want the Start error", err)
	}
	if bus.subs != 1 || bus.held() {
		t.Fatalf("subscribed %d times, still held %v", bus.subs, bus.held())
	}
	time.Sleep(20 * time.Millisecond)
	if runs.Load() != 0 {
		t.Fatal("the loop runs after a failed start")
	}
}

// Stop cancels the run context; a run that ignores it cannot hold the stop beyond the
// OnStop context, whose error is returned; Final does not run then.
func TestStopHonoursItsContext(t *testing.T) {
	release := make(chan struct{})
	defer close(release)
	running := make(chan struct{})
	var finals atomic.Int64
	h := worker.Hook(zap.NewNop(), worker.Spec{
		Name: "stuck", Every: time.Millisecond, Timeout: time.Hour,
		Run: func(context.Context) error {
			select {
			case running <- struct{}{}:
			default:
			}
			<-release // ignores its context
			return nil
		},
		Final: func(context.Context) error { finals.Add(1); return nil },
	})
	if err := h.OnStart(context.Background()); err != nil {
		t.Fatal(err)
	}
	<-running
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	err := h.OnStop(ctx)
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("OnStop: %v, want the context's deadline error", err)
	}
	if finals.Load() != 0 {
		t.Error("Final ran while the loop was still running")
	}
}

// A run that watches its context ends at stop, and Final then runs once, after the last
// run, under the OnStop context; its error is the stop's error.
func TestFinalRunsAfterTheLoop(t *testing.T) {
	type key struct{}
	var mu sync.Mutex
	var order []string
	note := func(s string) {
		mu.Lock()
		order = append(order, s)
		mu.Unlock()
	}
	var runs atomic.Int64
	flushErr := errors.New("flush failed")
	h := worker.Hook(zap.NewNop(), worker.Spec{
		Name: "flusher", Every: time.Millisecond, Timeout: time.Hour,
		Run: func(ctx context.Context) error {
			if runs.Add(1) == 2 {
				note("blocking run")
				<-ctx.Done() // stop cancels it
				note("blocking run ended")
			}
			return ctx.Err()
		},
		Final: func(ctx context.Context) error {
			if ctx.Value(key{}) != "stop" {
				t.Error("Final does not run under the OnStop context")
			}
			note("final")
			return flushErr
		},
	})
	if err := h.OnStart(context.Background()); err != nil {
		t.Fatal(err)
	}
	eventually(t, "the second run", func() bool { return runs.Load() >= 2 })
	if err := h.OnStop(context.WithValue(context.Background(), key{}, "stop")); !errors.Is(err, flushErr) {
		t.Fatalf("OnStop: %v, want Final's error", err)
	}
	mu.Lock()
	defer mu.Unlock()
	if !slices.Equal(order, []string{"blocking run", "blocking run ended", "final"}) {
		t.Errorf("order %v", order)
	}
}

// A run that fails is logged at warn, one that panics at error, and the loop carries on
// after both; a run cut short by the stop is not logged as a failure.
func TestFailingOrPanickingRunDoesNotStopTheLoop(t *testing.T) {
	log, logs := observed()
	var runs atomic.Int64
	h := worker.Hook(log, worker.Spec{
		Name: "flaky", Every: time.Millisecond, Timeout: time.Hour,
		Run: func(ctx context.Context) error {
			switch runs.Add(1) {
			case 1:
				return errors.New("database down")
			case 2:
				panic("nil map")
			}
			<-ctx.Done() // then wait for the stop, and fail because of it
			return errors.New("interrupted")
		},
	})
	if err := h.OnStart(context.Background()); err != nil {
		t.Fatal(err)
	}
	eventually(t, "a third run after a failure and a panic", func() bool { return runs.Load() >= 3 })
	if err := h.OnStop(context.Background()); err != nil {
		t.Fatal(err)
	}
	warns := logs.FilterLevelExact(zapcore.WarnLevel).All()
	if len(warns) != 1 || warns[0].ContextMap()["error"] != "database down" || warns[0].ContextMap()["worker"] != "flaky" {
		t.Errorf("warn lines %+v, want one for the failed run", warns)
	}
	errs := logs.FilterLevelExact(zapcore.ErrorLevel).All()
	if len(errs) != 1 || errs[0].ContextMap()["panic"] != "nil map" {
		t.Errorf("error lines %+v, want one for the panic", errs)
	}
}

// Workers appended in one order stop in the reverse order (Fx runs OnStop hooks so).
func TestStopOrderIsTheReverseOfStart(t *testing.T) {
	var mu sync.Mutex
	var order []string
	spec := func(name string) worker.Spec {
		return worker.Spec{Name: name,
			Start: func(context.Context) error { mu.Lock(); order = append(order, "start "+name); mu.Unlock(); return nil },
			Final: func(context.Context) error { mu.Lock(); order = append(order, "stop "+name); mu.Unlock(); return nil },
		}
	}
	app := fxtest.New(t, fx.Invoke(func(lc fx.Lifecycle) {
		lc.Append(worker.Hook(zap.NewNop(), spec("first")))
		lc.Append(worker.Hook(zap.NewNop(), spec("second")))
	}))
	app.RequireStart().RequireStop()
	if want := []string{"start first", "start second", "stop second", "stop first"}; !slices.Equal(order, want) {
		t.Errorf("order %v, want %v", order, want)
	}
}
