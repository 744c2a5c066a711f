package audit

import (
	"go.uber.org/fx"
	"go.uber.org/zap"

	"github.com/agentidp/agentidp/platform/audittrail"
	"github.com/agentidp/agentidp/platform/httpserver"
)

// Module is the audit bounded context: the audittrail.Recorder every module writes through
// (in-transaction and group commit), the ChainVerifier, the query, export and verify
// routes, and the group-commit writer's lifecycle (started on start; drained, every queued
// event written, on stop).
var Module = fx.Module("audit",
	fx.Decorate(func(log *zap.Logger) *zap.Logger { return log.Named("audit") }),
	fx.Provide(fx.Private,
		newWriterMetrics, newGroupWriter, newRecorder,
		newRepository, newVerifier, newService,
	),
	fx.Provide(
		func(r *recorder) audittrail.Recorder { return r },
		func(v *verifier) ChainVerifier { return v },
	),
	fx.Provide(httpserver.AsRoutes(newRoutes)),
	fx.Invoke(func(*groupWriter) {}), // started even if nothing records yet
)
