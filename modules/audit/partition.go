package audit

import (
	"context"
	"database/sql"
	"fmt"

	"github.com/uptrace/bun"

	"github.com/agentidp/agentidp/platform/database"
)

// partitionSpan is how many seqs each new PostgreSQL partition of audit_events covers
// (migration 20261206120100_audit makes the first ones with the same span). A variable
// only so that a test can make small partitions.
var partitionSpan int64 = 1_000_000

// partitionRow is one row of audit_partitions: a partition covering seq in [lo, hi).
type partitionRow struct {
	bun.BaseModel `bun:"table:audit_partitions"`

	Lo   int64  `bun:"lo,pk"`
	Hi   int64  `bun:"hi"`
	Name string `bun:"name"`
}

// ensurePartitions creates the partitions of audit_events ahead of the head, so that the
// head is never within half a span of the last one's end (PostgreSQL; SQLite's table is
// not partitioned). It runs at start and on each checkpoint tick, under the checkpoint
// lock, so replicas do not race.
func ensurePartitions(ctx context.Context, db *bun.DB) error {
	if !database.IsPostgres(db) {
		return nil
	}
	return db.RunInTx(ctx, nil, func(ctx context.Context, tx bun.Tx) error {
		if _, err := tx.ExecContext(ctx, "SELECT pg_advisory_xact_lock(?)", checkpointLockKey); err != nil {
			return fmt.Errorf("audit: locking the partitions: %w", database.Translate(err))
		}
		var hi, headSeq sql.NullInt64
		if err := tx.NewSelect().Table("audit_partitions").ColumnExpr("max(hi)").Scan(ctx, &hi); err != nil {
			return fmt.Errorf("audit: reading the partitions: %w", database.Translate(err))
		}
		if !hi.Valid {
			return nil // not partitioned (a database migrated before 20261206120100)
		}
		if err := tx.NewSelect().Table("audit_events").ColumnExpr("max(seq)").Scan(ctx, &headSeq); err != nil {
			return fmt.Errorf("audit: reading the head: %w", database.Translate(err))
		}
		for next := hi.Int64; headSeq.Int64+partitionSpan/2 >= next; next += partitionSpan {
			name := fmt.Sprintf("audit_events_p%d", next)
			stmts := []string{
				fmt.Sprintf("CREATE TABLE %s PARTITION OF audit_events FOR VALUES FROM (%d) TO (%d)", name, next, next+partitionSpan),
				fmt.Sprintf("CREATE TRIGGER audit_events_no_truncate BEFORE TRUNCATE ON %s FOR EACH STATEMENT EXECUTE FUNCTION audit_events_immutable()", name),
			}
			for _, s := range stmts {
				if _, err := tx.ExecContext(ctx, s); err != nil {
					return fmt.Errorf("audit: creating partition %s: %w", name, database.Translate(err))
				}
			}
			if _, err := tx.NewInsert().Model(&partitionRow{Lo: next, Hi: next + partitionSpan, Name: name}).Exec(ctx); err != nil {
				return fmt.Errorf("audit: recording partition %s: %w", name, database.Translate(err))
			}
		}
		return nil
	})
}
