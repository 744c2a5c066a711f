package audit

import (
	"bytes"
	"context"
	"database/sql"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/transparency-dev/formats/log"
	"github.com/uptrace/bun"
	"go.uber.org/zap"
	"golang.org/x/mod/sumdb/note"

	"github.com/agentidp/agentidp/platform/database"
)

// checkpointLockKey serialises checkpoint signing across replicas (pg_advisory_xact_lock;
// the ASCII bytes of "agidpckp"), so that one series of checkpoints grows, never two.
const checkpointLockKey int64 = 0x6167696470636b70

// ErrNoCheckpoint: no checkpoint of the asked size (or none yet).
var ErrNoCheckpoint = errors.New("audit: no such checkpoint")

// errInconsistent is the cause when the stored tree does not extend the last checkpoint.
var errInconsistent = errors.New("audit: the Merkle tree is not consistent with the last signed checkpoint; no checkpoint is signed until an operator starts a new origin with agentidp audit new-origin (docs/operations.md, \"Audit checkpoints\")")

// checkpointRow is one row of audit_checkpoints.
type checkpointRow struct {
	bun.BaseModel `bun:"table:audit_checkpoints"`

	Origin    string    `bun:"origin,pk"`
	TreeSize  int64     `bun:"tree_size,pk"`
	RootHash  []byte    `bun:"root_hash"`
	Note      string    `bun:"note"`
	CreatedAt time.Time `bun:"created_at"`
}

// checkpointer signs a checkpoint of the tree when it has grown, keeps them, and hands
// each new one to the publisher.
type checkpointer struct {
	db   *bun.DB
	keys *keyStore
	log  *zap.Logger
	pub  *publisher
	now  func() time.Time

	mu     sync.Mutex
	key    *auditKey
	halted error // set once the tree was found inconsistent with the last checkpoint
}

// start loads (at first start: creates) the audit key; an error fails the start.
func (c *checkpointer) start(ctx context.Context) error {
	if err := ensurePartitions(ctx, c.db, 0); err != nil {
		return err
	}
	key, err := c.keys.current(ctx)
	if err != nil {
		return err
	}
	c.mu.Lock()
	c.key = key
	c.mu.Unlock()
	return nil
}

// currentKey is the key loaded at start (nil before).
func (c *checkpointer) currentKey() *auditKey {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.key
}

// healthy is nil, or why this replica signs no more checkpoints (readiness).
func (c *checkpointer) healthy(context.Context) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.halted
}

// run is the worker's tick: partitions ahead of the head, a checkpoint if the tree grew,
// then its publication.
func (c *checkpointer) run(ctx context.Context) error {
	if err := ensurePartitions(ctx, c.db, 0); err != nil {
		return err
	}
	cp, err := c.sign(ctx)
	if cp != nil {
		c.pub.offer(cp)
	}
	c.pub.attempt(ctx)
	return err
}

// sign signs a checkpoint of the whole stored tree if it is larger than the last
// checkpoint of the origin and consistent with it (the last checkpoint's root recomputed
// from the stored nodes), under the checkpoint lock, and stores it. It returns nil, nil
// when there is nothing new to sign. When the tree is not consistent, it signs nothing
// more under this origin: the replica reports it in /readyz until an operator starts a
// new origin (followKey, first, loads it).
func (c *checkpointer) sign(ctx context.Context) (*checkpointRow, error) {
	if err := c.followKey(ctx); err != nil {
		return nil, err
	}
	key := c.currentKey()
	if key == nil {
		return nil, errors.New("audit: the checkpointer has not started")
	}
	if err := c.healthy(ctx); err != nil {
		return nil, err
	}
	var signed *checkpointRow
	err := c.db.RunInTx(ctx, nil, func(ctx context.Context, tx bun.Tx) error {
		if database.IsPostgres(tx) {
			if _, err := tx.ExecContext(ctx, "SELECT pg_advisory_xact_lock(?)", checkpointLockKey); err != nil {
				return fmt.Errorf("audit: locking the checkpoints: %w", database.Translate(err))
			}
		}
		// A new origin started since followKey read the key: sign nothing more under
		// the retired one (the next run loads the new key).
		if current, err := isCurrentKey(ctx, tx, key.origin); err != nil || !current {
			return err
		}
		size, last, err := treeExtends(ctx, tx, key.origin)
		if err != nil || size == 0 || (last != nil && size == uint64(last.TreeSize)) {
			return err
		}
		root, err := rootAt(ctx, tx, size)
		if err != nil {
			return err
		}
		text, err := signCheckpoint(key, size, root)
		if err != nil {
			return err
		}
		signed = &checkpointRow{Origin: key.origin, TreeSize: int64(size), RootHash: root,
			Note: text, CreatedAt: c.now().UTC()}
		if _, err := tx.NewInsert().Model(signed).Exec(ctx); err != nil {
			return fmt.Errorf("audit: storing checkpoint %d: %w", size, database.Translate(err))
		}
		return nil
	})
	if errors.Is(err, errInconsistent) {
		c.mu.Lock()
		c.halted = err
		c.mu.Unlock()
		c.log.Error("audit checkpoints halted", zap.Error(err))
	}
	if err != nil {
		return nil, err
	}
	return signed, nil
}

// treeExtends reads the stored tree's size and origin's last checkpoint (nil when there is
// none), and checks that the tree extends it: at least as large, and the root at the
// checkpoint's size, recomputed from the stored nodes, is the checkpoint's. If not, the
// error wraps errInconsistent (the size is still returned).
func treeExtends(ctx context.Context, tx bun.IDB, origin string) (uint64, *checkpointRow, error) {
	size, err := storedTreeSize(ctx, tx)
	if err != nil {
		return 0, nil, err
	}
	last, err := latestCheckpoint(ctx, tx, origin)
	switch {
	case errors.Is(err, ErrNoCheckpoint):
		return size, nil, nil
	case err != nil:
		return 0, nil, err
	}
	if size < uint64(last.TreeSize) {
		return size, last, fmt.Errorf("%w: the tree has %d leaves, the checkpoint %d", errInconsistent, size, last.TreeSize)
	}
	root, err := rootAt(ctx, tx, uint64(last.TreeSize))
	if err != nil && !errors.Is(err, errMissingNode) {
		return 0, nil, err
	}
	if err != nil || !bytes.Equal(root, last.RootHash) {
		return size, last, fmt.Errorf("%w: the root at size %d differs", errInconsistent, last.TreeSize)
	}
	return size, last, nil
}

// followKey loads the store's current audit key when it is not the one this replica
// holds (an operator started a new origin: agentidp audit new-origin), and clears the
// halt: the new origin's series starts with the whole current tree, checked against
// nothing of the previous origin's.
func (c *checkpointer) followKey(ctx context.Context) error {
	held := c.currentKey()
	if held == nil {
		return nil // not started
	}
	row, err := c.keys.readCurrent(ctx)
	if err != nil {
		return err
	}
	if row.Origin == held.origin && row.VerifierKey == held.verifierKey {
		return nil
	}
	key, err := c.keys.open(ctx, row)
	if err != nil {
		return err
	}
	c.mu.Lock()
	c.key, c.halted = key, nil
	c.mu.Unlock()
	c.log.Warn("audit checkpoints: a new origin was started; signing under it from now on",
		zap.String("previous_origin", held.origin), zap.String("origin", key.origin),
		zap.String("verifier_key", key.verifierKey))
	return nil
}

// isCurrentKey reports whether origin's audit key is the current one (not retired).
func isCurrentKey(ctx context.Context, tx bun.IDB, origin string) (bool, error) {
	n, err := tx.NewSelect().Model((*auditKeyRow)(nil)).Where("origin = ?", origin).Where("retired_at IS NULL").Count(ctx)
	if err != nil {
		return false, fmt.Errorf("audit: reading the audit key: %w", database.Translate(err))
	}
	return n > 0, nil
}

// signCheckpoint is the C2SP tlog-checkpoint note (origin, size, base64 root) signed by key.
func signCheckpoint(key *auditKey, size uint64, root []byte) (string, error) {
	body := log.Checkpoint{Origin: key.origin, Size: size, Hash: root}.Marshal()
	msg, err := note.Sign(&note.Note{Text: string(body)}, key.signer)
	if err != nil {
		return "", fmt.Errorf("audit: signing checkpoint %d: %w", size, err)
	}
	return string(msg), nil
}

// latestCheckpoint is origin's checkpoint of the largest size.
func latestCheckpoint(ctx context.Context, db bun.IDB, origin string) (*checkpointRow, error) {
	var row checkpointRow
	err := db.NewSelect().Model(&row).Where("origin = ?", origin).
		OrderExpr("tree_size DESC").Limit(1).Scan(ctx)
	return checkpointResult(&row, err)
}

// checkpointOfSize is origin's checkpoint of exactly size leaves.
func checkpointOfSize(ctx context.Context, db bun.IDB, origin string, size int64) (*checkpointRow, error) {
	var row checkpointRow
	err := db.NewSelect().Model(&row).Where("origin = ?", origin).Where("tree_size = ?", size).Scan(ctx)
	return checkpointResult(&row, err)
}

func checkpointResult(row *checkpointRow, err error) (*checkpointRow, error) {
	switch {
	case errors.Is(err, sql.ErrNoRows):
		return nil, ErrNoCheckpoint
	case err != nil:
		return nil, fmt.Errorf("audit: reading checkpoints: %w", database.Translate(err))
	}
	return row, nil
}
