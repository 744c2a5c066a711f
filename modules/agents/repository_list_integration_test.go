package agents

import (
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/agentidp/agentidp/modules/orgs"
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
				q.After = &cursor{CreatedAt: last.CreatedAt, ID: last.ID}
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
