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

// Failed authentications: CheckAuthFailures only looks, and refuses a pair (client_id,
// source IP) once RecordAuthFailure has used up its budget, and a source IP once its bucket
// is empty. The same client_id from another address stays open: a client_id alone is never
// locked.
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
			if err := e.Meter.CheckAuthFailures(ctx, c1, ip1); err != nil {
				t.Fatalf("check after %d failures of 3: %v", i, err)
			}
			e.Meter.RecordAuthFailure(ctx, c1, ip1)
		}
		l := limited(t, e.Meter.CheckAuthFailures(ctx, c1, ip1), "rate_limited")
		if l.RetryAfter <= 0 || l.RetryAfter > time.Hour/3 {
			t.Fatalf("RetryAfter %v, want in (0, 20m]: until the budget admits one more", l.RetryAfter)
		}
		// The client_id is spelled in capitals: the same client, the same pair.
		limited(t, e.Meter.CheckAuthFailures(ctx, upper(c1), ip1), "rate_limited")
		// The same client from another address is not locked.
		if err := e.Meter.CheckAuthFailures(ctx, c1, ip2); err != nil {
			t.Fatalf("the locked client from another address: %v", err)
		}
		// ip1 has used 3 of its 5: another client from it is open.
		if err := e.Meter.CheckAuthFailures(ctx, c2, ip1); err != nil {
			t.Fatalf("another client from ip1: %v", err)
		}
		e.Meter.RecordAuthFailure(ctx, c2, ip1)
		e.Meter.RecordAuthFailure(ctx, c2, ip1)
		// ip1's bucket is empty: every client from it waits for the next token.
		l = limited(t, e.Meter.CheckAuthFailures(ctx, c3, ip1), "rate_limited")
		if l.RetryAfter <= 0 || l.RetryAfter > time.Hour/5 {
			t.Fatalf("RetryAfter %v, want in (0, 12m]: until the bucket's next token", l.RetryAfter)
		}
		// Only the IP: a request without a usable client_id is still guarded.
		limited(t, e.Meter.CheckAuthFailures(ctx, "", ip1), "rate_limited")
		for _, c := range []string{c1, c2, c3} {
			if err := e.Meter.CheckAuthFailures(ctx, c, ip2); err != nil {
				t.Fatalf("client %s from a fresh IP: %v", c, err)
			}
		}
		if got := e.metric(t, "agentidp_rate_limited_total", map[string]string{"kind": "auth_failures_client_ip"}); got != 2 {
			t.Fatalf("rate_limited{auth_failures_client_ip} = %v, want 2", got)
		}
		if got := e.metric(t, "agentidp_rate_limited_total", map[string]string{"kind": "auth_failures_ip"}); got != 2 {
			t.Fatalf("rate_limited{auth_failures_ip} = %v, want 2", got)
		}
	})
}

// The source IP's bucket slows an address down and refills: when it is empty the address
// waits for the next token (window / budget), not for a long lock, and then one more failure
// is let through.
func TestIntegrationAuthFailureBucketRefills(t *testing.T) {
	testenv.ForEachBackend(t, func(t *testing.T, b testenv.Backend) {
		cfg := testenv.Config(t)
		cfg.AuthFailuresPerClientIP = 1000
		cfg.AuthFailuresPerIP = 4
		cfg.AuthFailureWindow = 4 * time.Second // a token every second
		e := newEnv(t, b, envOptions{cfg: cfg})
		ctx := ctxFor(t)
		ip := "203.0.113.80"

		for range 4 {
			e.Meter.RecordAuthFailure(ctx, uuid.NewString(), ip)
		}
		l := limited(t, e.Meter.CheckAuthFailures(ctx, uuid.NewString(), ip), "rate_limited")
		if l.RetryAfter <= 0 || l.RetryAfter > time.Second {
			t.Fatalf("RetryAfter %v, want in (0, 1s]: one token's time", l.RetryAfter)
		}
		time.Sleep(l.RetryAfter + 50*time.Millisecond)
		if err := e.Meter.CheckAuthFailures(ctx, uuid.NewString(), ip); err != nil {
			t.Fatalf("after the Retry-After: %v", err)
		}
		// One token came back: one more failure, and the address waits again.
		e.Meter.RecordAuthFailure(ctx, uuid.NewString(), ip)
		l = limited(t, e.Meter.CheckAuthFailures(ctx, uuid.NewString(), ip), "rate_limited")
		if l.RetryAfter > time.Second {
			t.Fatalf("RetryAfter %v after the refill, want ≤ 1s", l.RetryAfter)
		}
	})
}

// lockedOn waits until m refuses client from ip for its failed authentications: the lockout
// reaches other replicas through the broadcast channel.
func lockedOn(t *testing.T, m metering.Meter, client, ip string) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for m.CheckAuthFailures(ctxFor(t), client, ip) == nil {
		if time.Now().After(deadline) {
			t.Fatalf("client %s from %s still not locked out after 5s", client, ip)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// A pair's lockout reaches every replica, and only for that pair; a replica that missed it
// (a replica started later, or a lost pub/sub message) locks the pair at its own next
// failure, because the budget itself is counted in the shared cache.
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

		client, x, y := uuid.NewString(), "192.0.2.50", "192.0.2.51"
		a.Meter.RecordAuthFailure(ctx, client, x)
		if err := c.Meter.CheckAuthFailures(ctx, client, x); err != nil {
			t.Fatalf("one failure of 2: %v", err)
		}
		c.Meter.RecordAuthFailure(ctx, client, x) // the last of the pair's budget
		lockedOn(t, a.Meter, client, x)
		lockedOn(t, c.Meter, client, x)
		// The broadcast locks the pair, not the client_id: from y it stays open everywhere.
		for _, m := range []metering.Meter{a.Meter, c.Meter} {
			if err := m.CheckAuthFailures(ctx, client, y); err != nil {
				t.Fatalf("the client from another address after a broadcast lockout: %v", err)
			}
		}

		// A replica that joins after the lockout has not heard of it ...
		late := newEnv(t, b, envOptions{cfg: cfg, dir: dir})
		if err := late.Meter.CheckAuthFailures(ctx, client, x); err != nil {
			t.Fatalf("a replica started after the lockout knows of it: %v (the test needs it not to)", err)
		}
		// ... until the next failure it sees, which the shared budget refuses.
		late.Meter.RecordAuthFailure(ctx, client, x)
		limited(t, late.Meter.CheckAuthFailures(ctx, client, x), "rate_limited")
		if err := late.Meter.CheckAuthFailures(ctx, client, y); err != nil {
			t.Fatalf("the client from another address on the late replica: %v", err)
		}
	})
}

// An empty source IP bucket reaches the other replicas too, for every client from that
// address (an IPv6 /64), and its Retry-After is the bucket's.
func TestIntegrationAuthIPBucketAcrossReplicas(t *testing.T) {
	testenv.ForEachBackend(t, func(t *testing.T, b testenv.Backend) {
		cfg := testenv.Config(t)
		cfg.AuthFailuresPerClientIP = 1000
		cfg.AuthFailuresPerIP = 3
		cfg.AuthFailureWindow = time.Hour
		dir := newDirectory()
		a := newEnv(t, b, envOptions{cfg: cfg, dir: dir})
		c := newEnv(t, b, envOptions{cfg: cfg, dir: dir})
		ctx := ctxFor(t)

		a.Meter.RecordAuthFailure(ctx, uuid.NewString(), "2001:db8:9:9::1")
		a.Meter.RecordAuthFailure(ctx, uuid.NewString(), "2001:db8:9:9::2")
		c.Meter.RecordAuthFailure(ctx, uuid.NewString(), "2001:db8:9:9::3") // the last token
		lockedOn(t, a.Meter, uuid.NewString(), "2001:db8:9:9::4")
		l := limited(t, a.Meter.CheckAuthFailures(ctx, uuid.NewString(), "2001:db8:9:9::5"), "rate_limited")
		if l.RetryAfter <= 0 || l.RetryAfter > time.Hour/3 {
			t.Fatalf("RetryAfter %v, want in (0, 20m]", l.RetryAfter)
		}
		if err := a.Meter.CheckAuthFailures(ctx, uuid.NewString(), "2001:db8:9:a::1"); err != nil {
			t.Fatalf("another /64: %v", err)
		}
	})
}

// Sources are keyed IPv4 as the address (an IPv4-mapped IPv6 address as its IPv4 address),
// IPv6 per /64, for the bucket and for the pair alike; a hostile client_id is only a key
// like any other.
func TestIntegrationAuthFailureKeys(t *testing.T) {
	testenv.ForEachBackend(t, func(t *testing.T, b testenv.Backend) {
		cfg := testenv.Config(t)
		cfg.AuthFailuresPerClientIP = 2
		cfg.AuthFailuresPerIP = 3
		cfg.AuthFailureWindow = time.Hour
		e := newEnv(t, b, envOptions{cfg: cfg})
		ctx := ctxFor(t)

		// The bucket: three addresses of one /64 share it.
		e.Meter.RecordAuthFailure(ctx, uuid.NewString(), "2001:db8:1:2::1")
		e.Meter.RecordAuthFailure(ctx, uuid.NewString(), "2001:db8:1:2:ffff::9")
		e.Meter.RecordAuthFailure(ctx, uuid.NewString(), "2001:db8:1:2:abcd:1:2:3")
		limited(t, e.Meter.CheckAuthFailures(ctx, uuid.NewString(), "2001:db8:1:2::abcd"), "rate_limited")
		if err := e.Meter.CheckAuthFailures(ctx, uuid.NewString(), "2001:db8:1:3::1"); err != nil {
			t.Fatalf("another /64: %v", err)
		}

		// The pair: one client from two addresses of one /64 is one pair.
		client := uuid.NewString()
		e.Meter.RecordAuthFailure(ctx, client, "2001:db8:5:6::1")
		e.Meter.RecordAuthFailure(ctx, client, "2001:db8:5:6::2")
		limited(t, e.Meter.CheckAuthFailures(ctx, client, "2001:db8:5:6::99"), "rate_limited")
		if err := e.Meter.CheckAuthFailures(ctx, uuid.NewString(), "2001:db8:5:6::99"); err != nil {
			t.Fatalf("another client from the /64 whose bucket has a token left: %v", err)
		}
		if err := e.Meter.CheckAuthFailures(ctx, client, "2001:db8:5:7::1"); err != nil {
			t.Fatalf("the client from another /64: %v", err)
		}

		// IPv4-mapped IPv6 is the IPv4 address.
		mapped := uuid.NewString()
		e.Meter.RecordAuthFailure(ctx, mapped, "::ffff:198.51.100.9")
		e.Meter.RecordAuthFailure(ctx, mapped, "198.51.100.9")
		limited(t, e.Meter.CheckAuthFailures(ctx, mapped, "198.51.100.9"), "rate_limited")
		limited(t, e.Meter.CheckAuthFailures(ctx, mapped, "::ffff:198.51.100.9"), "rate_limited")
		if err := e.Meter.CheckAuthFailures(ctx, mapped, "198.51.100.10"); err != nil {
			t.Fatalf("the client from the next IPv4 address: %v", err)
		}

		hostile := "x'; DROP TABLE agents; --" + string(make([]byte, 4096))
		e.Meter.RecordAuthFailure(ctx, hostile, "203.0.113.1")
		e.Meter.RecordAuthFailure(ctx, hostile, "203.0.113.1")
		limited(t, e.Meter.CheckAuthFailures(ctx, hostile, "203.0.113.1"), "rate_limited")
		if err := e.Meter.CheckAuthFailures(ctx, hostile, "203.0.113.2"); err != nil {
			t.Fatalf("the hostile client_id from another address: %v", err)
		}
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
		lockedOn(t, c.Meter, client, "192.0.2.1")
		for range 10 {
			limited(t, a.Meter.CheckAuthFailures(ctx, client, "192.0.2.1"), "rate_limited")
			limited(t, c.Meter.CheckAuthFailures(ctx, client, "192.0.2.1"), "rate_limited")
		}
		evs = rec.matching(metering.ActionRateLimited, "auth_failures_client_ip")
		if len(evs) != 1 || evs[0].AgentID != client || evs[0].IP != "192.0.2.1" {
			t.Fatalf("auth_failures_client_ip events: %+v, want one about %s from 192.0.2.1", evs, client)
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
