package main

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"github.com/spf13/cobra"

	"github.com/agentidp/agentidp/modules/audit"
)

func auditArchiveCmd() *cobra.Command {
	var before, out string
	var asJSON bool
	cmd := &cobra.Command{
		Use:   "archive --before DATE --out DIR",
		Short: "Move the audit events before DATE out of the database, into DIR",
		Long: `Write the audit events before DATE (RFC 3339, or YYYY-MM-DD for midnight UTC) to DIR, with
a signed checkpoint covering them and the Merkle tree frontier that lets both the archive and
the log that remains verify (events.ndjson, checkpoint.txt, frontier.json), then remove them
from the database and record audit.archived, in one transaction. This is the only way an
event ever leaves the log. On PostgreSQL whole partitions go (1,000,000 seqs each): the
events archived are those of the oldest partitions whose every event is before DATE; the
newest event always stays. DIR must not exist or be empty. Verify an archive with
'agentidp audit verify --export DIR/events.ndjson --checkpoint DIR/checkpoint.txt
--frontier DIR/frontier.json --key KEY'.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if before == "" || out == "" {
				return fmt.Errorf("--before and --out are required")
			}
			at, err := time.Parse(time.RFC3339, before)
			if err != nil {
				if at, err = time.Parse(time.DateOnly, before); err != nil {
					return fmt.Errorf("--before: want RFC 3339 or YYYY-MM-DD, got %q", before)
				}
			}
			if err := refuseWithoutStore(cmd); err != nil {
				return err
			}
			var a audit.Archiver
			var rep audit.ArchiveReport
			err = withApp(cmd, func(ctx context.Context) error {
				var err error
				rep, err = a.Archive(ctx, at, out)
				return err
			}, &a)
			if err != nil {
				return err
			}
			if asJSON {
				return json.NewEncoder(cmd.OutOrStdout()).Encode(rep)
			}
			_, err = fmt.Fprintf(cmd.OutOrStdout(), "archived %d events (seq %d to %d) to %s; checkpoint of size %d\n",
				rep.Events, rep.FirstSeq, rep.ThroughSeq, rep.Dir, rep.TreeSize)
			return err
		},
	}
	cmd.Flags().StringVar(&before, "before", "", "archive the events before this time (RFC 3339 or YYYY-MM-DD)")
	cmd.Flags().StringVar(&out, "out", "", "directory to write the archive to (new or empty)")
	cmd.Flags().BoolVar(&asJSON, "json", false, "print the report as JSON")
	return cmd
}
