package main

import (
	"context"
	"time"

	"github.com/spf13/cobra"
	"go.uber.org/fx"

	"github.com/agentidp/agentidp/cmd/agentidp/app"
	"github.com/agentidp/agentidp/platform/config"
)

// defaultDataDir is AGENTIDP_DATA_DIR's default.
const defaultDataDir = "./data"

// loadStoreConfig is loadConfig for the commands that open the store themselves (every one
// but serve), after checkStoreConfigured: with nothing configured it wants an existing
// store in ./data and refuses, in one line, to create one.
func loadStoreConfig(cmd *cobra.Command) (*config.Config, error) {
	if err := checkStoreConfigured(cmd, true); err != nil {
		return nil, err
	}
	return loadConfig(cmd)
}

// withApp loads the configuration, starts the application without the HTTP server (so
// migrations, flushers and caches run as in the server), runs fn with the values populated
// by targets (pointers, as for fx.Populate), and stops the application, flushing pending
// writes.
func withApp(cmd *cobra.Command, fn func(ctx context.Context) error, targets ...any) error {
	cfg, err := loadStoreConfig(cmd)
	if err != nil {
		return err
	}
	a := fx.New(app.Command(cfg, fx.Populate(targets...)))
	if err := a.Err(); err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(cmd.Context(), 60*time.Second)
	defer cancel()
	if err := a.Start(ctx); err != nil {
		return err
	}
	runErr := fn(cmd.Context())
	stopCtx, cancelStop := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancelStop()
	if err := a.Stop(stopCtx); err != nil && runErr == nil {
		runErr = err
	}
	return runErr
}
