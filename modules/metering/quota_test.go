package metering_test

import (
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/agentidp/agentidp/modules/agents"
	"github.com/agentidp/agentidp/modules/metering"
	"github.com/agentidp/agentidp/platform/testenv"
)

// callConcurrently runs n ConsumeToken calls at once, spread over meters, and sorts the
// answers: successes, quota refusals (checked), anything else fails the test.
func callConcurrently(t *testing.T, meters []metering.Meter, agentID, plan string, n int) (ok int, refused []*metering.Limited) {
	t.Helper()
	ctx := ctxFor(t)
	var mu sync.Mutex
	var wg sync.WaitGroup
	start := make(chan struct{})
	var unexpected []error
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-start
			err := meters[i%len(meters)].ConsumeToken(ctx, agentID, plan)
			mu.Lock()
			defer mu.Unlock()
			var l *metering.Limited
			switch {
			case err == nil:
				ok++
			case errors.As(err, &l) && l.Code == "quota_exceeded":
				refused = append(refused, l)
			default:
				unexpected = append(unexpected, err)
			}
		}()
	}
	close(start)
	wg.Wait()
	if len(unexpected) > 0 {
		t.Fatalf("%d unexpected errors, first: %v", len(unexpected), unexpected[0])
	}
	return ok, refused
}

// At the quota's boundary, 200 concurrent requests for 50 remaining tokens: exactly 50 are
// counted, the rest refused until the next month, and one quota.exceeded event is written.
func TestIntegrationQuotaBoundaryUnderConcurrency(t *testing.T) {
	testenv.ForEachBackend(t, func(t *testing.T, b testenv.Backend) {
		cfg := testenv.Config(t)
		cfg.FreeTierMonthlyTokens = 50
		cfg.TokenRateBurst = 1_000_000 // the quota, not the rate limit, is under test
		clk := newClock(mustTime("2026-11-27T12:00:00Z"))
		e := newEnv(t, b, envOptions{cfg: cfg, clock: clk})
		id := e.Dir.add(agents.PlanFree)

		ok, refused := callConcurrently(t, []metering.Meter{e.Meter}, id, "free", 200)
		if ok != 50 || len(refused) != 150 {
			t.Fatalf("granted %d, refused %d; want 50 and 150", ok, len(refused))
		}
		want := mustTime("2026-12-01T00:00:00Z").Sub(clk.now())
		for _, l := range refused {
			if l.RetryAfter != want {
				t.Fatalf("RetryAfter %v, want %v (until the first instant of next month)", l.RetryAfter, want)
			}
		}
		if n := e.count(t, monthKey(id, "2026-11")); n != 50 {
			t.Fatalf("counter %s = %d, want 50", monthKey(id, "2026-11"), n)
		}
		evs := e.Rec.matching(metering.ActionQuotaExceeded, "")
		if len(evs) != 1 {
			t.Fatalf("%d quota.exceeded events, want exactly 1", len(evs))
		}
		if evs[0].AgentID != id || evs[0].Outcome != "failure" || evs[0].Details["month"] != "2026-11" {
			t.Fatalf("quota.exceeded event %+v", evs[0])
		}
		if got := e.metric(t, "agentidp_quota_refusals_total", nil); got != 150 {
			t.Fatalf("agentidp_quota_refusals_total = %v, want 150", got)
		}
		// Refusals go on, with no further event.
		limited(t, e.Meter.ConsumeToken(ctxFor(t), id, "free"), "quota_exceeded")
		if n := len(e.Rec.matching(metering.ActionQuotaExceeded, "")); n != 1 {
			t.Fatalf("%d quota.exceeded events after another refusal, want 1", n)
		}
	})
}

// Two replicas on one store and cache share the quota and its single audit event.
func TestIntegrationQuotaSharedByReplicas(t *testing.T) {
	testenv.ForEachBackend(t, func(t *testing.T, b testenv.Backend) {
		cfg := testenv.Config(t)
		cfg.FreeTierMonthlyTokens = 50
		dir, rec := newDirectory(), &fakeRecorder{}
		a := newEnv(t, b, envOptions{cfg: cfg, dir: dir, rec: rec})
		c := newEnv(t, b, envOptions{cfg: cfg, dir: dir, rec: rec})
		id := dir.add(agents.PlanFree)

		ok, refused := callConcurrently(t, []metering.Meter{a.Meter, c.Meter}, id, "free", 200)
		if ok != 50 || len(refused) != 150 {
			t.Fatalf("granted %d, refused %d; want 50 and 150", ok, len(refused))
		}
		if n := len(rec.matching(metering.ActionQuotaExceeded, "")); n != 1 {
			t.Fatalf("%d quota.exceeded events across two replicas, want 1", n)
		}
	})
}

// Plan unlimited is counted but never refused.
func TestIntegrationUnlimitedNeverRefused(t *testing.T) {
	testenv.ForEachBackend(t, func(t *testing.T, b testenv.Backend) {
		cfg := testenv.Config(t)
		cfg.FreeTierMonthlyTokens = 5
		clk := newClock(mustTime("2026-11-27T12:00:00Z"))
		e := newEnv(t, b, envOptions{cfg: cfg, clock: clk})
		id := e.Dir.add(agents.PlanUnlimited)

		ok, refused := callConcurrently(t, []metering.Meter{e.Meter}, id, "unlimited", 40)
		if ok != 40 || len(refused) != 0 {
			t.Fatalf("granted %d, refused %d; want 40 and 0", ok, len(refused))
		}
		if n := e.count(t, monthKey(id, "2026-11")); n != 40 {
			t.Fatalf("counter = %d, want 40", n)
		}
		// The same agent moved to the free plan is now over its quota.
		limited(t, e.Meter.ConsumeToken(ctxFor(t), id, "free"), "quota_exceeded")
	})
}

// The quota is per UTC month: a new month starts from zero.
func TestIntegrationQuotaRenewsWithTheMonth(t *testing.T) {
	testenv.ForEachBackend(t, func(t *testing.T, b testenv.Backend) {
		cfg := testenv.Config(t)
		cfg.FreeTierMonthlyTokens = 3
		clk := newClock(mustTime("2026-12-31T23:59:59Z"))
		e := newEnv(t, b, envOptions{cfg: cfg, clock: clk})
		id := e.Dir.add(agents.PlanFree)
		ctx := ctxFor(t)

		for range 3 {
			if err := e.Meter.ConsumeToken(ctx, id, "free"); err != nil {
				t.Fatal(err)
			}
		}
		l := limited(t, e.Meter.ConsumeToken(ctx, id, "free"), "quota_exceeded")
		if l.RetryAfter != time.Second {
			t.Fatalf("RetryAfter %v at 23:59:59 on Dec 31, want 1s", l.RetryAfter)
		}
		clk.set(mustTime("2027-01-01T00:00:00Z"))
		if err := e.Meter.ConsumeToken(ctx, id, "free"); err != nil {
			t.Fatalf("first token of the new month: %v", err)
		}
		if n := e.count(t, monthKey(id, "2027-01")); n != 1 {
			t.Fatalf("January counter = %d, want 1", n)
		}
		if n := e.count(t, monthKey(id, "2026-12")); n != 3 {
			t.Fatalf("December counter = %d, want 3", n)
		}
	})
}

// A non-UUID agent id is a caller's bug: refused, nothing counted.
func TestIntegrationConsumeRejectsBadAgentID(t *testing.T) {
	testenv.ForEachBackend(t, func(t *testing.T, b testenv.Backend) {
		e := newEnv(t, b, envOptions{})
		err := e.Meter.ConsumeToken(ctxFor(t), "x'; DROP TABLE usage_counters; --", "free")
		var l *metering.Limited
		if err == nil || errors.As(err, &l) {
			t.Fatalf("want a plain error, got %v", err)
		}
		e.flush(t)
	})
}
