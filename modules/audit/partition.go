package audit

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/jackc/pgx/v5/pgconn"
	"github.com/uptrace/bun"
	"go.uber.org/zap"

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
// head is never within half a span (nor within ahead seqs) of the last one's end
// (PostgreSQL; SQLite's table is not partitioned). It runs at start and on each checkpoint
// tick, and when an append found no partition for its rows (writeRetrying), under the
// checkpoint lock, so replicas do not race. The caller must not hold the chain lock nor
// have written to audit_events in an open transaction: creating a partition waits for
// every transaction that did.
func ensurePartitions(ctx context.Context, db *bun.DB, ahead int64) error {
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
		for next := hi.Int64; headSeq.Int64+max(partitionSpan/2, ahead) >= next; next += partitionSpan {
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

// isNoPartition reports PostgreSQL's refusal of a row that no partition of audit_events
// covers (SQLSTATE 23514, check_violation, with the partition routing message).
func isNoPartition(err error) bool {
	var pgErr *pgconn.PgError
	return errors.As(err, &pgErr) && pgErr.Code == "23514" &&
		strings.HasPrefix(pgErr.Message, "no partition of relation")
}

// writeRetrying is the group-commit writer's write of a batch; when PostgreSQL found no
// partition for its rows (a burst of more than half a span between two checkpoint ticks,
// or a replica whose checkpoint worker fails), nothing was written: it creates the
// partitions the batch needs and writes it again, once.
func (w *groupWriter) writeRetrying(ctx context.Context, rows []*eventRow) error {
	err := w.write(ctx, rows)
	if !isNoPartition(err) {
		return err
	}
	w.log.Warn("audit batch found no partition for its rows; creating the partitions ahead and writing it again",
		zap.Int("events", len(rows)))
	if perr := ensurePartitions(ctx, w.db, int64(len(rows))); perr != nil {
		return errors.Join(err, perr)
	}
	return w.write(ctx, rows)
}

// partitionsAfterFailure creates the partitions ahead in the background after RecordTx
// found no partition for its row: that append fails with its caller's transaction (which
// cannot be retried here), and the partitions are created once that transaction has ended,
// so that the next append finds them.
func partitionsAfterFailure(db *bun.DB, log *zap.Logger) {
	go func() {
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		defer cancel()
		if err := ensurePartitions(ctx, db, 0); err != nil {
			log.Warn("audit: creating the partitions ahead failed", zap.Error(err))
		}
	}()
}
