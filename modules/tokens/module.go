package tokens

import (
	"github.com/uptrace/bun"
	"go.uber.org/fx"
	"go.uber.org/zap"

	"github.com/agentidp/agentidp/modules/agents"
	"github.com/agentidp/agentidp/modules/apis"
	"github.com/agentidp/agentidp/modules/credentials"
	"github.com/agentidp/agentidp/modules/orgs"
	"github.com/agentidp/agentidp/platform/audittrail"
	"github.com/agentidp/agentidp/platform/cache"
	"github.com/agentidp/agentidp/platform/config"
	"github.com/agentidp/agentidp/platform/dpop"
	"github.com/agentidp/agentidp/platform/httpserver"
	"github.com/agentidp/agentidp/platform/vault"
	"github.com/agentidp/agentidp/platform/worker"
)

// Module is the tokens bounded context. It provides KeyAdmin (API and CLI) and the
// httpserver.Verifier that authenticates bearer tokens on every protected route, and
// contributes the OAuth, discovery and key routes. Its workers (platform/worker) start with
// the app and stop with it: the key ring's reload, the revocation list's sync and purge. It needs *bun.DB,
// cache.Cache, audittrail.Recorder, agents.Directory, credentials.Verifier and Directory,
// orgs.Directory, apis.Directory and Grants, metering.Meter, policy.Engine, a
// prometheus.Registerer, *config.Config and *zap.Logger.
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

// newModuleKeyRing builds the key ring and its worker: at start it makes sure a key of
// the configured algorithm signs (a key this replica cannot open fails the start); then it
// reloads the published keys every keyRefreshEvery (2 s) and at once when another replica
// announces a change on KeysChangedChannel.
func newModuleKeyRing(lc fx.Lifecycle, cfg *config.Config, db *bun.DB, repo repository,
	rec audittrail.Recorder, c cache.Cache, kv vault.KV, log *zap.Logger) *keyRing {
	r := newKeyRing(cfg, db, repo, rec, c, kv, log)
	lc.Append(worker.Hook(log, worker.Spec{
		Name: "signing key reload", Every: keyRefreshEvery, Timeout: dbTimeout,
		Start: r.ensureSigningKey, Run: r.reload,
		Subscribe: &worker.Subscription{Bus: c, Channel: KeysChangedChannel, Kick: true},
	}))
	return r
}

// newModuleRevocationList builds the revocation list and its two workers: the sync (the
// set loaded at start, reloaded every revocationSyncEvery (1 s), revocations of other
// replicas added as their broadcasts on RevokedChannel arrive) and the purge of expired
// rows every revocationPurgeEvery (10 min).
func newModuleRevocationList(lc fx.Lifecycle, db *bun.DB, repo repository, c cache.Cache, log *zap.Logger) *revocationList {
	l := newRevocationList(db, repo, c, log)
	lc.Append(worker.Hook(log, worker.Spec{
		Name: "revocation sync", Every: revocationSyncEvery, Timeout: dbTimeout,
		Start: l.load, Run: l.sync,
		Subscribe: &worker.Subscription{Bus: c, Channel: RevokedChannel, Handle: l.onBroadcast},
	}))
	lc.Append(worker.Hook(log, worker.Spec{
		Name: "revocation purge", Every: revocationPurgeEvery, Timeout: dbTimeout, Run: l.purge,
	}))
	return l
}

func newModuleValidator(cfg *config.Config, ring *keyRing, revs *revocationList,
	ad agents.Directory, cd credentials.Directory, od orgs.Directory, apd apis.Directory) *validator {
	return newValidator(cfg.Issuer, ring, revs, ad, cd, od, apd)
}

func newHandler(svc *service, ring *keyRing, meta *metadata, val *validator, proofs *dpop.Verifier, log *zap.Logger) *handler {
	return &handler{svc: svc, ring: ring, meta: meta, auth: httpserver.NewAuthenticator(val, proofs), proofs: proofs, log: log}
}
