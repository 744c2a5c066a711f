package agents

import (
	"context"
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/uptrace/bun"

	"github.com/agentidp/agentidp/modules/orgs"
	"github.com/agentidp/agentidp/platform/cursor"
	"github.com/agentidp/agentidp/platform/database"
	"github.com/agentidp/agentidp/platform/testenv"
)

// The repository's org_id condition: a list of one organization holds only its agents,
// under every other filter and across pages; no organization means every one.
func TestIntegrationRepositoryListByOrg(t *testing.T) {
	testenv.ForEachBackend(t, func(t *testing.T, b testenv.Backend) {
		repo := newRepository()
		other := uuid.NewString()
		base := database.Time(time.Now().Add(-time.Hour))
		byOrg := map[string][]string{} // newest first
		var all []string
		for i := range 12 {
			org := orgs.RootID
			if i%3 != 0 {
				org = other
			}
			st := StatusActive
			if i%2 == 1 {
				st = StatusSuspended
			}
			at := base.Add(time.Duration(i) * time.Second)
			a := &Agent{ID: uuid.NewString(), OrgID: org, Name: fmt.Sprintf("Worker %d", i), Owner: "team",
				Status: st, Plan: PlanUnlimited, CreatedAt: at, UpdatedAt: at}
			row, err := toRow(a, false)
			if err != nil {
				t.Fatal(err)
			}
			if err := repo.insert(t.Context(), b.DB, row); err != nil {
				t.Fatal(err)
			}
			byOrg[org] = append([]string{a.ID}, byOrg[org]...)
			all = append([]string{a.ID}, all...)
		}
		// pages lists q page by page, two at a time, following the last row.
		pages := func(q listQuery) []string {
			t.Helper()
			q.Limit = 2
			var ids []string
			for range 20 {
				rows, err := repo.list(t.Context(), b.DB, q)
				if err != nil {
					t.Fatal(err)
				}
				for _, r := range rows {
					if q.OrgID != "" && r.OrgID != q.OrgID {
						t.Fatalf("list of org %s returned %s of org %s", q.OrgID, r.ID, r.OrgID)
					}
					ids = append(ids, r.ID)
				}
				if len(rows) < q.Limit {
					return ids
				}
				last := rows[len(rows)-1]
				q.After = &cursor.Position{CreatedAt: last.CreatedAt, ID: last.ID}
			}
			t.Fatal("more than 20 pages")
			return nil
		}
		if got := pages(listQuery{OrgID: other}); !slices.Equal(got, byOrg[other]) {
			t.Errorf("org %s: %v, want %v", other, got, byOrg[other])
		}
		if got := pages(listQuery{OrgID: orgs.RootID}); !slices.Equal(got, byOrg[orgs.RootID]) {
			t.Errorf("root: %v, want %v", got, byOrg[orgs.RootID])
		}
		if got := pages(listQuery{}); !slices.Equal(got, all) {
			t.Errorf("every org: %v, want %v", got, all)
		}
		// Under the other filters: root's agents are 0, 3, 6, 9; the suspended of them 3
		// and 9, and of those only 3 contains "r 3".
		if got := pages(listQuery{OrgID: orgs.RootID, Status: StatusSuspended}); len(got) != 2 {
			t.Errorf("root, suspended: %d agents, want 2", len(got))
		}
		if got := pages(listQuery{OrgID: orgs.RootID, Status: StatusSuspended, Owner: "team", Query: "r 3"}); len(got) != 1 {
			t.Errorf("root, suspended, owner, q: %d agents, want 1", len(got))
		}
		if got := pages(listQuery{OrgID: uuid.NewString()}); len(got) != 0 {
			t.Errorf("an organization without agents: %d agents", len(got))
		}
	})
}

// listSQLGolden is the list query the repository sends to PostgreSQL for every condition at
// once. cmd/agentidp-bench builds the same text to measure it on a seeded database
// (TestListSQLMirrorsRepository there holds the same string): change both together.
const listSQLGolden = `SELECT "agent_row"."agent_id", "agent_row"."org_id", "agent_row"."name", "agent_row"."name_lower", "agent_row"."description", "agent_row"."owner", "agent_row"."status", "agent_row"."allowed_scopes", "agent_row"."allowed_audiences", "agent_row"."plan", "agent_row"."metadata", "agent_row"."is_admin", "agent_row"."require_dpop", "agent_row"."created_at", "agent_row"."updated_at", "agent_row"."tokens_not_before" FROM "agents" AS "agent_row" WHERE (org_id = '019ad1cf-0e72-7833-97ee-493c06286e36') AND (status = 'suspended') AND (owner = 'o') AND (name_lower LIKE '%rec%' ESCAPE '\') AND ((created_at, agent_id) < ('2026-12-06 11:59:41.637795+00:00', '019ad1cf-0e72-7833-97ee-4000000000aa')) ORDER BY created_at DESC, agent_id DESC LIMIT 51`

// sqlRecorder keeps the text of every query of a bun.DB.
type sqlRecorder struct{ queries []string }

func (r *sqlRecorder) BeforeQuery(ctx context.Context, e *bun.QueryEvent) context.Context {
	r.queries = append(r.queries, e.Query)
	return ctx
}

func (*sqlRecorder) AfterQuery(context.Context, *bun.QueryEvent) {}

func TestIntegrationListSQL(t *testing.T) {
	rec := &sqlRecorder{}
	db := testenv.Postgres(t).WithQueryHook(rec)
	at := time.Date(2026, 12, 6, 11, 59, 41, 637795000, time.UTC)
	_, err := newRepository().list(t.Context(), db, listQuery{OrgID: "019ad1cf-0e72-7833-97ee-493c06286e36",
		Status: StatusSuspended, Owner: "o", Query: "rec",
		After: &cursor.Position{CreatedAt: at, ID: "019ad1cf-0e72-7833-97ee-4000000000aa"}, Limit: 51})
	if err != nil {
		t.Fatal(err)
	}
	if len(rec.queries) != 1 || rec.queries[0] != listSQLGolden {
		t.Errorf("the list sent %q\nwant %q", rec.queries, listSQLGolden)
	}
}
