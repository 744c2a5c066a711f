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

// head is the chain's last row as a writer knows it: its seq and hash.
type head struct {
	seq  int64
	hash string
}

// link chains rows after h (seq, prev_hash, hash) and returns the new head.
func link(rows []*eventRow, h head) head {
	for _, r := range rows {
		h.seq++
		r.Seq, r.PrevHash = h.seq, h.hash
		r.Hash = computeHash(r)
		h.hash = r.Hash
	}
	return h
}

// appendRows links rows to the chain's tail and inserts them in one statement, inside tx
// (which the caller commits), and returns the new head. On PostgreSQL it first takes the
// chain's transaction-scoped advisory lock, so that the tail read here stays the tail until
// tx ends; on SQLite the write transaction itself is exclusive (_txlock=immediate). Two
// replicas can therefore never fork the chain; if something bypasses the lock, the unique
// seq refuses the insert.
func appendRows(ctx context.Context, tx bun.Tx, rows []*eventRow) (head, error) {
	if len(rows) == 0 {
		return head{}, nil
	}
	if database.IsPostgres(tx) {
		if _, err := tx.ExecContext(ctx, "SELECT pg_advisory_xact_lock(?)", chainLockKey); err != nil {
			return head{}, fmt.Errorf("audit: locking the chain: %w", database.Translate(err))
		}
	}
	seq, prev, err := chainTail(ctx, tx)
	if err != nil {
		return head{}, err
	}
	h := link(rows, head{seq: seq, hash: prev})
	if _, err := tx.NewInsert().Model(&rows).Exec(ctx); err != nil {
		return head{}, fmt.Errorf("audit: inserting %d events: %w", len(rows), database.Translate(err))
	}
	return h, nil
}

// errStaleHead is returned by appendAfter when another writer has appended since the head
// it was given: nothing was written.
var errStaleHead = errors.New("audit: the chain has moved on since the known head")

// appendAfter links rows after h, the head this writer last wrote, and inserts them in one
// autocommitted statement: one round trip. The statement takes the chain lock itself (on
// PostgreSQL a statement trigger, migration 20261128030100_audit; on SQLite its write
// lock), so if h is no longer the tail the primary key on seq refuses it whole and
// errStaleHead is returned; the caller then appends under the lock with appendRows.
func appendAfter(ctx context.Context, db bun.IDB, rows []*eventRow, h head) (head, error) {
	next := link(rows, h)
	if _, err := db.NewInsert().Model(&rows).Exec(ctx); err != nil {
		if database.IsUniqueViolation(err) {
			return head{}, errStaleHead
		}
		return head{}, fmt.Errorf("audit: inserting %d events: %w", len(rows), database.Translate(err))
	}
	return next, nil
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
