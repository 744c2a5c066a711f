package audit

import (
	"net/http"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promauto"
	"github.com/uptrace/bun"
	"go.uber.org/fx"
	"go.uber.org/zap"

	"github.com/agentidp/agentidp/platform/config"
	"github.com/agentidp/agentidp/platform/health"
	"github.com/agentidp/agentidp/platform/vault"
	"github.com/agentidp/agentidp/platform/worker"
)

// checkpointParams are the checkpointer's dependencies.
type checkpointParams struct {
	fx.In
	LC  fx.Lifecycle
	DB  *bun.DB
	Cfg *config.Config
	KV  vault.KV `optional:"true"`
	Log *zap.Logger
	Reg prometheus.Registerer
}

// newCheckpointer builds the audit key store, the publisher and the checkpointer, and
// registers the checkpoint worker: it loads (at first start creates) the audit key in
// OnStart, then signs at most every AGENTIDP_AUDIT_CHECKPOINT_INTERVAL when the tree grew.
func newCheckpointer(p checkpointParams) *checkpointer {
	kv := p.KV
	if kv == nil {
		kv = vault.Disabled{}
	}
	every := p.Cfg.AuditCheckpointInterval
	if every <= 0 {
		every = 10 * time.Second
	}
	pub := &publisher{
		url: p.Cfg.AuditCheckpointURL, client: &http.Client{Timeout: publishTimeout}, log: p.Log,
		base: every, now: time.Now,
		failures: promauto.With(p.Reg).NewCounter(prometheus.CounterOpts{
			Name: "agentidp_audit_checkpoint_publish_failures_total",
			Help: "Failed POSTs of a signed audit checkpoint to AGENTIDP_AUDIT_CHECKPOINT_URL (each is retried with a backoff).",
		}),
	}
	c := &checkpointer{db: p.DB, keys: &keyStore{db: p.DB, cfg: p.Cfg, kv: kv, log: p.Log}, log: p.Log, pub: pub, now: time.Now}
	p.LC.Append(worker.Hook(p.Log, worker.Spec{
		Name: "audit checkpoints", Every: every, Timeout: every + publishTimeout,
		Start: c.start, Run: c.run,
	}))
	return c
}

// checkpointCheck is the readiness check: a replica that found the tree inconsistent with
// the last checkpoint says so in /readyz.
func checkpointCheck(c *checkpointer) health.Check {
	return health.Check{Name: "audit checkpoints", Check: c.healthy}
}
