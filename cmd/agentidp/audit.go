package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"os"

	"github.com/spf13/cobra"

	"github.com/agentidp/agentidp/modules/audit"
)

// errChainBroken makes `agentidp audit verify` exit 1 after printing its report.
var errChainBroken = errors.New("the audit chain is broken (see the report above)")

// errLogBroken makes `agentidp audit verify --checkpoint` exit 1 after its report.
var errLogBroken = errors.New("the audit log does not match the checkpoint (see the report above)")

// errOrgExportBroken makes `agentidp audit verify --org` exit 1 after its report.
var errOrgExportBroken = errors.New("the organization's export is not intact and complete (see the report above)")

func auditCmd() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "audit",
		Short: "Read the audit log over the API; verify, checkpoint, dump and archive it on the store",
	}
	addRemoteFlags(cmd)
	cmd.AddCommand(commands(call{use: "list", short: "List audit events over the API, newest first", method: http.MethodGet,
		path: fixed("/api/v1/audit"), list: true, filters: []string{"agent_id", "org_id", "action", "outcome", "from", "to"},
		cols: []string{"seq", "occurred_at", "action", "outcome", "agent_id", "actor_id", "target_type", "target_id"}})...)
	cmd.AddCommand(exportCmd())
	cmd.AddCommand(auditVerifyCmd(), auditConsistencyCmd(), auditCheckpointCmd(), auditDumpCmd(), auditArchiveCmd(), auditNewOriginCmd())
	return cmd
}

// exportCmd streams GET /api/v1/audit/export (NDJSON, one event per line) to standard output.
func exportCmd() *cobra.Command {
	filters := []string{"agent_id", "org_id", "action", "outcome", "from", "to", "after_seq"}
	cmd := &cobra.Command{
		Use:   "export",
		Short: "Stream every matching audit event over the API as NDJSON",
		Args:  args(),
	}
	for _, f := range filters {
		cmd.Flags().String(flagName(f), "", "filter: "+f)
	}
	cmd.RunE = func(cmd *cobra.Command, _ []string) error {
		r, err := newRemote(cmd)
		if err != nil {
			return err
		}
		q := url.Values{}
		for _, f := range filters {
			if v, _ := cmd.Flags().GetString(flagName(f)); v != "" {
				q.Set(f, v)
			}
		}
		return r.client.Stream(cmd.Context(), "/api/v1/audit/export", q, r.out)
	}
	return cmd
}

func auditVerifyCmd() *cobra.Command {
	var asJSON bool
	var exportFile, checkpointFile, keyArg, frontierFile, orgID string
	verify := &cobra.Command{
		Use:   "verify",
		Short: "Verify the audit log: its hash chain, or against a signed checkpoint",
		Long: `Without flags: walk every row of audit_events in chain order, recomputing each row's
hash and checking its link to the previous row, and print the report: the number of rows
checked and the chain's head (seq and hash), or the first bad row's seq, event id and what
is wrong with it.

With --checkpoint FILE --key KEY: check the log against a signed checkpoint taken before
(GET /api/v1/audit/checkpoint) and the audit verifier key (GET
/api/v1/audit/checkpoint/key; KEY is a file holding it, or the key itself): every event's
hash is recomputed, every link checked, and the Merkle root of the first tree-size events
compared with the checkpoint's. This catches what the chain alone cannot: the newest rows
removed, or the whole table rewritten with recomputed hashes. The events are read from the
database, or, with --export FILE, from an NDJSON export (GET /api/v1/audit/export?after_seq=0
as root's admin) with no database at all. After an archive, give --frontier DIR/frontier.json
with the archive's events.ndjson and checkpoint.txt, or with an export of the events after
it.

With --export FILE --org ORG_ID: check one organization's export (GET
/api/v1/audit/export?org_id=ORG_ID&after_seq=0) with no database and no checkpoint: every
event's hash recomputes from its fields, every event is the organization's, and the
org_seq of its events runs on with no gap and no repeat (it starts at 1 with the
organization's first event written since org_seq exists; older events have none). The
report gives the org_seq range: events missing after the last one are only seen by
comparing it with a later export.

Exits 1 when the log is broken.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if orgID != "" {
				return verifyOrgExport(cmd, exportFile, checkpointFile, keyArg, frontierFile, orgID, asJSON)
			}
			if exportFile != "" || checkpointFile != "" || keyArg != "" {
				return verifyCheckpoint(cmd, exportFile, checkpointFile, keyArg, frontierFile, asJSON)
			}
			if err := refuseWithoutStore(cmd); err != nil {
				return err
			}
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
	verify.Flags().StringVar(&exportFile, "export", "", "NDJSON export to check instead of the database")
	verify.Flags().StringVar(&checkpointFile, "checkpoint", "", "signed checkpoint to check the log against")
	verify.Flags().StringVar(&keyArg, "key", "", "audit verifier key: a file holding it, or the key itself")
	verify.Flags().StringVar(&frontierFile, "frontier", "", "with --export: an archive's frontier.json, for an export that starts after seq 1 (the archive's own events, or those left after it)")
	verify.Flags().StringVar(&orgID, "org", "", "with --export: check the export of this organization (its org_seq contiguous)")
	return verify
}

// verifyOrgExport checks one organization's export for completeness (--org).
func verifyOrgExport(cmd *cobra.Command, exportFile, checkpointFile, keyArg, frontierFile, orgID string, asJSON bool) error {
	switch {
	case exportFile == "":
		return errors.New("--org needs --export FILE (the organization's export)")
	case checkpointFile != "" || keyArg != "" || frontierFile != "":
		return errors.New("--org checks an export on its own: --checkpoint, --key and --frontier do not apply")
	}
	f, err := os.Open(exportFile)
	if err != nil {
		return fmt.Errorf("--export: %w", err)
	}
	defer f.Close()
	rep, err := audit.VerifyOrgExport(f, orgID)
	if err != nil {
		return fmt.Errorf("--org: %w", err)
	}
	if err := printOrgReport(cmd, rep, asJSON); err != nil {
		return err
	}
	if !rep.OK {
		return errOrgExportBroken
	}
	return nil
}

func printOrgReport(cmd *cobra.Command, rep audit.OrgReport, asJSON bool) error {
	out := cmd.OutOrStdout()
	if asJSON {
		enc := json.NewEncoder(out)
		enc.SetIndent("", "  ")
		return enc.Encode(rep)
	}
	if !rep.OK {
		_, err := fmt.Fprintf(out, "organization export BROKEN at seq %d: %s\n%d events of %s checked\n",
			rep.FirstBadSeq, rep.Reason, rep.Checked, rep.OrgID)
		return err
	}
	span := "no event with org_seq"
	if rep.LastOrgSeq > 0 {
		span = fmt.Sprintf("org_seq %d to %d contiguous", rep.FirstOrgSeq, rep.LastOrgSeq)
	}
	_, err := fmt.Fprintf(out, "organization export OK: %d events of %s checked; %s; %d without org_seq (written before it)\n",
		rep.Checked, rep.OrgID, span, rep.Unnumbered)
	return err
}

// verifyCheckpoint checks the log (the export, or the database) against a checkpoint.
func verifyCheckpoint(cmd *cobra.Command, exportFile, checkpointFile, keyArg, frontierFile string, asJSON bool) error {
	if checkpointFile == "" || keyArg == "" {
		return errors.New("--checkpoint and --key go together (and --export needs both)")
	}
	checkpoint, err := os.ReadFile(checkpointFile)
	if err != nil {
		return fmt.Errorf("--checkpoint: %w", err)
	}
	vkey, err := readKey(keyArg)
	if err != nil {
		return err
	}
	var rep audit.LogReport
	if exportFile != "" {
		f, err := os.Open(exportFile)
		if err != nil {
			return fmt.Errorf("--export: %w", err)
		}
		defer f.Close()
		var fr *audit.Frontier
		if frontierFile != "" {
			raw, err := os.ReadFile(frontierFile)
			if err != nil {
				return fmt.Errorf("--frontier: %w", err)
			}
			fr = new(audit.Frontier)
			if err := json.Unmarshal(raw, fr); err != nil {
				return fmt.Errorf("--frontier: not an archive's frontier.json: %w", err)
			}
		}
		if rep, err = audit.VerifyExport(f, checkpoint, vkey, fr); err != nil {
			return err
		}
	} else {
		if err := refuseWithoutStore(cmd); err != nil {
			return err
		}
		var v audit.LogVerifier
		err := withApp(cmd, func(ctx context.Context) error {
			var err error
			rep, err = v.VerifyLog(ctx, checkpoint, vkey)
			return err
		}, &v)
		if err != nil {
			return err
		}
	}
	if err := printLogReport(cmd, rep, asJSON); err != nil {
		return err
	}
	if !rep.OK {
		return errLogBroken
	}
	return nil
}

// readKey reads a verifier key from the file arg names, or takes arg as the key itself.
func readKey(arg string) (string, error) {
	if b, err := os.ReadFile(arg); err == nil {
		return string(b), nil
	} else if !errors.Is(err, os.ErrNotExist) {
		return "", fmt.Errorf("--key: %w", err)
	}
	return arg, nil
}

func printLogReport(cmd *cobra.Command, rep audit.LogReport, asJSON bool) error {
	out := cmd.OutOrStdout()
	if asJSON {
		enc := json.NewEncoder(out)
		enc.SetIndent("", "  ")
		return enc.Encode(rep)
	}
	if rep.OK {
		_, err := fmt.Fprintf(out, "audit log OK: %d events checked; the first %d match the checkpoint of %s\n",
			rep.Checked, rep.TreeSize, rep.Origin)
		return err
	}
	at := ""
	if rep.FirstBadSeq > 0 {
		at = fmt.Sprintf(" at seq %d", rep.FirstBadSeq)
	}
	_, err := fmt.Fprintf(out, "audit log BROKEN%s: %s\n%d events checked against the checkpoint of %s, size %d\n",
		at, rep.Reason, rep.Checked, rep.Origin, rep.TreeSize)
	return err
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
