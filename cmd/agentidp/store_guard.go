package main

import (
	"errors"
	"os"
	"path/filepath"

	"github.com/spf13/cobra"

	"github.com/agentidp/agentidp/platform/database"
)

// errNoStore is why a command that reads the store refuses to run with no configuration.
var errNoStore = errors.New("no store configured: set AGENTIDP_DATABASE_URL or --config, or AGENTIDP_DATA_DIR to the data directory of an existing embedded store; refusing to create a new, empty one")

// refuseWithoutStore stops a command that reads an existing store when nothing says where
// it is: no --config, no AGENTIDP_DATABASE_URL, and no embedded store in the data directory
// (AGENTIDP_DATA_DIR, default ./data). It runs before the configuration is loaded, which
// in embedded mode would create the data directory and its secrets.
func refuseWithoutStore(cmd *cobra.Command) error {
	if file, _ := cmd.Flags().GetString("config"); file != "" {
		return nil
	}
	if os.Getenv("AGENTIDP_DATABASE_URL") != "" {
		return nil
	}
	dir := os.Getenv("AGENTIDP_DATA_DIR")
	if dir == "" {
		dir = "./data"
	}
	if _, err := os.Stat(filepath.Join(dir, database.SQLiteFile)); err == nil {
		return nil
	}
	return errNoStore
}
