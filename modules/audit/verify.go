package audit

import (
	"context"
	"database/sql"
	"errors"
	"fmt"

	"github.com/uptrace/bun"

	"github.com/agentidp/agentidp/platform/database"
)

// verifyPageSize is how many rows VerifyChain holds at a time.
const verifyPageSize = 1000

// verifier implements ChainVerifier over audit_events.
type verifier struct {
	db       *bun.DB
	pageSize int64
}

func newVerifier(db *bun.DB) *verifier { return &verifier{db: db, pageSize: verifyPageSize} }

// VerifyChain walks the chain in seq order, a page at a time (constant memory), and stops
// at the first row that breaks it, saying why: "deleted" (a seq gap; or a prev_hash that is
// not the previous row's hash while the row itself is intact, or intact only at a higher
// seq, i.e. renumbered), "reordered" (its prev_hash is the hash of a row later in the
// chain), or "altered" (its hash does not match its content in its hash_version, or a row
// written before organizations carries an org_id). Rows appended while it runs
// are checked too, up to the moment it reads the last page. Deleting rows at the tail
// leaves a valid, shorter chain: compare HeadSeq/HeadHash with a copy kept elsewhere.
//
// After an archive, the walk starts after the last archived event, from its hash.
func (v *verifier) VerifyChain(ctx context.Context) (Report, error) {
	rep := Report{OK: true, HeadHash: genesisHash}
	prevSeq, prevHash := int64(0), genesisHash
	arch, err := lastArchive(ctx, v.db)
	if err != nil {
		return Report{}, err
	}
	if arch != nil {
		prevSeq, prevHash = arch.ThroughSeq, arch.LastHash
		rep.HeadSeq, rep.HeadHash = prevSeq, prevHash
	}
	for {
		var rows []eventRow
		err := v.db.NewSelect().Model(&rows).Where("seq > ?", prevSeq).
			OrderExpr("seq ASC").Limit(v.pageSize).Scan(ctx)
		if err != nil {
			return Report{}, fmt.Errorf("audit: reading the chain: %w", database.Translate(err))
		}
		for i := range rows {
			r := &rows[i]
			rep.Checked++
			reason, err := v.check(ctx, r, prevSeq, prevHash)
			if err != nil {
				return Report{}, err
			}
			if reason != "" {
				rep.OK, rep.FirstBadEventID, rep.FirstBadSeq, rep.Reason = false, r.EventID, r.Seq, reason
				return rep, nil
			}
			prevSeq, prevHash = r.Seq, r.Hash
			rep.HeadSeq, rep.HeadHash = r.Seq, r.Hash
		}
		if int64(len(rows)) < v.pageSize {
			return rep, nil
		}
	}
}

// check says what is wrong with r, which follows the row (prevSeq, prevHash), or "".
func (v *verifier) check(ctx context.Context, r *eventRow, prevSeq int64, prevHash string) (string, error) {
	if r.Seq != prevSeq+1 {
		missing := fmt.Sprintf("rows %d to %d are", prevSeq+1, r.Seq-1)
		if r.Seq-1 == prevSeq+1 {
			missing = fmt.Sprintf("row %d is", prevSeq+1)
		}
		return fmt.Sprintf("deleted: the chain jumps from seq %d to %d, %s missing", prevSeq, r.Seq, missing), nil
	}
	intact := rowIntact(r)
	if r.PrevHash != prevHash {
		later, err := v.seqOfHash(ctx, r.PrevHash, r.Seq)
		switch {
		case err != nil:
			return "", err
		case later > 0:
			return fmt.Sprintf("reordered: the row it was chained to is at seq %d, after it", later), nil
		case intact:
			return "deleted: prev_hash does not match the previous row; a row before it was removed or replaced", nil
		}
		if d := renumberedBy(r); d > 0 {
			return fmt.Sprintf("deleted: %d row(s) before it were removed and the rest renumbered (it was seq %d)",
				d, r.Seq+d), nil
		}
	}
	if !intact {
		return "altered: the row's content does not match its hash", nil
	}
	return "", nil
}

// maxRenumber bounds the search for the seq a renumbered row was written with.
const maxRenumber = 1024

// renumberedBy is d > 0 when r's hash matches its content written at seq r.Seq + d: rows
// before it were deleted and the later ones moved down to close the gap.
func renumberedBy(r *eventRow) int64 {
	c := *r
	for d := int64(1); d <= maxRenumber; d++ {
		c.Seq = r.Seq + d
		if computeHash(&c) == r.Hash {
			return d
		}
	}
	return 0
}

// seqOfHash is the seq of a row after seq whose hash is h, or 0. It runs once, at the first
// broken link, so it needs no index.
func (v *verifier) seqOfHash(ctx context.Context, h string, after int64) (int64, error) {
	var seq int64
	err := v.db.NewSelect().Table("audit_events").Column("seq").
		Where("hash = ?", h).Where("seq > ?", after).OrderExpr("seq ASC").Limit(1).Scan(ctx, &seq)
	switch {
	case errors.Is(err, sql.ErrNoRows):
		return 0, nil
	case err != nil:
		return 0, fmt.Errorf("audit: reading the chain: %w", database.Translate(err))
	}
	return seq, nil
}
