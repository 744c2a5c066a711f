package metering

import (
	"context"
	"errors"
	"fmt"
	"sync/atomic"
	"time"

	"go.uber.org/zap"

	"github.com/agentidp/agentidp/modules/agents"
	"github.com/agentidp/agentidp/platform/audittrail"
	"github.com/agentidp/agentidp/platform/cache"
	"github.com/agentidp/agentidp/platform/config"
)

// meter implements Meter. Every call makes one cache round trip on its normal path (the
// two auth-failure keys are asked concurrently); see README.md for the rules and for what
// happens when the cache is down.
type meter struct {
	cache   cache.Cache
	repo    repository
	once    *onceRecorder
	tallies *tallies
	periods periods
	metrics *meterMetrics
	log     *zap.Logger
	now     func() time.Time
	flusher *flusher

	freeLimit  int64
	tokenLimit cache.Limit
	clientFail cache.Limit
	ipFail     cache.Limit
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
		clientFail: cache.PerWindow(cfg.AuthFailuresPerClient, cfg.AuthFailureWindow),
		ipFail:     cache.PerWindow(cfg.AuthFailuresPerIP, cfg.AuthFailureWindow),
		sampleRate: max(minSampleInterval, cfg.AuthFailureWindow),
		parallel:   c.Backend() != "memory",
	}
}

// ConsumeToken implements Meter.
func (m *meter) ConsumeToken(ctx context.Context, agentID, plan string) error {
	if !validAgentID(agentID) {
		return fmt.Errorf("metering: ConsumeToken: agent id %q is not a UUID", truncate(agentID, 64))
	}
	now := m.now()
	p := m.periods.at(now)
	key := monthlyKey(agentID, p.month)
	unlimited := plan == string(agents.PlanUnlimited)
	// Detached from the request: once the increment is sent, its result is what counts, even
	// if the client has hung up meanwhile.
	ctx = context.WithoutCancel(ctx)

	// What this process saw before the increment can only belong to the counter's previous
	// life, should this increment create it anew (see restore).
	known := m.tallies.max(agentID, p.month)
	started := time.Now()
	var v int64
	var ok = true
	var err error
	if unlimited {
		v, err = m.cache.IncrBy(ctx, key, 1, p.counterTTL(now))
	} else {
		v, ok, err = m.cache.IncrUpTo(ctx, key, 1, m.freeLimit, p.counterTTL(now))
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

// AllowTokenRequest implements Meter. It fails open when the cache is down: ConsumeToken,
// which follows, fails closed, so no token is issued uncounted anyway.
func (m *meter) AllowTokenRequest(ctx context.Context, agentID string) error {
	d, err := m.cache.Allow(ctx, tokenRatePrefix+agentID, m.tokenLimit)
	if err != nil {
		m.failOpen(callTokenRate, err)
		return nil
	}
	if d.Allowed {
		return nil
	}
	subject := agentID
	if !validAgentID(agentID) {
		subject = clientSubject(agentID)
	}
	return m.rateLimited(ctx, kindTokenRequests, subject, agentID, "", d.RetryAfter,
		"too many token requests for this agent; slow down")
}

// CheckAuthFailures implements Meter. It only looks (Peek): a client_id or source IP is
// refused once its failure budget is used up. It fails open when the cache is down.
func (m *meter) CheckAuthFailures(ctx context.Context, clientID, ip string) error {
	cd, id, err := m.both(ctx, clientID, ip, m.cache.Peek)
	if err != nil {
		m.failOpen(callAuthCheck, err)
	}
	kind, subject, retry := "", "", time.Duration(0)
	if !cd.Allowed {
		kind, subject, retry = kindAuthClient, clientSubject(clientID), cd.RetryAfter
	}
	if !id.Allowed && id.RetryAfter > retry {
		kind, subject, retry = kindAuthIP, ipSubject(ip), id.RetryAfter
	}
	if kind == "" {
		return nil
	}
	agentID := ""
	if kind == kindAuthClient && validAgentID(clientID) {
		agentID = clientID
	}
	return m.rateLimited(ctx, kind, subject, agentID, ip, retry,
		"too many failed client authentications; retry later")
}

// RecordAuthFailure implements Meter: one failure is charged to the client_id and to the
// source IP. Detached from the request's context, so that a client hanging up right after
// a wrong secret is still charged.
func (m *meter) RecordAuthFailure(ctx context.Context, clientID, ip string) {
	if _, _, err := m.both(context.WithoutCancel(ctx), clientID, ip, m.cache.Allow); err != nil {
		m.failOpen(callAuthRecord, err)
	}
}

type rateFunc func(ctx context.Context, key string, limit cache.Limit) (cache.Decision, error)

// both applies f to the client_id's and the IP's failure keys (an empty one is skipped and
// allowed), concurrently on a remote cache so that the call costs one round trip of latency.
// A key whose call fails counts as allowed; the first error is returned.
func (m *meter) both(ctx context.Context, clientID, ip string, f rateFunc) (client, addr cache.Decision, err error) {
	client, addr = cache.Decision{Allowed: true}, cache.Decision{Allowed: true}
	call := func(prefix, subject string, limit cache.Limit, out *cache.Decision) error {
		d, err := f(ctx, prefix+subject, limit)
		if err == nil {
			*out = d
		}
		return err
	}
	var cerr, ierr error
	switch {
	case clientID != "" && ip != "" && m.parallel:
		done := make(chan error, 1)
		go func() { done <- call(authClientPrefix, clientSubject(clientID), m.clientFail, &client) }()
		ierr = call(authIPPrefix, ipSubject(ip), m.ipFail, &addr)
		cerr = <-done
	default:
		if clientID != "" {
			cerr = call(authClientPrefix, clientSubject(clientID), m.clientFail, &client)
		}
		if ip != "" {
			ierr = call(authIPPrefix, ipSubject(ip), m.ipFail, &addr)
		}
	}
	return client, addr, errors.Join(cerr, ierr)
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
