package audit

import (
	"context"
	"database/sql"
	"encoding/hex"
	"errors"
	"fmt"
	"slices"

	"github.com/transparency-dev/merkle/compact"
	"github.com/transparency-dev/merkle/proof"
	"github.com/transparency-dev/merkle/rfc6962"
	"github.com/uptrace/bun"

	"github.com/agentidp/agentidp/platform/database"
)

// The Merkle tree over the events (RFC 9162 §2.1): leaf i is the 32-byte chain hash of the
// event with seq i+1; leaf hash SHA-256(0x00 ‖ leaf), interior SHA-256(0x01 ‖ l ‖ r).
// Every perfect subtree's root is stored in audit_tree_nodes as the events commit, so a
// root or a proof is a handful of primary-key reads, never a recomputation.

// hasher is the RFC 6962/9162 tree hasher (SHA-256).
var hasher = rfc6962.DefaultHasher

// ranges builds compact ranges with that hasher.
var ranges = compact.RangeFactory{Hash: hasher.HashChildren}

// errTreeAhead is the cause when the tree holds more leaves than the chain has events:
// rows were removed from the end of audit_events.
var errTreeAhead = errors.New("audit: the Merkle tree holds more leaves than audit_events has rows: events were removed from the end of the log; nothing more is appended (docs/operations.md, \"Audit checkpoints\")")

// nodeRow is one row of audit_tree_nodes: the root hash of the perfect subtree (level, idx).
type nodeRow struct {
	bun.BaseModel `bun:"table:audit_tree_nodes"`

	Level int16  `bun:"level,pk"`
	Idx   int64  `bun:"idx,pk"`
	Hash  []byte `bun:"hash"`
}

// leafHash is the Merkle leaf hash of an event whose chain hash is chainHash (hex).
func leafHash(chainHash string) ([]byte, error) {
	raw, err := hex.DecodeString(chainHash)
	if err != nil || len(raw) != 32 {
		return nil, fmt.Errorf("audit: chain hash %q is not 32 bytes of hex", chainHash)
	}
	return hasher.HashLeaf(raw), nil
}

// emptyTree is the compact range of the empty tree.
func emptyTree() *compact.Range { return ranges.NewEmptyRange(0) }

// cloneTree copies r, so that appending to the copy leaves r as it was.
func cloneTree(r *compact.Range) *compact.Range {
	c, err := ranges.NewRange(0, r.End(), slices.Clone(r.Hashes()))
	if err != nil { // r is a valid range, so its copy is
		panic(err)
	}
	return c
}

// growTree appends leaf to tree and adds every node it completes (the leaf included) to
// nodes.
func growTree(tree *compact.Range, chainHash string, nodes []*nodeRow) ([]*nodeRow, error) {
	leaf, err := leafHash(chainHash)
	if err != nil {
		return nodes, err
	}
	return appendLeaf(tree, leaf, nodes)
}

// appendLeaf appends a leaf hash to tree and adds every node it completes to nodes.
func appendLeaf(tree *compact.Range, leaf []byte, nodes []*nodeRow) ([]*nodeRow, error) {
	err := tree.Append(leaf, func(id compact.NodeID, h []byte) {
		nodes = append(nodes, &nodeRow{Level: int16(id.Level), Idx: int64(id.Index), Hash: h})
	})
	return nodes, err
}

// readNodes reads the hashes of ids, in their order; a missing node is an error wrapping
// errMissingNode.
func readNodes(ctx context.Context, db bun.IDB, ids []compact.NodeID) ([][]byte, error) {
	if len(ids) == 0 {
		return nil, nil
	}
	rows, err := selectNodes(ctx, db, ids)
	if err != nil {
		return nil, fmt.Errorf("audit: reading tree nodes: %w", database.Translate(err))
	}
	byID := make(map[compact.NodeID][]byte, len(rows))
	for _, r := range rows {
		byID[compact.NewNodeID(uint(r.Level), uint64(r.Idx))] = r.Hash
	}
	out := make([][]byte, len(ids))
	for i, id := range ids {
		h, ok := byID[id]
		if !ok {
			return nil, fmt.Errorf("%w: level %d index %d", errMissingNode, id.Level, id.Index)
		}
		out[i] = h
	}
	return out, nil
}

// errMissingNode: a node the tree of the asked size needs is not stored.
var errMissingNode = errors.New("audit: Merkle tree node not stored")

// loadTree is the compact range [0, size) from the stored nodes.
func loadTree(ctx context.Context, db bun.IDB, size uint64) (*compact.Range, error) {
	hashes, err := readNodes(ctx, db, compact.RangeNodes(0, size, nil))
	if err != nil {
		return nil, err
	}
	return ranges.NewRange(0, size, hashes)
}

// rootAt is the root hash of the tree of the first size leaves, from the stored nodes.
func rootAt(ctx context.Context, db bun.IDB, size uint64) ([]byte, error) {
	if size == 0 {
		return hasher.EmptyRoot(), nil
	}
	tree, err := loadTree(ctx, db, size)
	if err != nil {
		return nil, err
	}
	return tree.GetRootHash(nil)
}

// inclusionProof is the RFC 9162 inclusion proof of leaf index in the tree of size leaves.
func inclusionProof(ctx context.Context, db bun.IDB, index, size uint64) ([][]byte, error) {
	n, err := proof.Inclusion(index, size)
	if err != nil {
		return nil, err
	}
	return fetchProof(ctx, db, n)
}

// consistencyProof is the RFC 9162 consistency proof between trees of size1 ≤ size2.
func consistencyProof(ctx context.Context, db bun.IDB, size1, size2 uint64) ([][]byte, error) {
	n, err := proof.Consistency(size1, size2)
	if err != nil {
		return nil, err
	}
	return fetchProof(ctx, db, n)
}

func fetchProof(ctx context.Context, db bun.IDB, n proof.Nodes) ([][]byte, error) {
	hashes, err := readNodes(ctx, db, n.IDs)
	if err != nil {
		return nil, err
	}
	out, err := n.Rehash(hashes, hasher.HashChildren)
	if err != nil {
		return nil, err
	}
	if out == nil {
		out = [][]byte{}
	}
	return out, nil
}

// storedTreeSize is the number of leaves in audit_tree_nodes.
func storedTreeSize(ctx context.Context, db bun.IDB) (uint64, error) {
	var n sql.NullInt64
	err := db.NewSelect().Table("audit_tree_nodes").ColumnExpr("max(idx) + 1").
		Where("level = 0").Scan(ctx, &n)
	if err != nil {
		return 0, fmt.Errorf("audit: reading the tree size: %w", database.Translate(err))
	}
	return uint64(n.Int64), nil
}

// treeCatchUpPage is how many events catchUpTree reads at a time.
const treeCatchUpPage = 1000

// catchUpTree returns the compact range over the chain's first seq events, first adding
// to audit_tree_nodes the leaves of any event it does not hold yet (events written before
// the tree existed, or by a replica of an older version). It must run under the chain
// lock (inside the appending transaction).
func catchUpTree(ctx context.Context, tx bun.IDB, seq int64) (*compact.Range, error) {
	stored, err := storedTreeSize(ctx, tx)
	if err != nil {
		return nil, err
	}
	if stored > uint64(seq) {
		return nil, errTreeAhead
	}
	tree, err := loadTree(ctx, tx, stored)
	if err != nil {
		return nil, err
	}
	for tree.End() < uint64(seq) {
		var hashes []string
		err := tx.NewSelect().Table("audit_events").Column("hash").
			Where("seq > ?", tree.End()).Where("seq <= ?", seq).
			OrderExpr("seq ASC").Limit(treeCatchUpPage).Scan(ctx, &hashes)
		if err != nil {
			return nil, fmt.Errorf("audit: reading events for the tree: %w", database.Translate(err))
		}
		if len(hashes) == 0 {
			return nil, fmt.Errorf("audit: building the tree: no event at seq %d", tree.End()+1)
		}
		var nodes []*nodeRow
		for _, h := range hashes {
			if nodes, err = growTree(tree, h, nodes); err != nil {
				return nil, err
			}
		}
		if err := insertNodes(ctx, tx, nodes); err != nil {
			return nil, err
		}
	}
	return tree, nil
}

// insertNodes writes nodes in one statement.
func insertNodes(ctx context.Context, db bun.IDB, nodes []*nodeRow) error {
	if len(nodes) == 0 {
		return nil
	}
	if _, err := db.NewInsert().Model(&nodes).Exec(ctx); err != nil {
		return fmt.Errorf("audit: inserting %d tree nodes: %w", len(nodes), database.Translate(err))
	}
	return nil
}
