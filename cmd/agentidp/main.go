// Command agentidp is the AgentIdP server and its operations tool.
package main

import (
	"fmt"
	"os"
	"slices"
	"strings"

	"github.com/spf13/cobra"
	"go.uber.org/dig"
)

func main() {
	if err := rootCmd().Execute(); err != nil {
		fmt.Fprintln(os.Stderr, "agentidp: "+oneLine(err))
		os.Exit(exitCode(err))
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
	// healthcheck.go; the commands over the API in api_*.go (their shared flags and output in
	// remote*.go).
	root.AddCommand(serveCmd(), migrateCmd(), bootstrapCmd(), keysCmd(), auditCmd(), versionCmd(), healthcheckCmd(),
		orgsCmd(), agentsCmd(), credentialsCmd(), apisCmd(), tokenCmd())
	root.SetFlagErrorFunc(func(_ *cobra.Command, err error) error { return &usageError{msg: err.Error()} })
	return root
}

// oneLine reduces an Fx/dig error chain to its root cause, which carries the one clear line
// (e.g. "AGENTIDP_REDIS_URL: …"), with any line breaks of a driver's message (pgx lists each
// address it tried on a line of its own) folded into it.
func oneLine(err error) string {
	lines := strings.Split(dig.RootCause(err).Error(), "\n")
	for i := range lines {
		lines[i] = strings.TrimSpace(lines[i])
	}
	return strings.Join(slices.DeleteFunc(lines, func(l string) bool { return l == "" }), " ")
}
