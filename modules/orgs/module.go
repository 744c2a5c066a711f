package orgs

import (
	"context"
	"fmt"
	"time"

	"github.com/uptrace/bun"
	"go.uber.org/fx"
	"go.uber.org/zap"

	"github.com/agentidp/agentidp/platform/cache"
	"github.com/agentidp/agentidp/platform/config"
	"github.com/agentidp/agentidp/platform/database"
	"github.com/agentidp/agentidp/platform/httpserver"
	"github.com/agentidp/agentidp/platform/ident"
	"github.com/agentidp/agentidp/platform/worker"
)

// Module is the organizations bounded context. It provides Directory (the cached orgs
// the token path and the other modules' rules read) and contributes the /api/v1/orgs
// routes (the service creates an organization's first admin through the AdminProvisioner
// the credentials module provides). Its workers: the subscription to ChangedChannel and
// the poll of the orgs table every changePollEvery (1 s), through which every replica drops
// an org changed anywhere. Table: orgs.
var Module = fx.Module("orgs",
	fx.Decorate(func(log *zap.Logger) *zap.Logger { return log.Named("orgs") }),
	fx.Provide(fx.Private, newRepository, newModuleDirectory, newService),
	fx.Provide(func(d *directory) Directory { return d }),
	fx.Provide(httpserver.AsRoutes(newRoutes)),
	fx.Invoke(ensureRootOnStart),
)

// ensureRootOnStart makes the root organization at start when it is missing (the first
// start, or a version-1 database just upgraded: its agents are in root already, by the
// agents migration's default). Replicas starting together make one: the insert does
// nothing when the row exists.
func ensureRootOnStart(lc fx.Lifecycle, db *bun.DB, repo repository, log *zap.Logger) {
	lc.Append(fx.StartHook(func(ctx context.Context) error {
		now := database.Time(time.Now())
		made, err := repo.insertIfMissing(ctx, db, &orgRow{ID: RootID, Name: RootName, NameLower: RootName,
			Status: string(StatusActive), Metadata: "{}", CreatedAt: now, UpdatedAt: now})
		if err != nil {
			return fmt.Errorf("orgs: making the root organization: %w", err)
		}
		if made {
			log.Info("root organization created", zap.String("org_id", RootID))
		}
		return nil
	}))
}

func newModuleDirectory(lc fx.Lifecycle, cfg *config.Config, db *bun.DB, repo repository, c cache.Cache, log *zap.Logger) *directory {
	d := newDirectory(db, repo, c, log, cfg.FreeTierMaxAgents)
	lc.Append(worker.Hook(log, worker.Spec{
		Name:      "org invalidation",
		Subscribe: &worker.Subscription{Bus: c, Channel: ChangedChannel, Handle: d.rows.OnMessage(ident.Canonical)},
	}))
	lc.Append(worker.Hook(log, worker.Spec{
		Name: "org change poll", Every: changePollEvery, Start: d.rows.Poll, Run: d.rows.Poll,
	}))
	return d
}
