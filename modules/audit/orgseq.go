package audit

import (
	"context"
	"fmt"

	"github.com/uptrace/bun"

	"github.com/agentidp/agentidp/platform/database"
)

// orgHeadRow is one row of audit_org_heads: the org_seq of an organization's last event.
// It is written with the events, under the chain lock, and outlives them (an archive drops
// old events, never a head), so that the numbering goes on after an archive.
type orgHeadRow struct {
	bun.BaseModel `bun:"table:audit_org_heads"`

	OrgID  string `bun:"org_id,pk"`
	OrgSeq int64  `bun:"org_seq"`
}

// nextOrgSeq numbers r within its organization: one more than the organization's last
// number in heads (this batch's new heads), else in orgs (before the batch), else 1.
func nextOrgSeq(heads []*orgHeadRow, r *eventRow, orgs map[string]int64) []*orgHeadRow {
	// A batch holds few organizations (the token path's events are mostly one tenant's
	// at a time): a linear search beats a map for them.
	for _, h := range heads {
		if h.OrgID == r.OrgID {
			h.OrgSeq++
			r.OrgSeq = h.OrgSeq
			return heads
		}
	}
	h := &orgHeadRow{OrgID: r.OrgID, OrgSeq: orgs[r.OrgID] + 1}
	r.OrgSeq = h.OrgSeq
	return append(heads, h)
}

// applyOrgHeads records heads in orgs.
func applyOrgHeads(orgs map[string]int64, heads []*orgHeadRow) {
	for _, h := range heads {
		orgs[h.OrgID] = h.OrgSeq
	}
}

// readOrgHeads adds to orgs (a new map when nil) the last org_seq of every organization of
// rows that orgs does not hold yet, in one query; an organization with no head yet is
// recorded as 0. It returns orgs.
func readOrgHeads(ctx context.Context, db bun.IDB, rows []*eventRow, orgs map[string]int64) (map[string]int64, error) {
	if orgs == nil {
		orgs = make(map[string]int64, 4)
	}
	var missing []string
	for _, r := range rows {
		if r.OrgID == "" {
			continue
		}
		if _, ok := orgs[r.OrgID]; !ok {
			orgs[r.OrgID] = 0
			missing = append(missing, r.OrgID)
		}
	}
	if len(missing) == 0 {
		return orgs, nil
	}
	var found []orgHeadRow
	if err := db.NewSelect().Model(&found).Where("org_id IN (?)", bun.List(missing)).Scan(ctx); err != nil {
		for _, id := range missing {
			delete(orgs, id) // not known after all
		}
		return orgs, fmt.Errorf("audit: reading the organizations' heads: %w", database.Translate(err))
	}
	for _, h := range found {
		orgs[h.OrgID] = h.OrgSeq
	}
	return orgs, nil
}

// upsertOrgHeadsQuery sets the organizations' heads (one row per organization).
func upsertOrgHeadsQuery(db bun.IDB, heads []*orgHeadRow) *bun.InsertQuery {
	return db.NewInsert().Model(&heads).
		On("CONFLICT (org_id) DO UPDATE").Set("org_seq = EXCLUDED.org_seq")
}

// upsertOrgHeads writes heads in tx (appendRows, under the chain lock).
func upsertOrgHeads(ctx context.Context, tx bun.IDB, heads []*orgHeadRow) error {
	if len(heads) == 0 {
		return nil
	}
	if _, err := upsertOrgHeadsQuery(tx, heads).Exec(ctx); err != nil {
		return fmt.Errorf("audit: writing the organizations' heads: %w", database.Translate(err))
	}
	return nil
}
