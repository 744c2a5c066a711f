package agents

import (
	"time"

	"github.com/uptrace/bun"
	"go.uber.org/fx"
	"go.uber.org/zap"

	"github.com/agentidp/agentidp/modules/apis"
	"github.com/agentidp/agentidp/modules/orgs"
	"github.com/agentidp/agentidp/platform/audittrail"
	"github.com/agentidp/agentidp/platform/cache"
	"github.com/agentidp/agentidp/platform/config"
	"github.com/agentidp/agentidp/platform/httpserver"
	"github.com/agentidp/agentidp/platform/ident"
	"github.com/agentidp/agentidp/platform/policy"
	"github.com/agentidp/agentidp/platform/worker"
)

// Module is the agents bounded context. It provides Directory, Lifecycle, Provisioner, Census
// and Authority to the other modules and audittrail.AgentOrgs to the audit recorder, and
// contributes the /api/v1/agents routes; everything else is private. It needs a *bun.DB, a
// cache.Cache, a policy.Engine, an audittrail.Recorder, a *config.Config and a *zap.Logger
// from the graph.
var Module = fx.Module("agents",
	fx.Provide(
		newRepository,
		newHooks,
		newModuleDirectory,
		newService,
		newHandler,
		fx.Private,
	),
	fx.Provide(
		func(h *hooks) Lifecycle { return h },
		func(d *directory) Directory { return d },
		func(s *service) Provisioner { return s },
		func(s *service) Census { return s },
		func(s *service) Authority { return s },
		func(r repository, d *directory) audittrail.AgentOrgs { return auditOrgs{repo: r, dir: d} },
		httpserver.AsRoutes(routes),
	),
)

// lookupTTL overrides how long a Directory entry lives (tests only; default
// defaultLookupTTL).
type lookupTTL time.Duration

// directoryParams are the Directory's dependencies.
type directoryParams struct {
	fx.In
	Lifecycle fx.Lifecycle
	DB        *bun.DB
	Repo      repository
	Cache     cache.Cache
	Log       *zap.Logger
	TTL       lookupTTL `optional:"true"`
}

// newModuleDirectory builds the Directory (lookups cached for 5 s, at most 100 000) and its
// workers: the subscription to ChangedChannel that drops an agent changed on any replica at
// once, and the poll of the agents table every changePollEvery (1 s) that does the same when
// the broadcast is lost or Redis is down.
func newModuleDirectory(p directoryParams) *directory {
	log := p.Log.Named("agents")
	ttl := time.Duration(p.TTL)
	if ttl <= 0 {
		ttl = defaultLookupTTL
	}
	d := newDirectory(p.DB, p.Repo, p.Cache, log, ttl, maxDirectoryEntries)
	p.Lifecycle.Append(worker.Hook(log, worker.Spec{
		Name:      "directory invalidation",
		Subscribe: &worker.Subscription{Bus: p.Cache, Channel: ChangedChannel, Handle: d.rows.OnMessage(ident.Canonical)},
	}))
	p.Lifecycle.Append(worker.Hook(log, worker.Spec{
		Name: "agent change poll", Every: changePollEvery, Start: d.rows.Poll, Run: d.rows.Poll,
	}))
	return d
}

// serviceParams are the service's dependencies.
type serviceParams struct {
	fx.In
	DB       *bun.DB
	Repo     repository
	Recorder audittrail.Recorder
	Hooks    *hooks
	Dir      *directory
	Policy   policy.Engine
	Orgs     orgs.Directory
	Grants   apis.Grants
	Config   *config.Config
	Log      *zap.Logger
}

func newService(p serviceParams) *service {
	return &service{
		db:        p.DB,
		repo:      p.Repo,
		rec:       p.Recorder,
		hooks:     p.Hooks,
		dir:       p.Dir,
		val:       newValidator(p.Policy.KnownScopes(), p.Config.Issuer),
		orgs:      p.Orgs,
		grants:    p.Grants,
		pol:       p.Policy,
		guardians: p.Policy.Guardians(),
		log:       p.Log.Named("agents"),
		now:       time.Now,
	}
}

func newHandler(s *service, log *zap.Logger) *handler {
	return &handler{svc: s, log: log.Named("agents")}
}
