package metering

import (
	"context"
	"sync"
	"time"

	"go.uber.org/zap"

	"github.com/agentidp/agentidp/platform/audittrail"
	"github.com/agentidp/agentidp/platform/cache"
)

// Audit actions this module writes.
const (
	// ActionQuotaExceeded: a free agent's token request was refused for its monthly quota;
	// written once per agent and month (at the first refusal).
	ActionQuotaExceeded = "quota.exceeded"
	// ActionRateLimited: a rate limit refused a request; sampled, at most one event per
	// limited key (agent, client_id or source IP) and sampling interval.
	ActionRateLimited = "rate.limited"
)

// auditTimeout bounds one sampled audit write; it runs detached from the request's context
// so that a client hanging up cannot suppress it.
const auditTimeout = 5 * time.Second

// onceRecorder writes an audit event at most once per marker and interval across every
// replica: a process-local memo skips the cache for markers this process already claimed,
// and a SetNX marker in the cache settles the race between replicas. When the cache cannot
// be reached the event is written anyway (more events rather than none).
type onceRecorder struct {
	cache   cache.Cache
	rec     audittrail.Recorder
	log     *zap.Logger
	metrics *meterMetrics

	mu   sync.Mutex
	memo map[string]time.Time // marker → until when this process need not try again
}

func newOnceRecorder(c cache.Cache, rec audittrail.Recorder, log *zap.Logger, m *meterMetrics) *onceRecorder {
	return &onceRecorder{cache: c, rec: rec, log: log, metrics: m, memo: map[string]time.Time{}}
}

// record writes ev unless marker was claimed within ttl (by this or another replica).
func (o *onceRecorder) record(ctx context.Context, marker string, ttl time.Duration, now time.Time, ev audittrail.Event) {
	o.mu.Lock()
	if until, ok := o.memo[marker]; ok && now.Before(until) {
		o.mu.Unlock()
		return
	}
	o.memo[marker] = now.Add(ttl)
	o.mu.Unlock()

	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), auditTimeout)
	defer cancel()
	claimed, err := o.cache.SetNX(ctx, marker, "1", ttl)
	if err != nil {
		o.metrics.cacheErrors.WithLabelValues(callAuditMarker).Inc()
		claimed = true
	}
	if !claimed {
		return
	}
	if err := o.rec.Record(ctx, ev); err != nil {
		// The refusal stands; let a later refusal try to write the event again.
		o.log.Warn("could not write audit event", zap.String("action", ev.Action),
			zap.String("agent_id", ev.AgentID), zap.Error(err))
		o.forget(marker)
		_ = o.cache.Delete(ctx, marker)
	}
}

func (o *onceRecorder) forget(marker string) {
	o.mu.Lock()
	delete(o.memo, marker)
	o.mu.Unlock()
}

// prune drops expired memo entries.
func (o *onceRecorder) prune(now time.Time) {
	o.mu.Lock()
	for k, until := range o.memo {
		if !now.Before(until) {
			delete(o.memo, k)
		}
	}
	o.mu.Unlock()
}
