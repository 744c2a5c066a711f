package metering_test

import (
	"context"
	"testing"
	"time"

	"github.com/agentidp/agentidp/modules/agents"
	"github.com/agentidp/agentidp/modules/metering"
	"github.com/agentidp/agentidp/platform/testenv"
)

func consume(t *testing.T, m metering.Meter, id, plan string, n int) {
	t.Helper()
	for i := range n {
		if err := m.ConsumeToken(ctxFor(t), id, plan); err != nil {
			t.Fatalf("token %d: %v", i+1, err)
		}
	}
}

// The flusher persists the month and the day on stop, with nothing flushed before.
func TestIntegrationFlushOnStop(t *testing.T) {
	testenv.ForEachBackend(t, func(t *testing.T, b testenv.Backend) {
		clk := newClock(mustTime("2026-11-27T12:00:00Z"))
		e := newEnv(t, b, envOptions{clock: clk, flushEvery: time.Hour})
		id := e.Dir.add(agents.PlanFree)
		consume(t, e.Meter, id, "free", 7)

		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		if err := e.Stop(ctx); err != nil {
			t.Fatalf("stop: %v", err)
		}
		if n := stored(t, b.DB, id, "2026-11"); n != 7 {
			t.Fatalf("stored month = %d, want 7", n)
		}
		if n := storedDay(t, b.DB, id, "2026-11-27"); n != 7 {
			t.Fatalf("stored day = %d, want 7", n)
		}
	})
}

// The periodic flusher persists without being asked.
func TestIntegrationPeriodicFlush(t *testing.T) {
	testenv.ForEachBackend(t, func(t *testing.T, b testenv.Backend) {
		e := newEnv(t, b, envOptions{flushEvery: 20 * time.Millisecond})
		id := e.Dir.add(agents.PlanFree)
		consume(t, e.Meter, id, "free", 3)
		month := time.Now().UTC().Format("2006-01")
		deadline := time.Now().Add(20 * time.Second)
		for {
			var n int64
			err := b.DB.NewRaw(`SELECT tokens_issued FROM usage_counters WHERE agent_id = ? AND month = ?`, id, month).Scan(ctxFor(t), &n)
			if err == nil && n == 3 {
				return
			}
			if time.Now().After(deadline) {
				t.Fatalf("the periodic flusher did not persist 3 tokens (last: %d, %v)", n, err)
			}
			time.Sleep(20 * time.Millisecond)
		}
	})
}

// A cache that loses its data (here: the counter deleted after a flush) resumes from the
// persisted count: in the same process, and in a fresh process that saw nothing before.
func TestIntegrationCountSurvivesCacheLoss(t *testing.T) {
	testenv.ForEachBackend(t, func(t *testing.T, b testenv.Backend) {
		clk := newClock(mustTime("2026-11-27T12:00:00Z"))
		dir := newDirectory()
		id := dir.add(agents.PlanFree)
		key := monthKey(id, "2026-11")

		a := newEnv(t, b, envOptions{clock: clk, dir: dir})
		consume(t, a.Meter, id, "free", 10)
		a.flush(t)
		if err := b.Cache.Delete(ctxFor(t), key); err != nil {
			t.Fatal(err)
		}
		consume(t, a.Meter, id, "free", 1)
		if n := a.count(t, key); n != 11 {
			t.Fatalf("same process: counter after the loss = %d, want 11", n)
		}
		if got := a.metric(t, "agentidp_metering_counter_restores_total", nil); got != 1 {
			t.Fatalf("restores metric = %v, want 1", got)
		}

		// A fresh replica, after another loss, restores from the store alone.
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		if err := a.Stop(ctx); err != nil {
			t.Fatal(err)
		}
		if err := b.Cache.Delete(ctxFor(t), key); err != nil {
			t.Fatal(err)
		}
		c := newEnv(t, b, envOptions{clock: clk, dir: dir})
		consume(t, c.Meter, id, "free", 1)
		if n := c.count(t, key); n != 12 {
			t.Fatalf("fresh process: counter after the loss = %d, want 12", n)
		}
	})
}

// Before any flush, a process restores from what it has seen itself.
func TestIntegrationCacheLossBeforeFlush(t *testing.T) {
	testenv.ForEachBackend(t, func(t *testing.T, b testenv.Backend) {
		clk := newClock(mustTime("2026-11-27T12:00:00Z"))
		e := newEnv(t, b, envOptions{clock: clk})
		id := e.Dir.add(agents.PlanUnlimited)
		key := monthKey(id, "2026-11")
		consume(t, e.Meter, id, "unlimited", 5)
		if err := b.Cache.Delete(ctxFor(t), key); err != nil {
			t.Fatal(err)
		}
		consume(t, e.Meter, id, "unlimited", 1)
		if n := e.count(t, key); n != 6 {
			t.Fatalf("counter after the loss = %d, want 6", n)
		}
	})
}

// After a loss, an agent at its limit stays refused: the restore re-checks the quota.
func TestIntegrationRestoredCountKeepsQuota(t *testing.T) {
	testenv.ForEachBackend(t, func(t *testing.T, b testenv.Backend) {
		cfg := testenv.Config(t)
		cfg.FreeTierMonthlyTokens = 10
		clk := newClock(mustTime("2026-11-27T12:00:00Z"))
		e := newEnv(t, b, envOptions{cfg: cfg, clock: clk})
		id := e.Dir.add(agents.PlanFree)
		key := monthKey(id, "2026-11")
		consume(t, e.Meter, id, "free", 10)
		e.flush(t)
		if err := b.Cache.Delete(ctxFor(t), key); err != nil {
			t.Fatal(err)
		}
		limited(t, e.Meter.ConsumeToken(ctxFor(t), id, "free"), "quota_exceeded")
		if n := e.count(t, key); n != 10 {
			t.Fatalf("counter after the refused restore = %d, want 10", n)
		}
		ok, refused := callConcurrently(t, []metering.Meter{e.Meter}, id, "free", 20)
		if ok != 0 || len(refused) != 20 {
			t.Fatalf("granted %d, refused %d after the restore; want 0 and 20", ok, len(refused))
		}
	})
}

// Two replicas counting the same agent persist the true total, not the sum of what each
// flushed, however often they flush.
func TestIntegrationReplicasDoNotDoubleCount(t *testing.T) {
	testenv.ForEachBackend(t, func(t *testing.T, b testenv.Backend) {
		clk := newClock(mustTime("2026-11-27T12:00:00Z"))
		dir := newDirectory()
		a := newEnv(t, b, envOptions{clock: clk, dir: dir})
		c := newEnv(t, b, envOptions{clock: clk, dir: dir})
		id := dir.add(agents.PlanUnlimited)

		ok, _ := callConcurrently(t, []metering.Meter{a.Meter, c.Meter}, id, "unlimited", 60)
		if ok != 60 {
			t.Fatalf("granted %d, want 60", ok)
		}
		for range 2 {
			a.flush(t)
			c.flush(t)
		}
		consume(t, c.Meter, id, "unlimited", 1)
		c.flush(t)
		a.flush(t)
		if n := stored(t, b.DB, id, "2026-11"); n != 61 {
			t.Fatalf("stored month = %d, want 61", n)
		}
		if n := storedDay(t, b.DB, id, "2026-11-27"); n != 61 {
			t.Fatalf("stored day = %d, want 61", n)
		}
	})
}
