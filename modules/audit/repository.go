package audit

import (
	"context"
	"fmt"

	"github.com/uptrace/bun"

	"github.com/agentidp/agentidp/modules/orgs"
	"github.com/agentidp/agentidp/platform/database"
)

// repository reads audit_events (writes go through appendRows only).
type repository struct{ db *bun.DB }

func newRepository(db *bun.DB) *repository { return &repository{db: db} }

// page returns up to limit events matching f, newest first by (occurred_at, seq), after the
// keyset position after (nil: from the newest). Every value is a bound parameter.
func (r *repository) page(ctx context.Context, f filter, after *position, limit int) ([]eventRow, error) {
	var rows []eventRow
	q := r.filtered(r.db.NewSelect().Model(&rows), f)
	if after != nil {
		q = q.Where("(occurred_at, seq) < (?, ?)", after.At, after.Seq)
	}
	err := q.OrderExpr("occurred_at DESC, seq DESC").Limit(int64(limit)).Scan(ctx)
	if err != nil {
		return nil, fmt.Errorf("audit: listing events: %w", database.Translate(err))
	}
	return rows, nil
}

// pageAfter returns up to limit events matching f with seq > afterSeq, in seq order (the
// chain's order: the export a verifier or a SIEM reads).
func (r *repository) pageAfter(ctx context.Context, f filter, afterSeq int64, limit int) ([]eventRow, error) {
	var rows []eventRow
	q := r.filtered(r.db.NewSelect().Model(&rows), f).Where("seq > ?", afterSeq)
	if err := q.OrderExpr("seq ASC").Limit(int64(limit)).Scan(ctx); err != nil {
		return nil, fmt.Errorf("audit: reading events: %w", database.Translate(err))
	}
	return rows, nil
}

// filtered adds f's conditions to q; every value is a bound parameter.
func (r *repository) filtered(q *bun.SelectQuery, f filter) *bun.SelectQuery {
	switch f.OrgID {
	case "":
	case orgs.RootID: // with the events written before organizations, all of root's
		q = q.Where("(org_id = ? OR org_id IS NULL)", f.OrgID)
	default:
		q = q.Where("org_id = ?", f.OrgID)
	}
	if f.AgentID != "" {
		q = q.Where("agent_id = ?", f.AgentID)
	}
	if f.Action != "" {
		q = q.Where("action = ?", f.Action)
	}
	if f.Outcome != "" {
		q = q.Where("outcome = ?", f.Outcome)
	}
	if f.From != nil {
		q = q.Where("occurred_at >= ?", *f.From)
	}
	if f.To != nil {
		q = q.Where("occurred_at < ?", *f.To)
	}
	return q
}
