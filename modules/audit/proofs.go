package audit

import (
	"context"
	"database/sql"
	"errors"
	"fmt"

	"github.com/agentidp/agentidp/modules/orgs"
	"github.com/agentidp/agentidp/platform/apperr"
	"github.com/agentidp/agentidp/platform/database"
	"github.com/agentidp/agentidp/platform/policy"
)

// errNoEvent answers an inclusion proof of an event the caller cannot see: another
// organization's, exactly as a missing one.
var errNoEvent = apperr.NotFound("no audit event has this seq")

// errNoCheckpointYet answers a proof asked before the first checkpoint.
var errNoCheckpointYet = apperr.NotFound("no audit checkpoint has been signed yet")

// latestSize is the size of the latest checkpoint of the current origin.
func (s *service) latestSize(ctx context.Context) (int64, error) {
	key := s.checkpoints.currentKey()
	if key == nil {
		return 0, errNoCheckpointYet
	}
	cp, err := latestCheckpoint(ctx, s.db, key.origin)
	if errors.Is(err, ErrNoCheckpoint) {
		return 0, errNoCheckpointYet
	}
	if err != nil {
		return 0, err
	}
	return cp.TreeSize, nil
}

// checkpoint is the latest checkpoint's note, or the one of exactly size leaves.
func (s *service) checkpoint(ctx context.Context, size int64) (string, error) {
	cp, err := s.checkpointRow(ctx, size)
	if err != nil {
		return "", err
	}
	return cp.Note, nil
}

// checkpointRow is the latest checkpoint, or the one of exactly size leaves.
func (s *service) checkpointRow(ctx context.Context, size int64) (*checkpointRow, error) {
	key := s.checkpoints.currentKey()
	if key == nil {
		return nil, errNoCheckpointYet
	}
	var cp *checkpointRow
	var err error
	if size == 0 {
		cp, err = latestCheckpoint(ctx, s.db, key.origin)
	} else {
		cp, err = checkpointOfSize(ctx, s.db, key.origin, size)
	}
	if errors.Is(err, ErrNoCheckpoint) {
		return nil, apperr.NotFound("no audit checkpoint of this tree size")
	}
	return cp, err
}

// verifierKey is the note verifier key of the current audit key.
func (s *service) verifierKey() (string, error) {
	key := s.checkpoints.currentKey()
	if key == nil {
		return "", apperr.Unavailable("the audit key is not loaded yet", nil)
	}
	return key.verifierKey, nil
}

// inclusion proves the event of seq q.Seq in the tree of q.TreeSize leaves (default: the
// latest checkpoint's), which must not exceed the latest checkpoint. A caller without
// orgs:admin gets proofs for its own organization's events only (policy.ListOrg).
func (s *service) inclusion(ctx context.Context, q inclusionQuery) (InclusionProof, error) {
	latest, err := s.latestSize(ctx)
	if err != nil {
		return InclusionProof{}, err
	}
	size := q.TreeSize
	if size == 0 {
		size = latest
	}
	var bad apperr.Fields
	if size > latest {
		bad.Add("tree_size", "must be at most %d, the size of the latest checkpoint", latest)
	} else if q.Seq > size {
		bad.Add("seq", "must be at most the tree size %d", size)
	}
	if err := bad.Err(); err != nil {
		return InclusionProof{}, err
	}
	if err := s.mayProve(ctx, q.Seq); err != nil {
		return InclusionProof{}, err
	}
	hashes, err := inclusionProof(ctx, s.db, uint64(q.Seq-1), uint64(size))
	if err != nil {
		return InclusionProof{}, fmt.Errorf("audit: inclusion proof of seq %d: %w", q.Seq, err)
	}
	return InclusionProof{LeafIndex: q.Seq - 1, TreeSize: size, Hashes: hashes}, nil
}

// mayProve checks that the caller may see the event of seq: its organization is one the
// policy lets the caller list. An event it may not see is errNoEvent, as a missing one.
func (s *service) mayProve(ctx context.Context, seq int64) error {
	allowed, err := policy.ListOrg(ctx, s.policy, "")
	if err != nil {
		return err
	}
	if allowed == "" { // every organization (orgs:admin, or the CLI)
		return nil
	}
	org, err := eventOrg(ctx, s.db, seq)
	switch {
	case errors.Is(err, sql.ErrNoRows):
		return errNoEvent
	case err != nil:
		return fmt.Errorf("audit: reading event %d: %w", seq, database.Translate(err))
	}
	owner := org.String
	if !org.Valid {
		owner = orgs.RootID // written before organizations: root's
	}
	if owner != allowed {
		return errNoEvent
	}
	return nil
}

// consistency proves that the tree of q.From leaves is a prefix of the tree of q.To leaves;
// q.To must not exceed the latest checkpoint.
func (s *service) consistency(ctx context.Context, q consistencyQuery) (ConsistencyProof, error) {
	latest, err := s.latestSize(ctx)
	if err != nil {
		return ConsistencyProof{}, err
	}
	if q.To > latest {
		var bad apperr.Fields
		bad.Add("to", "must be at most %d, the size of the latest checkpoint", latest)
		return ConsistencyProof{}, bad.Err()
	}
	hashes, err := consistencyProof(ctx, s.db, uint64(q.From), uint64(q.To))
	if err != nil {
		return ConsistencyProof{}, fmt.Errorf("audit: consistency proof %d→%d: %w", q.From, q.To, err)
	}
	return ConsistencyProof{Hashes: hashes}, nil
}

// Checkpoint implements Proofs.
func (s *service) Checkpoint(ctx context.Context, size int64) (string, error) {
	return s.checkpoint(ctx, size)
}

// VerifierKey implements Proofs.
func (s *service) VerifierKey() (string, error) { return s.verifierKey() }

// Consistency implements Proofs.
func (s *service) Consistency(ctx context.Context, from, to int64) ([][]byte, error) {
	p, err := s.consistency(ctx, consistencyQuery{From: from, To: to})
	return p.Hashes, err
}

// SignCheckpoint implements Proofs.
func (s *service) SignCheckpoint(ctx context.Context) (string, error) {
	if _, err := s.checkpoints.sign(ctx); err != nil {
		return "", err
	}
	return s.checkpoint(ctx, 0)
}

// ExportAfter implements Proofs.
func (s *service) ExportAfter(ctx context.Context, afterSeq int64, emit func([]Event) error) error {
	return s.exportAfter(ctx, filter{}, afterSeq, emit)
}
