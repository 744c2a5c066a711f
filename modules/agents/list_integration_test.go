package agents

import (
	"encoding/base64"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/agentidp/agentidp/modules/orgs"
	"github.com/agentidp/agentidp/platform/database"
	"github.com/agentidp/agentidp/platform/testenv"
)

func TestIntegrationListPagination(t *testing.T) {
	testenv.ForEachBackend(t, func(t *testing.T, b testenv.Backend) {
		e := newEnv(t, b, nil)
		if p := e.list(""); len(p.Items) != 0 || p.NextCursor != nil {
			t.Fatalf("empty list: %+v", p)
		}
		var created []string
		for i := range 7 {
			created = append(created, e.create(map[string]any{"name": fmt.Sprintf("agent-%d", i)}).ID)
		}
		// Newest first, three pages of 3, 3 and 1, the last with next_cursor null.
		first := e.list("?limit=3")
		if len(first.Items) != 3 || first.NextCursor == nil {
			t.Fatalf("first page: %d items, cursor %v", len(first.Items), first.NextCursor)
		}
		all := e.listAll("", 3)
		got := make([]string, len(all))
		for i, a := range all {
			got[i] = a.ID
		}
		slices.Reverse(created)
		if !slices.Equal(got, created) {
			t.Fatalf("pages gave %v, want newest first %v", got, created)
		}
		// A page exactly as long as what is left ends with a null cursor.
		if p := e.list("?limit=7"); len(p.Items) != 7 || p.NextCursor != nil {
			t.Errorf("limit=7: %d items, cursor %v", len(p.Items), p.NextCursor)
		}
		// An agent created between pages shows up on no later page (it is newer) and
		// nothing is repeated or skipped.
		p1 := e.list("?limit=4")
		e.create(map[string]any{"name": "late"})
		p2 := e.list("?limit=4&cursor=" + *p1.NextCursor)
		seen := map[string]bool{}
		for _, a := range append(p1.Items, p2.Items...) {
			if seen[a.ID] {
				t.Errorf("duplicate %s", a.Name)
			}
			seen[a.ID] = true
		}
		if len(seen) != 7 || seen[""] {
			t.Errorf("two pages covered %d agents, want the original 7", len(seen))
		}

		for _, bad := range []string{"?limit=0", "?limit=201", "?limit=abc", "?limit=", "?limit=-1",
			"?cursor=garbage!", "?cursor=" + base64.RawURLEncoding.EncodeToString([]byte("a1.x.y")),
			"?cursor=" + base64.RawURLEncoding.EncodeToString([]byte("zz.1.0b1c2d3e-4f50-4617-8293-a4b5c6d7e8f9")),
			"?cursor=" + url.QueryEscape("' OR 1=1 --")} {
			e.do(http.MethodGet, "/api/v1/agents"+bad, e.admin, nil).problem(t, http.StatusBadRequest, "validation_failed")
		}
		if p := e.list("?limit=200"); len(p.Items) != 8 {
			t.Errorf("limit=200: %d", len(p.Items))
		}
	})
}

// Agents created in the same microsecond are ordered by id, and paginating through them
// neither skips nor repeats one; the default page size is 50.
func TestIntegrationListTiesAndDefaultLimit(t *testing.T) {
	testenv.ForEachBackend(t, func(t *testing.T, b testenv.Backend) {
		e := newEnv(t, b, nil)
		at := database.Time(time.Now())
		var ids []string
		for i := range 55 {
			a := &Agent{ID: uuid.NewString(), OrgID: orgs.RootID, Name: fmt.Sprintf("tie-%02d", i), Status: StatusActive, Plan: PlanUnlimited,
				CreatedAt: at, UpdatedAt: at}
			row, err := toRow(a, false)
			if err != nil {
				t.Fatal(err)
			}
			if err := newRepository().insert(t.Context(), b.DB, row); err != nil {
				t.Fatal(err)
			}
			ids = append(ids, a.ID)
		}
		slices.Sort(ids)
		slices.Reverse(ids)
		if p := e.list(""); len(p.Items) != 50 || p.NextCursor == nil {
			t.Fatalf("default page: %d items, cursor %v", len(p.Items), p.NextCursor)
		}
		all := e.listAll("", 2)
		got := make([]string, len(all))
		for i, a := range all {
			got[i] = a.ID
		}
		if !slices.Equal(got, ids) {
			t.Fatalf("tied agents paginated as %v, want by id descending %v", got, ids)
		}
	})
}

func TestIntegrationListFilters(t *testing.T) {
	testenv.ForEachBackend(t, func(t *testing.T, b testenv.Backend) {
		e := newEnv(t, b, nil)
		mk := func(name, owner string) *Agent { return e.create(map[string]any{"name": name, "owner": owner}) }
		alpha := mk("Alpha Bot", "team-a")
		mk("my alphabet", "team-a2")
		mk("100% real", "TEAM-A")
		mk("under_score", "")
		mk("underXscore", "")
		mk("it's ' OR 1=1 -- fine", "x' OR '1'='1")
		mk(`back\slash`, "")
		mk("Ünïcode ÄGENT", "")
		suspended := mk("sleepy", "team-a")
		gone := mk("gone", "team-a")
		e.do(http.MethodPost, "/api/v1/agents/"+suspended.ID+"/suspend", e.admin, nil).agent(t, 200)
		if r := e.do(http.MethodDelete, "/api/v1/agents/"+gone.ID, e.admin, nil); r.Status != http.StatusNoContent {
			t.Fatalf("delete: %d", r.Status)
		}

		cases := []struct {
			query string
			want  []string // names, newest first
		}{
			{"status=suspended", []string{"sleepy"}},
			{"status=decommissioned", []string{"gone"}},
			{"status=active&owner=team-a", []string{"Alpha Bot"}},
			{"owner=team-a", []string{"gone", "sleepy", "Alpha Bot"}},
			{"owner=" + url.QueryEscape("x' OR '1'='1"), []string{"it's ' OR 1=1 -- fine"}},
			{"owner=" + url.QueryEscape("' OR 1=1 --"), nil},
			{"q=ALPHA", []string{"my alphabet", "Alpha Bot"}},
			{"q=alpha&owner=team-a", []string{"Alpha Bot"}},
			{"q=" + url.QueryEscape("%"), []string{"100% real"}},
			{"q=" + url.QueryEscape("_"), []string{"under_score"}},
			{"q=" + url.QueryEscape("r_s"), []string{"under_score"}},
			{"q=" + url.QueryEscape("' OR 1=1 --"), []string{"it's ' OR 1=1 -- fine"}},
			{"q=" + url.QueryEscape("' OR '1'='1"), nil},
			{"q=" + url.QueryEscape(`\`), []string{`back\slash`}},
			{"q=" + url.QueryEscape("äGent"), []string{"Ünïcode ÄGENT"}},
			{"q=" + url.QueryEscape("*"), nil},
			{"q=sleep&status=active", nil},
		}
		for _, c := range cases {
			t.Run(c.query, func(t *testing.T) {
				got := names(e.listAll("?"+c.query, 2))
				if !slices.Equal(got, c.want) && !(len(got) == 0 && len(c.want) == 0) {
					t.Errorf("got %q, want %q", got, c.want)
				}
			})
		}
		// Bad filters are 400 naming each.
		p := e.do(http.MethodGet, "/api/v1/agents?status=sleeping&q="+strings.Repeat("a", 129)+
			"&owner=%FF", e.admin, nil).problem(t, http.StatusBadRequest, "validation_failed")
		for _, f := range []string{"status", "q", "owner"} {
			if p.fieldsOf()[f] == "" {
				t.Errorf("%s not named: %+v", f, p.Errors)
			}
		}
		e.do(http.MethodGet, "/api/v1/agents?q=a%00b", e.admin, nil).problem(t, http.StatusBadRequest, "validation_failed")
		if got := e.list("?q=alpha+bot"); len(got.Items) != 1 || got.Items[0].ID != alpha.ID {
			t.Errorf("q with a space: %+v", got)
		}
	})
}
