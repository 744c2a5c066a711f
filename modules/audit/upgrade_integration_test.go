package audit

import (
	"bytes"
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/uptrace/bun"

	"github.com/agentidp/agentidp/modules/orgs"
	"github.com/agentidp/agentidp/platform/audittrail"
	"github.com/agentidp/agentidp/platform/database"
	"github.com/agentidp/agentidp/platform/testenv"
)

// version1 are the migrations of version 1 of the schema.
var version1 = []string{"20261128010000_agents", "20261128020000_credentials", "20261128030000_audit",
	"20261128030100_audit", "20261128040000_tokens", "20261128050000_metering"}

// A version-1 database keeps its events as they were (no org_id, hash version 1) and its
// chain still verifies after the upgrade, with new events (hash version 2, org_id covered)
// chained after them. The old events are root's: the root filter selects them. An org_id
// put on an old event, or altered on a new one, breaks the chain there.
func TestIntegrationUpgradeKeepsVersion1Events(t *testing.T) {
	for name, open := range map[string]func(testing.TB) *bun.DB{"postgres": testenv.EmptyPostgres, "sqlite": testenv.EmptySQLite} {
		t.Run(name, func(t *testing.T) {
			ctx := context.Background()
			db := open(t)
			if _, err := database.MigrateOnly(ctx, db, version1); err != nil {
				t.Fatal(err)
			}
			// Three events as version 1 wrote them: the columns of version 1, its encoding.
			h := head{hash: genesisHash, tree: emptyTree()}
			for i := range 3 {
				r := &eventRow{EventID: uuid.NewString(), OccurredAt: database.Time(time.Now()),
					AgentID: "0191f0a4-1c2d-7e3f-8a4b-5c6d7e8f9a0b", Action: "agent.created", TargetType: "agent",
					TargetID: fmt.Sprint(i), Outcome: "success", Details: `{"i":` + fmt.Sprint(i) + `}`, HashVersion: hashV1}
				var err error
				if h, _, _, err = link([]*eventRow{r}, h, nil); err != nil {
					t.Fatal(err)
				}
				if _, err := db.NewInsert().Model(r).
					ExcludeColumn("org_id", "hash_version", "org_seq").Exec(ctx); err != nil {
					t.Fatal(err)
				}
			}
			if _, err := database.MigrateUp(ctx, db); err != nil {
				t.Fatal(err)
			}

			rec := &recorder{now: time.Now}
			for _, org := range []string{"", "0191f0a4-1c2d-7e3f-8a4b-5c6d7e8f0001"} {
				err := db.RunInTx(ctx, nil, func(ctx context.Context, tx bun.Tx) error {
					return rec.RecordTx(ctx, tx, audittrail.Event{Action: "org.created", OrgID: org})
				})
				if err != nil {
					t.Fatal(err)
				}
			}
			var all []eventRow
			if err := db.NewSelect().Model(&all).OrderExpr("seq").Scan(ctx); err != nil {
				t.Fatal(err)
			}
			for i, r := range all {
				old := i < 3
				if (r.HashVersion == hashV1) != old || (r.OrgID == "") != old {
					t.Fatalf("row %d: version %d, org %q", r.Seq, r.HashVersion, r.OrgID)
				}
			}
			if all[3].OrgID != orgs.RootID {
				t.Fatalf("an event naming no org, no agent, no actor: org %q, want root", all[3].OrgID)
			}
			v := newVerifier(db)
			rep, err := v.VerifyChain(ctx)
			if err != nil || !rep.OK || rep.Checked != 5 {
				t.Fatalf("after the upgrade: %+v %v", rep, err)
			}
			// The first append after the upgrade built the tree over the old events too.
			if got, want := mustRoot(t, db, 5), independentRoot(t, all); !bytes.Equal(got, want) {
				t.Fatalf("tree root after the upgrade %x, want %x", got, want)
			}

			repo := newRepository(db)
			for org, want := range map[string]int{orgs.RootID: 4, "0191f0a4-1c2d-7e3f-8a4b-5c6d7e8f0001": 1, "": 5} {
				got, err := repo.page(ctx, filter{OrgID: org}, nil, 100)
				if err != nil || len(got) != want {
					t.Fatalf("org %q: %d events, %v; want %d", org, len(got), err, want)
				}
			}

			for seq, stmt := range map[int64]string{
				2: "UPDATE audit_events SET org_id = '" + orgs.RootID + "' WHERE seq = 2",
				5: "UPDATE audit_events SET org_id = '" + orgs.RootID + "' WHERE seq = 5",
			} {
				undo := tamperRaw(t, db, stmt)
				rep, err := v.VerifyChain(ctx)
				if err != nil || rep.OK || rep.FirstBadSeq != seq || rep.Reason[:7] != "altered" {
					t.Fatalf("%s: %+v %v", stmt, rep, err)
				}
				undo()
			}
		})
	}
}

// tamperRaw runs stmt with the immutability triggers out of the way, as a superuser could,
// and returns a function that puts the row back the same way.
func tamperRaw(t *testing.T, db *bun.DB, stmt string) (undo func()) {
	t.Helper()
	ctx := context.Background()
	var saved []eventRow
	if err := db.NewSelect().Model(&saved).Scan(ctx); err != nil {
		t.Fatal(err)
	}
	run := func(stmts ...string) {
		err := db.RunInTx(ctx, nil, func(ctx context.Context, tx bun.Tx) error {
			if database.IsPostgres(tx) {
				if _, err := tx.ExecContext(ctx, "SET LOCAL session_replication_role = replica"); err != nil {
					return err
				}
			} else {
				for _, trg := range []string{"audit_events_no_update", "audit_events_no_delete"} {
					if _, err := tx.ExecContext(ctx, "DROP TRIGGER IF EXISTS "+trg); err != nil {
						return err
					}
				}
			}
			for _, s := range stmts {
				if _, err := tx.ExecContext(ctx, s); err != nil {
					return err
				}
			}
			if len(stmts) == 1 && stmts[0] == "DELETE FROM audit_events" {
				_, err := tx.NewInsert().Model(&saved).Exec(ctx)
				return err
			}
			return nil
		})
		if err != nil {
			t.Fatalf("tampering: %v", err)
		}
	}
	run(stmt)
	return func() { run("DELETE FROM audit_events") }
}
