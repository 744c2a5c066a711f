package tokens

import (
	"github.com/uptrace/bun"
	"go.uber.org/fx"
	"go.uber.org/zap"

	"github.com/agentidp/agentidp/modules/agents"
	"github.com/agentidp/agentidp/modules/credentials"
	"github.com/agentidp/agentidp/platform/audittrail"
	"github.com/agentidp/agentidp/platform/cache"
	"github.com/agentidp/agentidp/platform/config"
	"github.com/agentidp/agentidp/platform/httpserver"
	"github.com/agentidp/agentidp/platform/vault"
)

// Module is the tokens bounded context. It provides KeyAdmin (API and CLI) and the
// httpserver.Verifier that authenticates bearer tokens on every protected route, and
// contributes the OAuth, discovery and key routes. Its key ring (first key, reload loop)
// and revocation list (sync loop) start with the app and stop with it. It needs *bun.DB,
// cache.Cache, audittrail.Recorder, agents.Directory, credentials.Verifier and Directory,
// metering.Meter, policy.Engine, a prometheus.Registerer, *config.Config and *zap.Logger.
var Module = fx.Module("tokens",
	fx.Provide(
		newRepository,
		newMetrics,
		newModuleKeyRing,
		newModuleRevocationList,
		newModuleValidator,
		newService,
		newMetadata,
		newHandler,
		fx.Private,
	),
	fx.Provide(
		func(r *keyRing) KeyAdmin { return r },
		func(v *validator) httpserver.Verifier { return v },
		httpserver.AsRoutes(routes),
	),
	fx.Decorate(func(log *zap.Logger) *zap.Logger { return log.Named("tokens") }),
)

// newModuleKeyRing builds the key ring and ties its start (first key, subscription, reload
// loop) and stop to the app's lifecycle.
func newModuleKeyRing(lc fx.Lifecycle, cfg *config.Config, db *bun.DB, repo repository,
	rec audittrail.Recorder, c cache.Cache, kv vault.KV, log *zap.Logger) *keyRing {
	r := newKeyRing(cfg, db, repo, rec, c, kv, log)
	lc.Append(fx.Hook{OnStart: r.start, OnStop: r.shutdown})
	return r
}

// newModuleRevocationList builds the revocation list and ties its sync loop to the app's
// lifecycle.
func newModuleRevocationList(lc fx.Lifecycle, db *bun.DB, repo repository, c cache.Cache, log *zap.Logger) *revocationList {
	l := newRevocationList(db, repo, c, log)
	lc.Append(fx.Hook{OnStart: l.start, OnStop: l.shutdown})
	return l
}

func newModuleValidator(cfg *config.Config, ring *keyRing, revs *revocationList,
	ad agents.Directory, cd credentials.Directory) *validator {
	return newValidator(cfg.Issuer, ring, revs, ad, cd)
}

func newHandler(svc *service, ring *keyRing, meta *metadata, log *zap.Logger) *handler {
	return &handler{svc: svc, ring: ring, meta: meta, log: log}
}
