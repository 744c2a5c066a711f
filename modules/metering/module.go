package metering

import (
	"time"

	"go.uber.org/fx"
	"go.uber.org/zap"

	"github.com/agentidp/agentidp/modules/agents"
	"github.com/agentidp/agentidp/platform/audittrail"
	"github.com/agentidp/agentidp/platform/cache"
	"github.com/agentidp/agentidp/platform/config"
	"github.com/agentidp/agentidp/platform/httpserver"
	"github.com/agentidp/agentidp/platform/policy"
	"github.com/agentidp/agentidp/platform/worker"
)

// Module provides Meter (for the token endpoint) and the usage API routes, and runs the
// flusher that persists the counts (every second, and on stop). It needs *bun.DB,
// cache.Cache, audittrail.Recorder, agents.Directory, and agents.Census.
var Module = fx.Module("metering",
	fx.Provide(
		newRepository,
		newMetrics,
		newMeterFromParams,
		newUsageService,
		fx.Private,
	),
	fx.Provide(
		func(m *meter) Meter { return m },
		httpserver.AsRoutes(newRoutes),
	),
	fx.Decorate(func(log *zap.Logger) *zap.Logger { return log.Named("metering") }),
)

// tuning overrides the flusher's interval and the clock (tests only; see export_test.go).
type tuning struct {
	flushEvery time.Duration
	now        func() time.Time
}

type meterParams struct {
	fx.In
	Lifecycle fx.Lifecycle
	Config    *config.Config
	Log       *zap.Logger
	Cache     cache.Cache
	Repo      repository
	Recorder  audittrail.Recorder
	Metrics   *meterMetrics
	Agents    agents.Directory
	Tuning    *tuning `optional:"true"`
}

// newMeterFromParams builds the meter and its workers, in this order (they stop in the
// reverse one): the lockout subscription (metering:lockouts from the other replicas), the
// usage count flush (every second, default, and once more on stop: every pending
// observation) and the prune of idle tallies and expired audit markers (every minute).
func newMeterFromParams(p meterParams) *meter {
	now, every := time.Now, defaultFlushEvery
	if p.Tuning != nil {
		if p.Tuning.now != nil {
			now = p.Tuning.now
		}
		if p.Tuning.flushEvery > 0 {
			every = p.Tuning.flushEvery
		}
	}
	t := newTallies()
	once := newOnceRecorder(p.Cache, p.Recorder, p.Log, p.Metrics)
	m := newMeter(p.Config, p.Cache, p.Repo, once, t, p.Metrics, p.Log, now)
	m.lockouts = newLockouts(p.Cache, p.Log, now)
	p.Lifecycle.Append(worker.Hook(p.Log, worker.Spec{
		Name:      "lockout broadcast",
		Subscribe: &worker.Subscription{Bus: p.Cache, Channel: lockoutChannel, Handle: m.lockouts.onMessage},
	}))
	m.flusher = &flusher{tallies: t, repo: p.Repo, once: once, metrics: p.Metrics, agents: p.Agents, now: now, every: every}
	p.Lifecycle.Append(worker.Hook(p.Log, worker.Spec{
		Name: "usage count flush", Every: m.flusher.every, Timeout: flushTimeout,
		Run: m.flusher.flushAged, Final: m.flusher.flushAll,
	}))
	p.Lifecycle.Append(worker.Hook(p.Log, worker.Spec{
		Name: "usage tally prune", Every: pruneEvery, Run: m.flusher.prune,
	}))
	return m
}

type usageParams struct {
	fx.In
	Meter     *meter
	Repo      repository
	Directory agents.Directory
	Statuses  agents.Census
	Policy    policy.Engine
	Log       *zap.Logger
}

func newUsageService(p usageParams) *usageService {
	return &usageService{meter: p.Meter, repo: p.Repo, dir: p.Directory, statuses: p.Statuses, policy: p.Policy, log: p.Log}
}
