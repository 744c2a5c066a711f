package audit

import (
	"context"
	"database/sql"
	"errors"
	"fmt"

	"github.com/transparency-dev/merkle/compact"
	"github.com/uptrace/bun"

	"github.com/agentidp/agentidp/platform/database"
)

// chainLockKey is the pg_advisory_xact_lock key that serialises appends to the chain across
// every replica (the ASCII bytes of "agidpaud").
const chainLockKey int64 = 0x6167696470617564

// head is the chain's last row as a writer knows it: its seq and hash, and the Merkle
// tree's compact range over the events up to it.
type head struct {
	seq  int64
	hash string
	tree *compact.Range
}

// link chains rows after h (seq, prev_hash, hash), grows a copy of h's tree by their
// leaves, and returns the new head and the tree nodes to store with the rows.
func link(rows []*eventRow, h head) (head, []*nodeRow, error) {
	h.tree = cloneTree(h.tree)
	nodes := make([]*nodeRow, 0, 2*len(rows)+8)
	var err error
	for _, r := range rows {
		h.seq++
		r.Seq, r.PrevHash = h.seq, h.hash
		r.Hash = computeHash(r)
		h.hash = r.Hash
		if nodes, err = growTree(h.tree, r.Hash, nodes); err != nil {
			return head{}, nil, err
		}
	}
	return h, nodes, nil
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
	tree, err := loadTree(ctx, tx, uint64(seq))
	if errors.Is(err, errMissingNode) {
		tree, err = catchUpTree(ctx, tx, seq) // events the tree does not hold yet
	}
	if err != nil {
		return head{}, err
	}
	h, nodes, err := link(rows, head{seq: seq, hash: prev, tree: tree})
	if err != nil {
		return head{}, err
	}
	if _, err := tx.NewInsert().Model(&rows).Exec(ctx); err != nil {
		return head{}, fmt.Errorf("audit: inserting %d events: %w", len(rows), database.Translate(err))
	}
	if err := insertNodes(ctx, tx, nodes); err != nil {
		if database.IsUniqueViolation(err) {
			return head{}, errTreeAhead // under the lock: the tree's nodes there were not ours
		}
		return head{}, err
	}
	return h, nil
}

// errStaleHead is returned by appendAfter when another writer has appended since the head
// it was given: nothing was written.
var errStaleHead = errors.New("audit: the chain has moved on since the known head")

// appendAfter links rows after h, the head this writer last wrote, and inserts them and
// their tree nodes in one autocommitted statement on PostgreSQL (the events in a
// data-modifying WITH, the nodes in the main INSERT): one round trip. The statement takes
// the chain lock itself (a statement trigger, migration 20261128030100_audit), so if h is
// no longer the tail the primary key on seq (or on the nodes' position) refuses it whole
// and errStaleHead is returned; the caller then appends under the lock with appendRows.
// On SQLite the two INSERTs share a transaction, whose write lock is the chain lock.
func appendAfter(ctx context.Context, db *bun.DB, rows []*eventRow, h head) (head, error) {
	next, nodes, err := link(rows, h)
	if err != nil {
		return head{}, err
	}
	if database.IsPostgres(db) {
		_, err = db.NewInsert().With("ev", db.NewInsert().Model(&rows)).Model(&nodes).Exec(ctx)
	} else {
		err = db.RunInTx(ctx, nil, func(ctx context.Context, tx bun.Tx) error {
			if _, err := tx.NewInsert().Model(&rows).Exec(ctx); err != nil {
				return err
			}
			_, err := tx.NewInsert().Model(&nodes).Exec(ctx)
			return err
		})
	}
	if err != nil {
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
