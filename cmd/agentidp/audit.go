package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"

	"github.com/spf13/cobra"

	"github.com/agentidp/agentidp/modules/audit"
)

// errChainBroken makes `agentidp audit verify` exit 1 after printing its report.
var errChainBroken = errors.New("the audit chain is broken (see the report above)")

func auditCmd() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "audit",
		Short: "Operate on the audit log",
	}
	var asJSON bool
	verify := &cobra.Command{
		Use:   "verify",
		Short: "Walk the audit hash chain and report the first altered, missing or reordered row",
		Long: `Walk every row of audit_events in chain order, recomputing each row's hash and checking
its link to the previous row, and print the report: the number of rows checked and the
chain's head (seq and hash; keep them elsewhere to detect a later truncation of the tail),
or the first bad row's seq, event id and what is wrong with it. Exits 1 on a broken chain.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			var v audit.ChainVerifier
			var rep audit.Report
			err := withApp(cmd, func(ctx context.Context) error {
				var err error
				rep, err = v.VerifyChain(ctx)
				return err
			}, &v)
			if err != nil {
				return err
			}
			if err := printReport(cmd, rep, asJSON); err != nil {
				return err
			}
			if !rep.OK {
				return errChainBroken
			}
			return nil
		},
	}
	verify.Flags().BoolVar(&asJSON, "json", false, "print the report as JSON")
	cmd.AddCommand(verify)
	return cmd
}

func printReport(cmd *cobra.Command, rep audit.Report, asJSON bool) error {
	out := cmd.OutOrStdout()
	if asJSON {
		enc := json.NewEncoder(out)
		enc.SetIndent("", "  ")
		return enc.Encode(rep)
	}
	if rep.OK {
		_, err := fmt.Fprintf(out, "audit chain OK: %d events checked, head seq %d hash %s\n",
			rep.Checked, rep.HeadSeq, rep.HeadHash)
		return err
	}
	_, err := fmt.Fprintf(out, "audit chain BROKEN at seq %d (event %s): %s\n%d events checked; last good row: seq %d hash %s\n",
		rep.FirstBadSeq, rep.FirstBadEventID, rep.Reason, rep.Checked, rep.HeadSeq, rep.HeadHash)
	return err
}
