package apis

import (
	"time"

	"github.com/uptrace/bun"
	"go.uber.org/fx"
	"go.uber.org/zap"

	"github.com/agentidp/agentidp/modules/orgs"
	"github.com/agentidp/agentidp/platform/audittrail"
	"github.com/agentidp/agentidp/platform/cache"
	"github.com/agentidp/agentidp/platform/config"
	"github.com/agentidp/agentidp/platform/httpserver"
	"github.com/agentidp/agentidp/platform/ident"
	"github.com/agentidp/agentidp/platform/policy"
	"github.com/agentidp/agentidp/platform/worker"
)

// Module is the APIs bounded context. It provides Directory (the cached APIs the token
// path reads) and Grants (agents' grants, set inside the agents module's transactions) and
// contributes the /api/v1/apis routes. Its workers: for the APIs and for the grants, a
// subscription to the change broadcast and a poll of the table every changePollEvery (1 s),
// through which every replica drops what changed anywhere. Tables: apis, api_grants.
var Module = fx.Module("apis",
	fx.Decorate(func(log *zap.Logger) *zap.Logger { return log.Named("apis") }),
	fx.Provide(fx.Private, newRepository, newValidatorOf, newModuleDirectory, newModuleGrants, newService, newHandler),
	fx.Provide(
		func(d *directory) Directory { return d },
		func(g *grantStore) Grants { return g },
		httpserver.AsRoutes(routes),
	),
)

func newValidatorOf(cfg *config.Config) *validator { return newValidator(cfg.Issuer, cfg.TokenTTL) }

// newModuleDirectory builds the Directory and its workers: the subscription to
// ChangedChannel that drops an API changed on any replica at once, and the poll of the apis
// table every changePollEvery that does the same when the broadcast is lost or Redis is
// down.
func newModuleDirectory(lc fx.Lifecycle, db *bun.DB, repo repository, c cache.Cache, log *zap.Logger) *directory {
	d := newDirectory(db, repo, c, log)
	lc.Append(worker.Hook(log, worker.Spec{
		Name:      "api invalidation",
		Subscribe: &worker.Subscription{Bus: c, Channel: ChangedChannel, Handle: d.onMessage},
	}))
	lc.Append(worker.Hook(log, worker.Spec{
		Name: "api change poll", Every: changePollEvery, Start: d.rows.Poll, Run: d.rows.Poll,
	}))
	return d
}

// newModuleGrants builds the grants store and its cache's workers (broadcast on
// GrantsChangedChannel, poll of api_grants every changePollEvery).
func newModuleGrants(lc fx.Lifecycle, db *bun.DB, repo repository, val *validator, c cache.Cache, log *zap.Logger) *grantStore {
	gc := newGrantsCache(db, repo, c, log)
	lc.Append(worker.Hook(log, worker.Spec{
		Name:      "grant invalidation",
		Subscribe: &worker.Subscription{Bus: c, Channel: GrantsChangedChannel, Handle: gc.rows.OnMessage(ident.Canonical)},
	}))
	lc.Append(worker.Hook(log, worker.Spec{
		Name: "grant change poll", Every: changePollEvery, Start: gc.rows.Poll, Run: gc.rows.Poll,
	}))
	return &grantStore{db: db, repo: repo, cache: gc, val: val, now: time.Now}
}

// serviceParams are the service's dependencies.
type serviceParams struct {
	fx.In
	Config   *config.Config
	DB       *bun.DB
	Repo     repository
	Recorder audittrail.Recorder
	Dir      *directory
	Grants   *grantStore
	Val      *validator
	Policy   policy.Engine
	Orgs     orgs.Directory
	Log      *zap.Logger
}

func newService(p serviceParams) *service {
	return &service{db: p.DB, repo: p.Repo, rec: p.Recorder, dir: p.Dir, grants: p.Grants, policy: p.Policy,
		orgs: p.Orgs, val: p.Val, issuer: p.Config.Issuer, tokenTTL: p.Config.TokenTTL, now: time.Now}
}

func newHandler(s *service, log *zap.Logger) *handler { return &handler{svc: s, log: log} }
