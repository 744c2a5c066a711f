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
	// orgs holds the last org_seq of some organizations as of this head (appendRows: those
	// of the rows it wrote); an organization absent from it may have events.
	orgs map[string]int64
}

// link chains rows after h (seq, prev_hash, hash), numbers them within their
// organizations after orgs (each org's last org_seq; an org not in orgs has none yet),
// grows a copy of h's tree by their leaves, and returns the new head, the tree nodes and
// the organizations' new heads to store with the rows. Neither h nor orgs is changed.
// Rows of hash versions before 3 (tests writing old rows) get no org_seq.
func link(rows []*eventRow, h head, orgs map[string]int64) (head, []*nodeRow, []*orgHeadRow, error) {
	h.tree = cloneTree(h.tree)
	nodes := make([]*nodeRow, 0, 2*len(rows)+8)
	var heads []*orgHeadRow
	var err error
	for _, r := range rows {
		r.OrgSeq = 0
		if r.HashVersion >= hashV3 {
			if r.OrgID == "" {
				return head{}, nil, nil, fmt.Errorf("%w: an event of hash version %d needs an org_id", ErrInvalidEvent, r.HashVersion)
			}
			heads = nextOrgSeq(heads, r, orgs)
		}
		h.seq++
		r.Seq, r.PrevHash = h.seq, h.hash
		r.Hash = computeHash(r)
		h.hash = r.Hash
		if nodes, err = growTree(h.tree, r.Hash, nodes); err != nil {
			return head{}, nil, nil, err
		}
	}
	return h, nodes, heads, nil
}

// appendRows links rows to the chain's tail and inserts them in one statement, inside tx
// (which the caller commits), with their tree nodes and their organizations' new heads
// (read here, one query, under the lock), and returns the new head, whose orgs hold the
// heads of the rows' organizations. On PostgreSQL it first takes the
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
	orgs, err := readOrgHeads(ctx, tx, rows, nil)
	if err != nil {
		return head{}, err
	}
	h, nodes, heads, err := link(rows, head{seq: seq, hash: prev, tree: tree}, orgs)
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
	if err := upsertOrgHeads(ctx, tx, heads); err != nil {
		return head{}, err
	}
	h.orgs = orgs
	applyOrgHeads(h.orgs, heads)
	return h, nil
}

// errStaleHead is returned by appendAfter when another writer has appended since the head
// it was given: nothing was written.
var errStaleHead = errors.New("audit: the chain has moved on since the known head")

// appendAfter links rows after h, the head this writer last wrote, and inserts them, their
// tree nodes and their organizations' new heads in one autocommitted statement on
// PostgreSQL (the events and the heads in data-modifying WITHs, the nodes in the main
// INSERT): one round trip. orgs must hold the last org_seq of every organization of rows
// (readOrgHeads); it is not changed. Every part of the statement takes the chain lock
// itself before its first row (statement triggers, migrations 20261128030100_audit,
// 20261206120000_audit and 20261208030000_audit), so if h is no longer the tail the
// primary key on seq (or on the nodes' position) refuses it whole and errStaleHead is
// returned; the caller then appends under the lock with appendRows. On SQLite the three
// INSERTs share a transaction, whose write lock is the chain lock. The new head's orgs is
// nil: the caller applies the returned heads to its own map.
func appendAfter(ctx context.Context, db *bun.DB, rows []*eventRow, h head, orgs map[string]int64) (head, []*orgHeadRow, error) {
	next, nodes, heads, err := link(rows, h, orgs)
	if err != nil {
		return head{}, nil, err
	}
	next.orgs = nil
	if database.IsPostgres(db) {
		q := db.NewInsert().With("ev", db.NewInsert().Model(&rows))
		if len(heads) > 0 {
			q = q.With("oh", upsertOrgHeadsQuery(db, heads))
		}
		_, err = q.Model(&nodes).Exec(ctx)
	} else {
		err = db.RunInTx(ctx, nil, func(ctx context.Context, tx bun.Tx) error {
			if _, err := tx.NewInsert().Model(&rows).Exec(ctx); err != nil {
				return err
			}
			if _, err := tx.NewInsert().Model(&nodes).Exec(ctx); err != nil {
				return err
			}
			if len(heads) == 0 {
				return nil
			}
			_, err := upsertOrgHeadsQuery(tx, heads).Exec(ctx)
			return err
		})
	}
	if err != nil {
		if database.IsUniqueViolation(err) {
			return head{}, nil, errStaleHead
		}
		return head{}, nil, fmt.Errorf("audit: inserting %d events: %w", len(rows), database.Translate(err))
	}
	return next, heads, nil
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
