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
	var reset bool
	cmd := &cobra.Command{
		Use:   "bootstrap",
		Short: "Create the admin agent and its credential, unless an admin exists",
		Long: `Create the bootstrap admin against the configured database: an agent with every scope
on plan unlimited, and one credential, in one transaction. Prints one line,
  bootstrap admin: client_id=<uuid> client_secret=<secret>
to standard output; the secret is shown only this once. AGENTIDP_BOOTSTRAP_CLIENT_ID (a UUID)
and AGENTIDP_BOOTSTRAP_CLIENT_SECRET set them instead (a supplied secret is not echoed).
Refuses, exiting 1, when an admin already exists. ` + "`agentidp serve`" + ` does the same on its first start.

With --reset, when the admin exists: gives it a new credential and revokes its others (and
so the tokens they minted), in one transaction, audited (credential.revoked with reason
bootstrap_reset, credential.created with reset true); prints the same line with the new
secret. The way back in when the admin's secret is lost or leaked; it needs the store's
configuration, so only whoever runs commands on the server's host can use it. Refuses when
there is no admin (run bootstrap without --reset).`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			var boot credentials.Bootstrapper
			var cfg *config.Config
			err := withApp(cmd, func(ctx context.Context) error {
				do := boot.Bootstrap
				if reset {
					do = boot.ResetAdmin
				}
				res, err := do(ctx)
				if err != nil {
					return err
				}
				// Printed at once: the secret exists nowhere else.
				_, err = fmt.Fprintln(cmd.OutOrStdout(), credentials.BootstrapLine(res, cfg.BootstrapClientSecret != ""))
				return err
			}, &boot, &cfg)
			if errors.Is(err, credentials.ErrAdminExists) {
				return errors.New("bootstrap refused: an admin agent already exists (use its credentials to create more, or --reset to give it a new secret)")
			}
			if errors.Is(err, credentials.ErrNoAdmin) {
				return errors.New("bootstrap --reset refused: there is no bootstrap admin (run agentidp bootstrap without --reset)")
			}
			return err
		},
	}
	cmd.Flags().BoolVar(&reset, "reset", false, "give the existing admin a new credential and revoke its others")
	return cmd
}
