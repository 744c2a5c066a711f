package audit

import (
	"context"
	"testing"
	"time"

	"github.com/uptrace/bun"

	"github.com/agentidp/agentidp/modules/orgs"
	"github.com/agentidp/agentidp/platform/audittrail"
	"github.com/agentidp/agentidp/platform/testenv"
)

// An organization's numbering goes on after an archive took every one of its events: the
// next number comes from audit_org_heads, which an archive keeps, not from the events.
func TestIntegrationOrgSeqContinuesAfterArchive(t *testing.T) {
	testenv.ForEachBackend(t, func(t *testing.T, b testenv.Backend) {
		ctx := context.Background()
		if b.Name == "postgres" {
			smallPartitions(t, b.DB, 10)
		}
		const org = "0191f0a4-1c2d-7e3f-8a4b-5c6d7e8f9abc"
		rec := &recorder{now: time.Now}
		record := func(org string) {
			t.Helper()
			err := b.DB.RunInTx(ctx, nil, func(ctx context.Context, tx bun.Tx) error {
				return rec.RecordTx(ctx, tx, audittrail.Event{Action: "x.y", OrgID: org})
			})
			if err != nil {
				t.Fatal(err)
			}
		}
		for range 12 {
			record(org)
		}
		for range 13 {
			record(orgs.RootID)
		}
		c := newTestCheckpointer(t, b.DB)
		if err := ensurePartitions(ctx, b.DB, 0); err != nil {
			t.Fatal(err)
		}
		rep, err := newArchiver(b.DB, c, rec).Archive(ctx, time.Now().Add(time.Hour), t.TempDir())
		if err != nil || rep.ThroughSeq < 12 {
			t.Fatalf("archive: %+v %v", rep, err)
		}
		var left int
		if err := b.DB.NewSelect().Table("audit_events").ColumnExpr("count(*)").Where("org_id = ?", org).Scan(ctx, &left); err != nil || left != 0 {
			t.Fatalf("%d events of the organization left after the archive (%v)", left, err)
		}
		record(org)
		record(orgs.RootID)
		rows := allRows(t, b.DB)
		last, prev := rows[len(rows)-1], rows[len(rows)-2]
		if prev.OrgID != org || prev.OrgSeq != 13 {
			t.Fatalf("the organization's next event: %s %d, want 13", prev.OrgID, prev.OrgSeq)
		}
		if last.OrgID != orgs.RootID || last.OrgSeq != 15 { // 13, audit.archived, this one
			t.Fatalf("root's next event: %s %d, want 15", last.OrgID, last.OrgSeq)
		}
		if chain, err := newVerifier(b.DB).VerifyChain(ctx); err != nil || !chain.OK {
			t.Fatalf("chain: %+v %v", chain, err)
		}
	})
}
