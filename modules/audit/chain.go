package audit

import (
	"context"
	"database/sql"
	"errors"
	"fmt"

	"github.com/uptrace/bun"

	"github.com/agentidp/agentidp/platform/database"
)

// chainLockKey is the pg_advisory_xact_lock key that serialises appends to the chain across
// every replica (the ASCII bytes of "agidpaud").
const chainLockKey int64 = 0x6167696470617564

// appendRows links rows to the chain's tail and inserts them in one statement, inside tx
// (which the caller commits). On PostgreSQL it first takes the chain's transaction-scoped
// advisory lock, so that the tail read here stays the tail until tx ends; on SQLite the
// write transaction itself is exclusive (_txlock=immediate). Two replicas can therefore
// never fork the chain; if something bypasses the lock, the unique seq refuses the insert.
func appendRows(ctx context.Context, tx bun.Tx, rows []*eventRow) error {
	if len(rows) == 0 {
		return nil
	}
	if database.IsPostgres(tx) {
		if _, err := tx.ExecContext(ctx, "SELECT pg_advisory_xact_lock(?)", chainLockKey); err != nil {
			return fmt.Errorf("audit: locking the chain: %w", database.Translate(err))
		}
	}
	seq, prev, err := chainTail(ctx, tx)
	if err != nil {
		return err
	}
	for _, r := range rows {
		seq++
		r.Seq, r.PrevHash = seq, prev
		r.Hash = computeHash(r)
		prev = r.Hash
	}
	if _, err := tx.NewInsert().Model(&rows).Exec(ctx); err != nil {
		return fmt.Errorf("audit: inserting %d events: %w", len(rows), database.Translate(err))
	}
	return nil
}

// chainTail returns the last row's seq and hash, or 0 and the genesis hash.
func chainTail(ctx context.Context, db bun.IDB) (int64, string, error) {
	var tail struct {
		Seq  int64  `bun:"seq"`
		Hash string `bun:"hash"`
	}
	err := db.NewSelect().Table("audit_events").Column("seq", "hash").
		OrderExpr("seq DESC").Limit(1).Scan(ctx, &tail)
	switch {
	case errors.Is(err, sql.ErrNoRows):
		return 0, genesisHash, nil
	case err != nil:
		return 0, "", fmt.Errorf("audit: reading the chain tail: %w", database.Translate(err))
	}
	return tail.Seq, tail.Hash, nil
}
