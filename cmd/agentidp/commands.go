package main

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"time"

	"github.com/spf13/cobra"
	"go.uber.org/fx"

	"github.com/agentidp/agentidp/cmd/agentidp/app"
	"github.com/agentidp/agentidp/platform/config"
	"github.com/agentidp/agentidp/platform/database"
)

// defaultDataDir is AGENTIDP_DATA_DIR's default.
const defaultDataDir = "./data"

// loadStoreConfig is loadConfig for the commands that open the store themselves (every one
// but serve). With nothing configured — no AGENTIDP_DATABASE_URL, no AGENTIDP_DATA_DIR, no
// --config — it wants an existing store in ./data and refuses, in one line, to create one:
// run from the wrong directory, or without the production environment, such a command
// would otherwise set up a new empty store (and its keys) and report on that. It checks
// before the configuration is loaded, because loading generates the embedded store's keys.
func loadStoreConfig(cmd *cobra.Command) (*config.Config, error) {
	file, _ := cmd.Flags().GetString("config")
	if file == "" && os.Getenv("AGENTIDP_DATABASE_URL") == "" && os.Getenv("AGENTIDP_DATA_DIR") == "" {
		store := filepath.Join(defaultDataDir, database.SQLiteFile)
		if _, err := os.Stat(store); errors.Is(err, fs.ErrNotExist) {
			return nil, fmt.Errorf("no store configured: AGENTIDP_DATABASE_URL and AGENTIDP_DATA_DIR are not set and %s does not exist; "+
				"set one (or run from the directory holding ./data, or give --config) — this command does not create a new store", store)
		}
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
