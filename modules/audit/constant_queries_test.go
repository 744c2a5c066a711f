package audit

import (
	"bytes"
	"context"
	"crypto/rand"
	"database/sql"
	"errors"
	"testing"

	"github.com/transparency-dev/merkle/compact"
	"github.com/transparency-dev/merkle/proof"
	"github.com/uptrace/bun"

	"github.com/agentidp/agentidp/platform/testenv"
)

// storeTree writes a tree of n random leaves to db's audit_tree_nodes and returns the
// leaf hashes and the roots of every prefix, computed in memory.
func storeTree(t *testing.T, db bun.IDB, n int) (leaves, roots [][]byte) {
	t.Helper()
	tree := emptyTree()
	var nodes []*nodeRow
	roots = [][]byte{hasher.EmptyRoot()}
	for range n {
		raw := make([]byte, 32)
		_, _ = rand.Read(raw)
		leaf := hasher.HashLeaf(raw)
		var err error
		if nodes, err = appendLeaf(tree, leaf, nodes); err != nil {
			t.Fatal(err)
		}
		root, err := tree.GetRootHash(nil)
		if err != nil {
			t.Fatal(err)
		}
		leaves, roots = append(leaves, leaf), append(roots, root)
	}
	if err := insertNodes(context.Background(), db, nodes); err != nil {
		t.Fatal(err)
	}
	return leaves, roots
}

// readNodes on both stores and through every bun handle (the pool, a transaction, a
// connection): every root and every inclusion and consistency proof of a 37-leaf tree
// matches the tree built in memory, and a node not stored is errMissingNode.
func TestReadNodesThroughEveryHandle(t *testing.T) {
	testenv.ForEachBackend(t, func(t *testing.T, b testenv.Backend) {
		ctx := context.Background()
		const n = 37
		leaves, roots := storeTree(t, b.DB, n)
		conn, err := b.DB.Conn(ctx)
		if err != nil {
			t.Fatal(err)
		}
		defer conn.Close()
		tx, err := b.DB.BeginTx(ctx, nil)
		if err != nil {
			t.Fatal(err)
		}
		defer func() { _ = tx.Rollback() }() // read only
		for name, db := range map[string]bun.IDB{"db": b.DB, "tx": tx, "conn": conn} {
			for size := uint64(1); size <= n; size++ {
				root, err := rootAt(ctx, db, size)
				if err != nil || !bytes.Equal(root, roots[size]) {
					t.Fatalf("%s: root of %d = %x, %v; want %x", name, size, root, err, roots[size])
				}
				for i := uint64(0); i < size; i += 5 {
					p, err := inclusionProof(ctx, db, i, size)
					if err != nil {
						t.Fatal(err)
					}
					if err := proof.VerifyInclusion(hasher, i, size, leaves[i], p, roots[size]); err != nil {
						t.Fatalf("%s: inclusion of %d in %d: %v", name, i, size, err)
					}
				}
				for from := uint64(1); from < size; from += 7 {
					p, err := consistencyProof(ctx, db, from, size)
					if err != nil {
						t.Fatal(err)
					}
					if err := proof.VerifyConsistency(hasher, from, size, p, roots[from], roots[size]); err != nil {
						t.Fatalf("%s: consistency %d→%d: %v", name, from, size, err)
					}
				}
			}
			_, err := readNodes(ctx, db, []compact.NodeID{compact.NewNodeID(0, 3), compact.NewNodeID(0, n)})
			if !errors.Is(err, errMissingNode) {
				t.Fatalf("%s: leaf %d is not stored, got %v", name, n, err)
			}
		}
	})
}

// On PostgreSQL every node read, and every read of an event's organization, has the same
// statement text, so a connection prepares it once however many different proofs it serves
// (pgx's statement cache keys on the text).
func TestReadNodesOneStatementOnPostgres(t *testing.T) {
	ctx := context.Background()
	db := testenv.Postgres(t)
	storeTree(t, db, 100)
	conn, err := db.Conn(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	for _, size := range []uint64{3, 17, 64, 99, 100} {
		if _, err := inclusionProof(ctx, conn, size/2, size); err != nil {
			t.Fatal(err)
		}
		if _, err := rootAt(ctx, conn, size); err != nil {
			t.Fatal(err)
		}
	}
	for seq := int64(1); seq <= 5; seq++ { // no such events: the statement is prepared all the same
		if _, err := eventOrg(ctx, conn, seq); !errors.Is(err, sql.ErrNoRows) {
			t.Fatalf("event %d: %v, want sql.ErrNoRows", seq, err)
		}
	}
	for _, table := range []string{"audit_tree_nodes", "audit_events"} {
		var prepared int
		err = conn.NewSelect().TableExpr("pg_prepared_statements").ColumnExpr("count(*)").
			Where("statement LIKE ?", "%"+table+"%").
			Where("statement NOT LIKE ?", "%pg_prepared_statements%"). // this query, prepared too
			Scan(ctx, &prepared)
		if err != nil {
			t.Fatal(err)
		}
		if prepared != 1 {
			t.Fatalf("%d statements reading %s prepared on the connection, want 1", prepared, table)
		}
	}
}
