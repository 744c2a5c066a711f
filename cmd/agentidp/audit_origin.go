package main

import (
	"context"
	"encoding/json"
	"fmt"

	"github.com/spf13/cobra"

	"github.com/agentidp/agentidp/modules/audit"
)

func auditNewOriginCmd() *cobra.Command {
	var force, asJSON bool
	cmd := &cobra.Command{
		Use:   "new-origin",
		Short: "Start a new checkpoint origin after the audit log was found inconsistent with its checkpoints",
		Long: `Start a new series of audit checkpoints, for a log that is no longer consistent with the
last checkpoint signed under its origin (say, after a restore from an older backup), on which
every replica has stopped signing and fails its readiness check. In one transaction: retire
the current audit key, create a new one whose name is the new origin (<issuer host>/audit/<n>,
n = 2, 3, ...; sealed under the master key, or in Vault) and record audit.origin_started.
Running replicas load the new key at their next checkpoint tick and sign the whole current
tree under it; the old series of checkpoints stays stored. Give the new origin and verifier
key (printed here, and served at GET /api/v1/audit/checkpoint/key) to whoever keeps or
checks your checkpoints. Refused while the log is consistent with its last checkpoint,
unless --force.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if err := refuseWithoutStore(cmd); err != nil {
				return err
			}
			var s audit.OriginStarter
			var rep audit.NewOriginReport
			err := withApp(cmd, func(ctx context.Context) error {
				var err error
				rep, err = s.NewOrigin(ctx, force)
				return err
			}, &s)
			if err != nil {
				return err
			}
			if asJSON {
				return json.NewEncoder(cmd.OutOrStdout()).Encode(rep)
			}
			_, err = fmt.Fprintf(cmd.OutOrStdout(), "new audit origin %s (previous %s; tree size %d)\nverifier key: %s\n",
				rep.Origin, rep.PreviousOrigin, rep.TreeSize, rep.VerifierKey)
			return err
		},
	}
	cmd.Flags().BoolVar(&force, "force", false, "start a new origin even though the log is consistent with its last checkpoint")
	cmd.Flags().BoolVar(&asJSON, "json", false, "print the report as JSON")
	return cmd
}
