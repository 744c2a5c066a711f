package main

import (
	"context"
	"encoding/json"
	"fmt"

	"github.com/spf13/cobra"

	"github.com/agentidp/agentidp/modules/audit"
)

func auditCheckpointCmd() *cobra.Command {
	var keyOnly bool
	cmd := &cobra.Command{
		Use:   "checkpoint",
		Short: "Print the latest signed checkpoint of the audit log (signing one first if the log grew)",
		Long: `Print the latest signed checkpoint of the audit log (the C2SP tlog-checkpoint note that
GET /api/v1/audit/checkpoint serves), signing one first if the log grew since the last. Keep
it where the database's administrators cannot write: with it and the verifier key (--key),
'agentidp audit verify --checkpoint' and 'agentidp audit consistency' prove later that the
log was not rewritten, reordered or cut short since. With --key, print the audit verifier key
instead (as GET /api/v1/audit/checkpoint/key).`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if err := refuseWithoutStore(cmd); err != nil {
				return err
			}
			var p audit.Proofs
			var out string
			err := withApp(cmd, func(ctx context.Context) error {
				var err error
				if keyOnly {
					out, err = p.VerifierKey()
					out += "\n"
				} else {
					out, err = p.SignCheckpoint(ctx)
				}
				return err
			}, &p)
			if err != nil {
				return err
			}
			_, err = fmt.Fprint(cmd.OutOrStdout(), out)
			return err
		},
	}
	cmd.Flags().BoolVar(&keyOnly, "key", false, "print the audit verifier key instead")
	return cmd
}

// auditDumpCmd writes the events from the store, with no server: the input of
// `audit verify --export` (what `audit export` gets over the API as root's admin).
func auditDumpCmd() *cobra.Command {
	var after int64
	cmd := &cobra.Command{
		Use:   "dump",
		Short: "Write every audit event after --after-seq from the store, in seq order, as NDJSON",
		Long: `Write every audit event with seq > --after-seq (default 0: all), in the chain's order, one
JSON object a line, as GET /api/v1/audit/export?after_seq=N does for root's admin: the input
of 'agentidp audit verify --export'.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if err := refuseWithoutStore(cmd); err != nil {
				return err
			}
			enc := json.NewEncoder(cmd.OutOrStdout())
			enc.SetEscapeHTML(false)
			var p audit.Proofs
			return withApp(cmd, func(ctx context.Context) error {
				return p.ExportAfter(ctx, after, func(page []audit.Event) error {
					for i := range page {
						if err := enc.Encode(&page[i]); err != nil {
							return err
						}
					}
					return nil
				})
			}, &p)
		},
	}
	cmd.Flags().Int64Var(&after, "after-seq", 0, "the last seq already read")
	return cmd
}
