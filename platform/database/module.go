package database

import (
	"context"
	"fmt"

	"github.com/uptrace/bun"
	"go.uber.org/fx"
	"go.uber.org/zap"

	"github.com/agentidp/agentidp/platform/config"
	"github.com/agentidp/agentidp/platform/health"
)

// Module provides *bun.DB, migrates it on start when AGENTIDP_AUTO_MIGRATE is on (before
// any module's start hook, since they depend on the pool), and contributes the readiness
// checks "database" and "migrations".
var Module = fx.Module("database",
	fx.Provide(
		New,
		health.AsCheck(func(db *bun.DB) health.Check {
			return health.Check{Name: "database", Check: db.PingContext}
		}),
		health.AsCheck(func(db *bun.DB) health.Check {
			return health.Check{Name: "migrations", Check: func(ctx context.Context) error {
				n, err := Pending(ctx, db)
				if err != nil {
					return err
				}
				if n > 0 {
					return fmt.Errorf("%d migrations pending", n)
				}
				return nil
			}}
		}),
	),
)

// autoMigrate is called by New right after the pool opens, so that its start hook runs
// before the start hook of anything that uses the pool.
func autoMigrate(lc fx.Lifecycle, db *bun.DB, cfg *config.Config, log *zap.Logger) {
	if !cfg.AutoMigrate {
		return
	}
	lc.Append(fx.StartHook(func(ctx context.Context) error {
		applied, err := MigrateUp(ctx, db)
		if err != nil {
			return err
		}
		if len(applied) > 0 {
			log.Named("database").Info("migrations applied", zap.Strings("migrations", applied))
		}
		return nil
	}))
}
