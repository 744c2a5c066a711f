package main

import (
	"context"
	"errors"
	"fmt"

	"github.com/spf13/cobra"

	"github.com/agentidp/agentidp/modules/credentials"
	"github.com/agentidp/agentidp/platform/config"
)

func bootstrapCmd() *cobra.Command {
	return &cobra.Command{
		Use:   "bootstrap",
		Short: "Create the admin agent and its credential, unless an admin exists",
		Long: `Create the bootstrap admin against the configured database: an agent with every scope
on plan unlimited, and one credential, in one transaction. Prints one line,
  bootstrap admin: client_id=<uuid> client_secret=<secret>
to standard output; the secret is shown only this once. AGENTIDP_BOOTSTRAP_CLIENT_ID (a UUID)
and AGENTIDP_BOOTSTRAP_CLIENT_SECRET set them instead (a supplied secret is not echoed).
Refuses, exiting 1, when an admin already exists. ` + "`agentidp serve`" + ` does the same on its first start.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			var boot credentials.Bootstrapper
			var cfg *config.Config
			err := withApp(cmd, func(ctx context.Context) error {
				res, err := boot.Bootstrap(ctx)
				if err != nil {
					return err
				}
				// Printed at once: the secret exists nowhere else.
				_, err = fmt.Fprintln(cmd.OutOrStdout(), credentials.BootstrapLine(res, cfg.BootstrapClientSecret != ""))
				return err
			}, &boot, &cfg)
			if errors.Is(err, credentials.ErrAdminExists) {
				return errors.New("bootstrap refused: an admin agent already exists (use its credentials to create more)")
			}
			return err
		},
	}
}
