package main

import (
	"errors"
	"os"
	"path/filepath"

	"github.com/spf13/cobra"

	"github.com/agentidp/agentidp/platform/database"
)

// errNoStore is why a command that opens the store refuses to run with no configuration.
var errNoStore = errors.New("no store configured: set AGENTIDP_DATABASE_URL or --config, or AGENTIDP_DATA_DIR to the data directory of an existing embedded store; refusing to create a new, empty one")

// checkStoreConfigured refuses a command that opens the store when nothing says where it
// is, so that run from the wrong directory, or without the production environment, it does
// not set up a new empty store (and its keys) and report on that. --config and
// AGENTIDP_DATABASE_URL always say where. AGENTIDP_DATA_DIR says so for a command that may
// create the store there (mayCreate: migrate, bootstrap and every command that loads the
// configuration through loadStoreConfig); a command that only reads the audit log also
// needs the embedded store to exist in the data directory (AGENTIDP_DATA_DIR, default
// ./data). It runs before the configuration is loaded, which in embedded mode would create
// the data directory and its secrets.
func checkStoreConfigured(cmd *cobra.Command, mayCreate bool) error {
	if file, _ := cmd.Flags().GetString("config"); file != "" {
		return nil
	}
	if os.Getenv("AGENTIDP_DATABASE_URL") != "" {
		return nil
	}
	dir := os.Getenv("AGENTIDP_DATA_DIR")
	if dir != "" && mayCreate {
		return nil
	}
	if dir == "" {
		dir = defaultDataDir
	}
	if _, err := os.Stat(filepath.Join(dir, database.SQLiteFile)); err == nil {
		return nil
	}
	return errNoStore
}

// refuseWithoutStore is checkStoreConfigured for the commands that read an existing store.
func refuseWithoutStore(cmd *cobra.Command) error { return checkStoreConfigured(cmd, false) }
