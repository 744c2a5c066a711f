// Command agentidp is the AgentIdP server and its operations tool.
package main

import (
	"fmt"
	"os"

	"github.com/spf13/cobra"
	"go.uber.org/dig"
)

func main() {
	if err := rootCmd().Execute(); err != nil {
		fmt.Fprintln(os.Stderr, "agentidp: "+oneLine(err))
		os.Exit(1)
	}
}

func rootCmd() *cobra.Command {
	root := &cobra.Command{
		Use:   "agentidp",
		Short: "AgentIdP: an OAuth 2.0 identity provider for AI agents",
		Long: `AgentIdP gives every AI agent its own identity, credentials and short-lived, scoped,
revocable OAuth 2.0 access tokens, writes every action to a tamper-evident audit log and
meters usage against a plan.

Configuration comes from environment variables (AGENTIDP_*, VAULT_*) and, optionally, a
YAML file given with --config; the environment wins. With no configuration at all the
server runs on SQLite and in-process caches in ./data.`,
		SilenceUsage:  true,
		SilenceErrors: true,
	}
	root.PersistentFlags().String("config", "", "YAML configuration file (keys as in config/agentidp.example.yaml)")
	// One file per command: serve.go, migrate.go, bootstrap.go, keys.go, audit.go, version.go,
	// healthcheck.go.
	root.AddCommand(serveCmd(), migrateCmd(), bootstrapCmd(), keysCmd(), auditCmd(), versionCmd(), healthcheckCmd())
	return root
}

// oneLine reduces an Fx/dig error chain to its root cause, which carries the one clear line
// (e.g. "AGENTIDP_REDIS_URL: …").
func oneLine(err error) string {
	return dig.RootCause(err).Error()
}
