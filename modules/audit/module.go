package audit

import (
	"go.uber.org/fx"
	"go.uber.org/zap"

	"github.com/agentidp/agentidp/platform/audittrail"
	"github.com/agentidp/agentidp/platform/health"
	"github.com/agentidp/agentidp/platform/httpserver"
)

// Module is the audit bounded context: the audittrail.Recorder every module writes through
// (in-transaction and group commit), the ChainVerifier, the query, export and verify
// routes, the group-commit writer's lifecycle (started on start; drained, every queued
// event written, on stop), the Merkle tree kept with the events, and the checkpoint worker
// (the audit key, signed checkpoints, their publication).
var Module = fx.Module("audit",
	fx.Decorate(func(log *zap.Logger) *zap.Logger { return log.Named("audit") }),
	fx.Provide(fx.Private,
		newWriterMetrics, newGroupWriter, newRecorder,
		newRepository, newVerifier, newService, newCheckpointer, newFollowHub, newArchiver, newOriginStarter,
	),
	fx.Provide(health.AsCheck(checkpointCheck)),
	fx.Provide(
		func(r *recorder) audittrail.Recorder { return r },
		func(v *verifier) ChainVerifier { return v },
		func(v *verifier) LogVerifier { return v },
		func(s *service) Proofs { return s },
		func(a *archiver) Archiver { return a },
		func(s *originStarter) OriginStarter { return s },
	),
	fx.Provide(httpserver.AsRoutes(newRoutes)),
	fx.Invoke(func(*groupWriter, *checkpointer) {}), // started even if nothing records yet
)
