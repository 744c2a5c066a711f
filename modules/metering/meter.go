package metering

import (
	"context"
	"errors"
	"fmt"
	"math"
	"sync/atomic"
	"time"

	"go.uber.org/zap"

	"github.com/agentidp/agentidp/modules/agents"
	"github.com/agentidp/agentidp/platform/audittrail"
	"github.com/agentidp/agentidp/platform/cache"
	"github.com/agentidp/agentidp/platform/config"
)

// meter implements Meter. ConsumeToken, AllowTokenRequest and RecordAuthFailure make one
// cache round trip each (the two auth-failure keys, the pair's and the source IP's, are
// charged concurrently); CheckAuthFailures makes none. See README.md for the rules and for what happens when the
// cache is down.
type meter struct {
	cache    cache.Cache
	repo     repository
	once     *onceRecorder
	tallies  *tallies
	periods  periods
	metrics  *meterMetrics
	log      *zap.Logger
	now      func() time.Time
	flusher  *flusher
	lockouts *lockouts

	freeLimit  int64
	tokenLimit cache.Limit
	pairFail   cache.Limit   // failed authentications per (client_id, source IP)
	ipFail     cache.Limit   // failed authentications per source IP: the token bucket
	sampleRate time.Duration // sampling interval of rate.limited events
	parallel   bool          // ask two keys concurrently (a remote cache)

	lastOutageLog atomic.Int64 // unix ns of the last "cache unavailable" warning
}

var _ Meter = (*meter)(nil)

// minSampleInterval is the shortest interval between two rate.limited events for one key.
const minSampleInterval = time.Minute

// outageLogEvery throttles the warning logged when a fail-open limit cannot reach the cache.
const outageLogEvery = 10 * time.Second

func newMeter(cfg *config.Config, c cache.Cache, repo repository, once *onceRecorder, t *tallies,
	m *meterMetrics, log *zap.Logger, now func() time.Time) *meter {
	return &meter{
		cache:      c,
		repo:       repo,
		once:       once,
		tallies:    t,
		metrics:    m,
		log:        log,
		now:        now,
		freeLimit:  cfg.FreeTierMonthlyTokens,
		tokenLimit: cache.Limit{Rate: cfg.TokenRateLimit, Burst: cfg.TokenRateBurst},
		pairFail:   cache.PerWindow(cfg.AuthFailuresPerClientIP, cfg.AuthFailureWindow),
		ipFail:     cache.PerWindow(cfg.AuthFailuresPerIP, cfg.AuthFailureWindow),
		sampleRate: max(minSampleInterval, cfg.AuthFailureWindow),
		parallel:   c.Backend() != "memory",
	}
}

// ConsumeToken implements Meter: the per-agent rate limit and the month's count in one
// cache call (one round trip on Redis).
func (m *meter) ConsumeToken(ctx context.Context, agentID, plan string) error {
	if !validAgentID(agentID) {
		return fmt.Errorf("metering: ConsumeToken: agent id %q is not a UUID", truncate(agentID, 64))
	}
	now := m.now()
	p := m.periods.at(now)
	key := monthlyKey(agentID, p.month)
	unlimited := plan == string(agents.PlanUnlimited)
	limit := m.freeLimit
	if unlimited {
		limit = math.MaxInt64
	}
	// Detached from the request: once the increment is sent, its result is what counts, even
	// if the client has hung up meanwhile.
	ctx = context.WithoutCancel(ctx)

	// What this process saw before the increment can only belong to the counter's previous
	// life, should this increment create it anew (see restore).
	known := m.tallies.max(agentID, p.month)
	started := time.Now()
	d, v, ok, err := m.cache.AllowIncrUpTo(ctx, tokenRatePrefix+agentID, m.tokenLimit, key, 1, limit, p.counterTTL(now))
	if err == nil && !d.Allowed {
		return m.tokenRateLimited(ctx, agentID, d)
	}
	if err == nil && ok && v == 1 {
		// The call that creates the key: the first token of the month, or a cache that lost
		// its data. Exactly one caller gets 1 per key lifetime, so exactly one restores.
		v, ok, err = m.restore(ctx, agentID, key, p, now, known, started, unlimited)
	}
	if err != nil {
		if errors.Is(err, cache.ErrUnavailable) {
			m.metrics.cacheErrors.WithLabelValues(callConsume).Inc()
		}
		return fmt.Errorf("metering: counting a token for agent %s: %w", agentID, err)
	}
	if !ok {
		return m.refuseQuota(ctx, agentID, p, now)
	}
	m.tallies.observe(agentID, p, v, now)
	return nil
}

// restore runs when the caller's increment created the monthly counter: the month's first
// token, or a cache that lost its data. If the month already has a count (in the store, or
// known to this process before the increment), it adds that count to the counter and
// re-checks the quota with it.
//
// The store cannot yet hold values of the new counter: flushes persist only observations
// older than one flush interval (see tallies), and this read follows the creation by less,
// unless the store is very slow (logged). Requests counted by other callers between the
// creation and the addition are checked against the not yet restored count: after a cache
// loss, a free agent at its limit can get that handful of tokens more (README.md).
func (m *meter) restore(ctx context.Context, agentID, key string, p *period, now time.Time,
	known int64, started time.Time, unlimited bool) (int64, bool, error) {
	stored, err := m.repo.monthTotal(ctx, agentID, p.month)
	if took := time.Since(started); err == nil && took >= m.flusher.every {
		m.log.Warn("restoring a monthly counter took longer than a flush interval; "+
			"the stored count may include tokens counted since the counter was re-created",
			zap.String("agent_id", agentID), zap.Duration("took", took))
	}
	if err != nil {
		// Without the base the counter would restart from 0: drop it, so that the next
		// call tries the restore again, and refuse this one (503).
		_ = m.cache.Delete(ctx, key)
		return 0, false, fmt.Errorf("reading the stored count to restore the cache counter: %w", err)
	}
	base := max(stored, known)
	if base == 0 {
		return 1, true, nil
	}
	v, err := m.cache.IncrBy(ctx, key, base, p.counterTTL(now))
	if err != nil {
		return 0, false, err
	}
	m.metrics.restores.Inc()
	m.log.Warn("monthly token counter was missing from the cache; restored from the store",
		zap.String("agent_id", agentID), zap.String("month", p.month), zap.Int64("restored", base))
	if !unlimited && v > m.freeLimit {
		// The restored count leaves no room for this token: take it back.
		if _, err := m.cache.IncrBy(ctx, key, -1, p.counterTTL(now)); err != nil {
			m.log.Warn("could not take back a refused token from the monthly counter",
				zap.String("agent_id", agentID), zap.Error(err))
		}
		return v - 1, false, nil
	}
	return v, true, nil
}

func (m *meter) refuseQuota(ctx context.Context, agentID string, p *period, now time.Time) error {
	m.metrics.quotaRefusals.Inc()
	marker := quotaMarkerPrefix + agentID + ":" + p.month
	m.once.record(ctx, marker, p.counterTTL(now), now, audittrail.Event{
		Action:     ActionQuotaExceeded,
		AgentID:    agentID,
		TargetType: audittrail.TargetAgent,
		TargetID:   agentID,
		Outcome:    audittrail.Failure,
		Details: map[string]any{
			"month": p.month, "plan": string(agents.PlanFree), "limit": m.freeLimit,
			"resets_at": p.nextMonth.Format(time.RFC3339),
		},
	})
	return &Limited{
		Code: "quota_exceeded",
		Detail: fmt.Sprintf("the free plan's %d tokens for %s are used up; the quota renews at %s",
			m.freeLimit, p.month, p.nextMonth.Format(time.RFC3339)),
		RetryAfter: p.nextMonth.Sub(now),
	}
}

// AllowTokenRequest implements Meter. It fails open when the cache is down: the token
// endpoint calls it only for requests it refuses anyway.
func (m *meter) AllowTokenRequest(ctx context.Context, agentID string) error {
	d, err := m.cache.Allow(ctx, tokenRatePrefix+agentID, m.tokenLimit)
	if err != nil {
		m.failOpen(callTokenRate, err)
		return nil
	}
	if d.Allowed {
		return nil
	}
	return m.tokenRateLimited(ctx, agentID, d)
}

func (m *meter) tokenRateLimited(ctx context.Context, agentID string, d cache.Decision) error {
	subject := agentID
	if !validAgentID(agentID) {
		subject = clientSubject(agentID)
	}
	return m.rateLimited(ctx, kindTokenRequests, subject, agentID, "", d.RetryAfter,
		"too many token requests for this agent; slow down")
}

// CheckAuthFailures implements Meter. It reads only this replica's lockout table (see
// lockouts): no cache call, so it cannot fail. It refuses a locked pair (client_id, source
// IP) and a source IP whose bucket is empty; a client_id alone is never refused, so failures
// from one address cannot lock the client out from another.
func (m *meter) CheckAuthFailures(ctx context.Context, clientID, ip string) error {
	source := ipSubject(ip)
	kind, subject, retry := "", "", time.Duration(0)
	if clientID != "" {
		key := pairKey(clientSubject(clientID), source)
		if d := m.lockouts.lockedFor(key); d > 0 {
			kind, subject, retry = kindAuthPair, key[len(authPairPrefix):], d
		}
	}
	if ip != "" {
		if d := m.lockouts.lockedFor(authIPPrefix + source); d > retry {
			kind, subject, retry = kindAuthIP, source, d
		}
	}
	if kind == "" {
		return nil
	}
	agentID := ""
	if kind == kindAuthPair && validAgentID(clientID) {
		agentID = clientID
	}
	return m.rateLimited(ctx, kind, subject, agentID, ip, retry,
		"too many failed client authentications; retry later")
}

// RecordAuthFailure implements Meter: one failure is charged to the pair (client_id, source
// IP) and to the source IP's bucket in the cache, and a key whose budget that uses up is
// locked on every replica: the pair until its budget admits one more failure, the IP until
// its bucket holds the next token. Detached from the request's context, so that a client
// hanging up right after a wrong secret is still charged.
func (m *meter) RecordAuthFailure(ctx context.Context, clientID, ip string) {
	ctx = context.WithoutCancel(ctx)
	type charge struct {
		key   string
		limit cache.Limit
		d     cache.Decision
		err   error
	}
	source := ipSubject(ip)
	var charges []*charge
	if clientID != "" {
		charges = append(charges, &charge{key: pairKey(clientSubject(clientID), source), limit: m.pairFail})
	}
	if ip != "" {
		charges = append(charges, &charge{key: authIPPrefix + source, limit: m.ipFail})
	}
	run := func(c *charge) { c.d, c.err = m.cache.Allow(ctx, c.key, c.limit) }
	if len(charges) == 2 && m.parallel {
		// Both at once on a remote cache: one round trip of latency.
		done := make(chan struct{})
		go func() { run(charges[0]); close(done) }()
		run(charges[1])
		<-done
	} else {
		for _, c := range charges {
			run(c)
		}
	}
	now := m.now()
	var failed error
	for _, c := range charges {
		switch {
		case c.err != nil:
			failed = c.err
		case !c.d.Allowed:
			m.lockouts.lock(ctx, c.key, now.Add(c.d.RetryAfter))
		case c.d.Remaining == 0:
			// This failure used the last of the budget: the next one is refused until one
			// interval of the limit has passed.
			m.lockouts.lock(ctx, c.key, now.Add(time.Duration(float64(time.Second)/c.limit.Rate)))
		}
	}
	if failed != nil {
		m.failOpen(callAuthRecord, failed)
	}
}

// rateLimited counts a rate-limit refusal, writes a sampled rate.limited event and returns
// the refusal.
func (m *meter) rateLimited(ctx context.Context, kind, subject, agentID, ip string, retry time.Duration, detail string) error {
	m.metrics.rateLimited.WithLabelValues(kind).Inc()
	now := m.now()
	ev := audittrail.Event{
		Action:  ActionRateLimited,
		AgentID: agentID,
		Outcome: audittrail.Failure,
		IP:      ip,
		Details: map[string]any{"kind": kind, "sampled_every_seconds": int(m.sampleRate.Seconds())},
	}
	if agentID != "" {
		ev.TargetType, ev.TargetID = audittrail.TargetAgent, agentID
	}
	m.once.record(ctx, sampleMarkerPrefix+kind+":"+subject, m.sampleRate, now, ev)
	return &Limited{Code: "rate_limited", Detail: detail, RetryAfter: max(retry, time.Millisecond)}
}

// failOpen records a rate-limit call that could not reach the cache and is let through.
func (m *meter) failOpen(call string, err error) {
	m.metrics.cacheErrors.WithLabelValues(call).Inc()
	now := time.Now().UnixNano()
	last := m.lastOutageLog.Load()
	if now-last >= int64(outageLogEvery) && m.lastOutageLog.CompareAndSwap(last, now) {
		m.log.Warn("cache unavailable: rate limits let requests through until it is back "+
			"(token issuance itself is refused while the quota cannot be counted)",
			zap.String("call", call), zap.Error(err))
	}
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + "…"
}
