package metering_test

import (
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/agentidp/agentidp/modules/agents"
	"github.com/agentidp/agentidp/modules/metering"
	"github.com/agentidp/agentidp/platform/testenv"
)

// Token requests per agent: the burst passes, the next one is refused with a Retry-After,
// and another agent is not affected. The rate is slow enough that no token refills while
// the test runs.
func TestIntegrationTokenRateLimit(t *testing.T) {
	testenv.ForEachBackend(t, func(t *testing.T, b testenv.Backend) {
		cfg := testenv.Config(t)
		cfg.TokenRateLimit = 0.01 // one token per 100 s
		cfg.TokenRateBurst = 5
		e := newEnv(t, b, envOptions{cfg: cfg})
		id, other := e.Dir.add(agents.PlanFree), e.Dir.add(agents.PlanFree)
		ctx := ctxFor(t)

		for i := range 5 {
			if err := e.Meter.AllowTokenRequest(ctx, id); err != nil {
				t.Fatalf("request %d of the burst: %v", i+1, err)
			}
		}
		l := limited(t, e.Meter.AllowTokenRequest(ctx, id), "rate_limited")
		if l.RetryAfter <= 0 || l.RetryAfter > 100*time.Second {
			t.Fatalf("RetryAfter %v, want in (0, 100s]", l.RetryAfter)
		}
		if err := e.Meter.AllowTokenRequest(ctx, other); err != nil {
			t.Fatalf("another agent: %v", err)
		}
		if got := e.metric(t, "agentidp_rate_limited_total", map[string]string{"kind": "token_requests"}); got != 1 {
			t.Fatalf("agentidp_rate_limited_total{kind=token_requests} = %v, want 1", got)
		}
	})
}

// ConsumeToken applies the same per-agent rate limit as AllowTokenRequest, and a request it
// refuses for its rate is not counted.
func TestIntegrationConsumeTokenRateLimited(t *testing.T) {
	testenv.ForEachBackend(t, func(t *testing.T, b testenv.Backend) {
		cfg := testenv.Config(t)
		cfg.TokenRateLimit = 0.01
		cfg.TokenRateBurst = 3
		clk := newClock(mustTime("2026-11-27T12:00:00Z"))
		e := newEnv(t, b, envOptions{cfg: cfg, clock: clk})
		id := e.Dir.add(agents.PlanUnlimited)
		ctx := ctxFor(t)

		if err := e.Meter.AllowTokenRequest(ctx, id); err != nil { // a refused bad request
			t.Fatal(err)
		}
		consume(t, e.Meter, id, "unlimited", 2)
		l := limited(t, e.Meter.ConsumeToken(ctx, id, "unlimited"), "rate_limited")
		if l.RetryAfter <= 0 || l.RetryAfter > 100*time.Second {
			t.Fatalf("RetryAfter %v, want in (0, 100s]", l.RetryAfter)
		}
		limited(t, e.Meter.AllowTokenRequest(ctx, id), "rate_limited")
		if n := e.count(t, monthKey(id, "2026-11")); n != 2 {
			t.Fatalf("monthly counter = %d, want 2 (rate-limited requests are not counted)", n)
		}
	})
}

// Failed authentications: CheckAuthFailures only looks, and refuses a client_id or an IP
// once RecordAuthFailure has used up its budget; the other dimension stays open.
func TestIntegrationAuthFailureLimits(t *testing.T) {
	testenv.ForEachBackend(t, func(t *testing.T, b testenv.Backend) {
		cfg := testenv.Config(t)
		cfg.AuthFailuresPerClientIP = 3
		cfg.AuthFailuresPerIP = 5
		cfg.AuthFailureWindow = time.Hour
		e := newEnv(t, b, envOptions{cfg: cfg})
		ctx := ctxFor(t)
		c1, c2, c3 := uuid.NewString(), uuid.NewString(), uuid.NewString()
		ip1, ip2 := "192.0.2.10", "198.51.100.7"

		// Looking consumes nothing.
		for range 20 {
			if err := e.Meter.CheckAuthFailures(ctx, c1, ip1); err != nil {
				t.Fatalf("check before any failure: %v", err)
			}
		}
		for i := range 3 {
			e.Meter.RecordAuthFailure(ctx, c1, ip1)
			if i < 2 {
				if err := e.Meter.CheckAuthFailures(ctx, c1, ip2); err != nil {
					t.Fatalf("check after %d failures of 3: %v", i+1, err)
				}
			}
		}
		l := limited(t, e.Meter.CheckAuthFailures(ctx, c1, ip2), "rate_limited")
		if l.RetryAfter <= 0 || l.RetryAfter > time.Hour {
			t.Fatalf("RetryAfter %v, want in (0, 1h]", l.RetryAfter)
		}
		// The client_id is spelled in capitals: the same client, the same budget.
		limited(t, e.Meter.CheckAuthFailures(ctx, upper(c1), ip2), "rate_limited")
		// ip1 has used 3 of its 5.
		if err := e.Meter.CheckAuthFailures(ctx, c2, ip1); err != nil {
			t.Fatalf("another client from ip1: %v", err)
		}
		e.Meter.RecordAuthFailure(ctx, c2, ip1)
		e.Meter.RecordAuthFailure(ctx, c2, ip1)
		limited(t, e.Meter.CheckAuthFailures(ctx, c3, ip1), "rate_limited")
		// Only the IP: a request without a usable client_id is still guarded.
		limited(t, e.Meter.CheckAuthFailures(ctx, "", ip1), "rate_limited")
		if err := e.Meter.CheckAuthFailures(ctx, c3, ip2); err != nil {
			t.Fatalf("a fresh client from a fresh IP: %v", err)
		}
		if got := e.metric(t, "agentidp_rate_limited_total", map[string]string{"kind": "auth_failures_client"}); got != 2 {
			t.Fatalf("rate_limited{auth_failures_client} = %v, want 2", got)
		}
		if got := e.metric(t, "agentidp_rate_limited_total", map[string]string{"kind": "auth_failures_ip"}); got != 2 {
			t.Fatalf("rate_limited{auth_failures_ip} = %v, want 2", got)
		}
	})
}

// lockedOn waits until m refuses client (from ip) for its failed authentications: the
// lockout reaches other replicas through the broadcast channel.
func lockedOn(t *testing.T, m metering.Meter, client, ip string) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for m.CheckAuthFailures(ctxFor(t), client, ip) == nil {
		if time.Now().After(deadline) {
			t.Fatalf("client %s still not locked out after 5s", client)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// A lockout reaches every replica; a replica that missed it (a replica started later, or a
// lost pub/sub message) locks the key at its own next failure, because the budget itself is
// counted in the shared cache.
func TestIntegrationAuthLockoutAcrossReplicas(t *testing.T) {
	testenv.ForEachBackend(t, func(t *testing.T, b testenv.Backend) {
		cfg := testenv.Config(t)
		cfg.AuthFailuresPerClientIP = 2
		cfg.AuthFailuresPerIP = 1000
		cfg.AuthFailureWindow = time.Hour
		dir := newDirectory()
		a := newEnv(t, b, envOptions{cfg: cfg, dir: dir})
		c := newEnv(t, b, envOptions{cfg: cfg, dir: dir})
		ctx := ctxFor(t)

		client := uuid.NewString()
		a.Meter.RecordAuthFailure(ctx, client, "192.0.2.50")
		if err := c.Meter.CheckAuthFailures(ctx, client, "192.0.2.51"); err != nil {
			t.Fatalf("one failure of 2: %v", err)
		}
		c.Meter.RecordAuthFailure(ctx, client, "192.0.2.51") // the last of the budget
		lockedOn(t, a.Meter, client, "192.0.2.52")
		lockedOn(t, c.Meter, client, "192.0.2.53")

		// A replica that joins after the lockout has not heard of it ...
		late := newEnv(t, b, envOptions{cfg: cfg, dir: dir})
		if err := late.Meter.CheckAuthFailures(ctx, client, "192.0.2.54"); err != nil {
			t.Fatalf("a replica started after the lockout knows of it: %v (the test needs it not to)", err)
		}
		// ... until the next failure it sees, which the shared budget refuses.
		late.Meter.RecordAuthFailure(ctx, client, "192.0.2.54")
		limited(t, late.Meter.CheckAuthFailures(ctx, client, "192.0.2.55"), "rate_limited")
	})
}

// IPv6 clients are limited per /64, and a hostile client_id is only a key like any other.
func TestIntegrationAuthFailureKeys(t *testing.T) {
	testenv.ForEachBackend(t, func(t *testing.T, b testenv.Backend) {
		cfg := testenv.Config(t)
		cfg.AuthFailuresPerClientIP = 2
		cfg.AuthFailuresPerIP = 2
		cfg.AuthFailureWindow = time.Hour
		e := newEnv(t, b, envOptions{cfg: cfg})
		ctx := ctxFor(t)

		e.Meter.RecordAuthFailure(ctx, uuid.NewString(), "2001:db8:1:2::1")
		e.Meter.RecordAuthFailure(ctx, uuid.NewString(), "2001:db8:1:2:ffff::9")
		limited(t, e.Meter.CheckAuthFailures(ctx, uuid.NewString(), "2001:db8:1:2::abcd"), "rate_limited")
		if err := e.Meter.CheckAuthFailures(ctx, uuid.NewString(), "2001:db8:1:3::1"); err != nil {
			t.Fatalf("another /64: %v", err)
		}

		hostile := "x'; DROP TABLE agents; --" + string(make([]byte, 4096))
		e.Meter.RecordAuthFailure(ctx, hostile, "203.0.113.1")
		e.Meter.RecordAuthFailure(ctx, hostile, "203.0.113.2")
		limited(t, e.Meter.CheckAuthFailures(ctx, hostile, "203.0.113.3"), "rate_limited")
	})
}

// rate.limited events are sampled: one per limited key per interval, even across replicas,
// however many requests are refused.
func TestIntegrationRateLimitedEventsSampled(t *testing.T) {
	testenv.ForEachBackend(t, func(t *testing.T, b testenv.Backend) {
		cfg := testenv.Config(t)
		cfg.TokenRateLimit = 0.01
		cfg.TokenRateBurst = 1
		cfg.AuthFailuresPerClientIP = 1
		cfg.AuthFailuresPerIP = 100
		cfg.AuthFailureWindow = time.Hour
		dir, rec := newDirectory(), &fakeRecorder{}
		a := newEnv(t, b, envOptions{cfg: cfg, dir: dir, rec: rec})
		c := newEnv(t, b, envOptions{cfg: cfg, dir: dir, rec: rec})
		ctx := ctxFor(t)
		id, other := dir.add(agents.PlanFree), dir.add(agents.PlanFree)

		for _, agent := range []string{id, other} {
			if err := a.Meter.AllowTokenRequest(ctx, agent); err != nil {
				t.Fatal(err)
			}
			for range 10 {
				limited(t, a.Meter.AllowTokenRequest(ctx, agent), "rate_limited")
				limited(t, c.Meter.AllowTokenRequest(ctx, agent), "rate_limited")
			}
		}
		evs := rec.matching(metering.ActionRateLimited, "token_requests")
		if len(evs) != 2 {
			t.Fatalf("%d rate.limited token_requests events for 40 refusals of 2 agents, want 2", len(evs))
		}
		if evs[0].AgentID == evs[1].AgentID {
			t.Fatalf("both events are about %s", evs[0].AgentID)
		}

		client := uuid.NewString()
		a.Meter.RecordAuthFailure(ctx, client, "192.0.2.1")
		lockedOn(t, c.Meter, client, "192.0.2.2")
		for range 10 {
			limited(t, a.Meter.CheckAuthFailures(ctx, client, "192.0.2.1"), "rate_limited")
			limited(t, c.Meter.CheckAuthFailures(ctx, client, "192.0.2.2"), "rate_limited")
		}
		evs = rec.matching(metering.ActionRateLimited, "auth_failures_client")
		if len(evs) != 1 || evs[0].AgentID != client {
			t.Fatalf("auth_failures_client events: %+v, want one about %s", evs, client)
		}
	})
}

// An audit write that fails is tried again at a later refusal.
func TestIntegrationQuotaEventRetriedAfterAuditFailure(t *testing.T) {
	testenv.ForEachBackend(t, func(t *testing.T, b testenv.Backend) {
		cfg := testenv.Config(t)
		cfg.FreeTierMonthlyTokens = 1
		e := newEnv(t, b, envOptions{cfg: cfg})
		id := e.Dir.add(agents.PlanFree)
		ctx := ctxFor(t)
		consume(t, e.Meter, id, "free", 1)

		e.Rec.fail.Store(true)
		limited(t, e.Meter.ConsumeToken(ctx, id, "free"), "quota_exceeded")
		e.Rec.fail.Store(false)
		limited(t, e.Meter.ConsumeToken(ctx, id, "free"), "quota_exceeded")
		limited(t, e.Meter.ConsumeToken(ctx, id, "free"), "quota_exceeded")
		if n := len(e.Rec.matching(metering.ActionQuotaExceeded, "")); n != 1 {
			t.Fatalf("%d quota.exceeded events, want 1 (written at the second refusal)", n)
		}
	})
}

func upper(s string) string {
	b := []byte(s)
	for i, c := range b {
		if c >= 'a' && c <= 'f' {
			b[i] = c - 'a' + 'A'
		}
	}
	return string(b)
}
