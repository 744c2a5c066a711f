package cache

import (
	"context"
	"errors"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promauto"
	"github.com/redis/go-redis/v9"
	"go.uber.org/fx"
	"go.uber.org/zap"

	"github.com/agentidp/agentidp/platform/config"
	"github.com/agentidp/agentidp/platform/health"
	"github.com/agentidp/agentidp/platform/tracing"
)

// Module provides the Cache (Redis when AGENTIDP_REDIS_URL is set, else in-process) and
// contributes the readiness check "cache".
var Module = fx.Module("cache",
	fx.Provide(
		provide,
		health.AsCheck(func(c Cache) health.Check {
			return health.Check{Name: "cache", Check: c.Ping}
		}),
	),
)

// bootPingTimeout bounds the start hook's reachability check, which only logs.
const bootPingTimeout = 2 * time.Second

// New builds the Cache for cfg. With cfg.RedisURL it opens a go-redis client (closed on
// stop) and never fails the start because Redis is down: calls fail with ErrUnavailable and
// readiness reports it until Redis answers. An unparsable URL fails the start (config
// validation normally catches it first). Without a URL it returns the in-process Memory.
// reg may be nil (no metrics).
func New(lc fx.Lifecycle, cfg *config.Config, log *zap.Logger, reg prometheus.Registerer) (Cache, error) {
	return newCache(lc, cfg, log, reg, nil)
}

// params are what the module's provider takes from the graph.
type params struct {
	fx.In
	Lifecycle fx.Lifecycle
	Config    *config.Config
	Log       *zap.Logger
	Registry  prometheus.Registerer
	Tracing   *tracing.Tracing `optional:"true"`
}

// provide is New with the Redis client traced when tracing is on.
func provide(p params) (Cache, error) {
	return newCache(p.Lifecycle, p.Config, p.Log, p.Registry, p.Tracing)
}

func newCache(lc fx.Lifecycle, cfg *config.Config, log *zap.Logger, reg prometheus.Registerer, tr *tracing.Tracing) (Cache, error) {
	log = log.Named("cache")
	var c Cache
	if cfg.RedisURL == "" {
		m := NewMemory()
		lc.Append(fx.StopHook(m.Close))
		log.Info("backend: in-process (AGENTIDP_REDIS_URL not set)")
		c = m
	} else {
		opt, err := redis.ParseURL(cfg.RedisURL)
		if err != nil {
			// The parse error would quote the URL, password included: not shown.
			return nil, errors.New("AGENTIDP_REDIS_URL: want redis://host:6379/0 or rediss://… (the URL is not shown here)")
		}
		client := redis.NewClient(opt)
		if err := tracing.Redis(client, tr); err != nil {
			return nil, err
		}
		lc.Append(fx.StopHook(client.Close))
		r := NewRedis(client, cfg.RedisKeyPrefix, log)
		// Appended after the client's closer, so run before it on stop.
		lc.Append(fx.StopHook(r.Close))
		lc.Append(fx.StartHook(func(ctx context.Context) error {
			ctx, cancel := context.WithTimeout(ctx, bootPingTimeout)
			defer cancel()
			if err := r.Ping(ctx); err != nil {
				log.Warn("Redis not reachable at start; serving 503 where it is needed until it is",
					zap.String("addr", opt.Addr), zap.Error(err))
			} else {
				log.Info("backend: Redis", zap.String("addr", opt.Addr), zap.Int("db", opt.DB))
			}
			return nil
		}))
		c = r
	}
	return instrument(c, reg), nil
}

// instrumented counts Get hits and misses in agentidp_cache_operations_total; every other
// method goes straight to the backend.
type instrumented struct {
	Cache
	hit, miss, failed prometheus.Counter
}

func instrument(c Cache, reg prometheus.Registerer) Cache {
	if reg == nil {
		return c
	}
	// Registered in this app's own registry (platform/metrics): two apps in one process
	// (replica tests) never share one.
	vec := promauto.With(reg).NewCounterVec(prometheus.CounterOpts{
		Name: "agentidp_cache_operations_total",
		Help: "Cache operations by backend, operation and result (Get: hit, miss, error).",
	}, []string{"backend", "op", "result"})
	b := c.Backend()
	return &instrumented{
		Cache:  c,
		hit:    vec.WithLabelValues(b, "get", "hit"),
		miss:   vec.WithLabelValues(b, "get", "miss"),
		failed: vec.WithLabelValues(b, "get", "error"),
	}
}

func (i *instrumented) Get(ctx context.Context, key string) (string, bool, error) {
	v, ok, err := i.Cache.Get(ctx, key)
	switch {
	case err != nil:
		i.failed.Inc()
	case ok:
		i.hit.Inc()
	default:
		i.miss.Inc()
	}
	return v, ok, err
}
