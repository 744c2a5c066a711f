package agents

import (
	"context"
	"encoding/json"
	"net/http"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/uptrace/bun"

	"github.com/agentidp/agentidp/modules/orgs"
	"github.com/agentidp/agentidp/platform/testenv"
)

// The authority model through HTTP (docs/security.md, "The authority model"): each test
// replays an escalation an attacker tried on version 1 and shows it refused, and that the
// refusal changed nothing.

// newOrg inserts an organization row (the orgs routes are another module's).
func (e *env) newOrg(name string) string { return testenv.InsertOrg(e.t, e.b.DB, name) }

// member creates an agent of org holding scopes (as the root operator) and returns it with
// a bearer token standing for it, holding the same scopes.
func (e *env) member(org string, scopes ...string) (*Agent, string) {
	e.t.Helper()
	a := e.create(map[string]any{"name": "member " + uuid.NewString()[:8], "org_id": org, "allowed_scopes": scopes})
	return a, e.bearers.IssueIn(org, a.ID, scopes...)
}

// get reads agent id as the root operator.
func (e *env) get(id string) *Agent {
	e.t.Helper()
	return e.do(http.MethodGet, "/api/v1/agents/"+id, e.admin, nil).agent(e.t, http.StatusOK)
}

func TestIntegrationNoSelfEscalation(t *testing.T) {
	testenv.ForEachBackend(t, func(t *testing.T, b testenv.Backend) {
		e := newEnv(t, b, nil)
		// An agent holding only agents:write PATCHes its own allowed scopes to every scope,
		// and its plan to unlimited.
		self, tok := e.member(orgs.RootID, "agents:write")
		p := e.do(http.MethodPatch, "/api/v1/agents/"+self.ID, tok, map[string]any{"allowed_scopes": everyScope}).
			problem(t, http.StatusForbidden, "insufficient_scope")
		for _, s := range []string{"keys:admin", "audit:read", "orgs:admin"} {
			if !strings.Contains(p.Detail, s) {
				t.Errorf("the refusal does not name %s: %s", s, p.Detail)
			}
		}
		e.do(http.MethodPatch, "/api/v1/agents/"+self.ID, tok, map[string]any{"plan": "unlimited"}).
			problem(t, http.StatusForbidden, "insufficient_scope")
		got := e.get(self.ID)
		if !slices.Equal(got.AllowedScopes, []string{"agents:write"}) || got.Plan != PlanFree {
			t.Fatalf("a refused change changed the agent: %+v", got)
		}
		// Within its own authority it may manage itself.
		e.do(http.MethodPatch, "/api/v1/agents/"+self.ID, tok, map[string]any{"description": "mine"}).agent(t, http.StatusOK)
		// Creating an agent with more than the caller holds is refused the same way.
		e.do(http.MethodPost, "/api/v1/agents", tok, map[string]any{"name": "x", "allowed_scopes": []string{"keys:admin"}}).
			problem(t, http.StatusForbidden, "insufficient_scope")
		e.do(http.MethodPost, "/api/v1/agents", tok, map[string]any{"name": "x", "plan": "unlimited"}).
			problem(t, http.StatusForbidden, "insufficient_scope")
		e.do(http.MethodPost, "/api/v1/agents", tok, map[string]any{"name": "x", "allowed_scopes": []string{"agents:write"}}).
			agent(t, http.StatusCreated)
	})
}

func TestIntegrationNoManagingUp(t *testing.T) {
	testenv.ForEachBackend(t, func(t *testing.T, b testenv.Backend) {
		e := newEnv(t, b, nil)
		admin, _ := e.member(orgs.RootID, everyScope...)
		_, writer := e.member(orgs.RootID, "agents:write", "agents:read")
		// Any agents:write holder suspending or decommissioning the admin, or changing it.
		e.do(http.MethodPost, "/api/v1/agents/"+admin.ID+"/suspend", writer, nil).problem(t, http.StatusForbidden, "insufficient_scope")
		e.do(http.MethodDelete, "/api/v1/agents/"+admin.ID, writer, nil).problem(t, http.StatusForbidden, "insufficient_scope")
		e.do(http.MethodPatch, "/api/v1/agents/"+admin.ID, writer, map[string]any{"allowed_scopes": []string{}}).
			problem(t, http.StatusForbidden, "insufficient_scope")
		if got := e.get(admin.ID); got.Status != StatusActive || len(got.AllowedScopes) != len(everyScope) {
			t.Fatalf("the admin changed: %+v", got)
		}
		// An agent whose authority the caller holds can be managed.
		peer := e.create(map[string]any{"name": "peer", "allowed_scopes": []string{"agents:read"}})
		e.do(http.MethodPost, "/api/v1/agents/"+peer.ID+"/suspend", writer, nil).agent(t, http.StatusOK)
		e.do(http.MethodPost, "/api/v1/agents/"+peer.ID+"/reactivate", writer, nil).agent(t, http.StatusOK)
	})
}

func TestIntegrationIsolation(t *testing.T) {
	testenv.ForEachBackend(t, func(t *testing.T, b testenv.Backend) {
		e := newEnv(t, b, nil)
		o1, o2 := e.newOrg("one"), e.newOrg("two")
		_, admin1 := e.member(o1, "agents:read", "agents:write", "credentials:write")
		theirs, _ := e.member(o2, "agents:read")
		rootAgent := e.create(map[string]any{"name": "root agent"})
		mine := e.do(http.MethodPost, "/api/v1/agents", admin1, map[string]any{"name": "mine"}).agent(t, http.StatusCreated)
		if mine.OrgID != o1 {
			t.Fatalf("created in %s, want the caller's organization %s", mine.OrgID, o1)
		}
		// Another organization's agent answers exactly as a missing one.
		missing := e.do(http.MethodGet, "/api/v1/agents/"+uuid.NewString(), admin1, nil)
		for _, id := range []string{theirs.ID, rootAgent.ID} {
			r := e.do(http.MethodGet, "/api/v1/agents/"+id, admin1, nil)
			p := r.problem(t, http.StatusNotFound, "not_found")
			var want problem
			_ = json.Unmarshal(missing.Body, &want)
			if p.Detail != want.Detail {
				t.Errorf("another org's agent: %q, a missing one: %q", p.Detail, want.Detail)
			}
			for _, call := range []struct{ method, path string }{
				{http.MethodPatch, "/api/v1/agents/" + id},
				{http.MethodPost, "/api/v1/agents/" + id + "/suspend"},
				{http.MethodPost, "/api/v1/agents/" + id + "/reactivate"},
				{http.MethodDelete, "/api/v1/agents/" + id},
			} {
				e.do(call.method, call.path, admin1, map[string]any{}).problem(t, http.StatusNotFound, "not_found")
			}
		}
		if got := e.get(theirs.ID); got.Status != StatusActive {
			t.Fatalf("another org's agent changed: %+v", got)
		}
		// Creating into another organization: as unknown as a missing one.
		p := e.do(http.MethodPost, "/api/v1/agents", admin1, map[string]any{"name": "x", "org_id": o2}).
			problem(t, http.StatusBadRequest, "validation_failed")
		if p.fieldsOf()["org_id"] == "" {
			t.Errorf("want org_id named: %+v", p)
		}
		// Lists hold only the caller's organization; another's is 404.
		r := e.do(http.MethodGet, "/api/v1/agents?limit=200", admin1, nil)
		var pg listPage
		if err := json.Unmarshal(r.Body, &pg); err != nil || r.Status != http.StatusOK {
			t.Fatalf("list: %d %s", r.Status, r.Body)
		}
		for _, a := range pg.Items {
			if a.OrgID != o1 {
				t.Errorf("the list of org one holds %s of %s", a.ID, a.OrgID)
			}
		}
		if len(pg.Items) != 2 {
			t.Errorf("org one lists %d agents, want 2", len(pg.Items))
		}
		e.do(http.MethodGet, "/api/v1/agents?org_id="+o2, admin1, nil).problem(t, http.StatusNotFound, "not_found")
		if got := e.do(http.MethodGet, "/api/v1/agents?org_id="+o1, admin1, nil); got.Status != http.StatusOK {
			t.Errorf("own org by filter: %d", got.Status)
		}
		// The root operator (orgs:admin) lists every organization, or the one it names.
		all := e.listAll("", 200)
		if len(all) < 4 {
			t.Errorf("orgs:admin lists %d agents, want every org's", len(all))
		}
		only2 := e.listAll("?org_id="+o2, 200)
		if len(only2) != 1 || only2[0].ID != theirs.ID {
			t.Errorf("?org_id= lists %v", names(only2))
		}
	})
}

func TestIntegrationRootOnlyScopes(t *testing.T) {
	testenv.ForEachBackend(t, func(t *testing.T, b testenv.Backend) {
		e := newEnv(t, b, nil)
		o1 := e.newOrg("one")
		for _, s := range []string{"keys:admin", "orgs:admin"} {
			p := e.do(http.MethodPost, "/api/v1/agents", e.admin, map[string]any{"name": "x", "org_id": o1,
				"allowed_scopes": []string{s}}).problem(t, http.StatusBadRequest, "validation_failed")
			if !strings.Contains(p.fieldsOf()["allowed_scopes"], s) {
				t.Errorf("granting %s outside root: %+v", s, p)
			}
		}
		a := e.create(map[string]any{"name": "x", "org_id": o1})
		e.do(http.MethodPatch, "/api/v1/agents/"+a.ID, e.admin, map[string]any{"allowed_scopes": []string{"keys:admin"}}).
			problem(t, http.StatusBadRequest, "validation_failed")
		e.create(map[string]any{"name": "root keys", "allowed_scopes": []string{"keys:admin", "orgs:admin"}})
	})
}

func TestIntegrationNoLockout(t *testing.T) {
	testenv.ForEachBackend(t, func(t *testing.T, b testenv.Backend) {
		e := newEnv(t, b, nil)
		o1 := e.newOrg("one")
		guardian := []string{"agents:read", "agents:write", "credentials:write"}
		g, gtok := e.member(o1, guardian...)
		// The last active agent holding agents:write and credentials:write cannot be
		// suspended, decommissioned or lose those scopes, not even by itself.
		for _, call := range []struct {
			method, path string
			body         any
		}{
			{http.MethodPost, "/api/v1/agents/" + g.ID + "/suspend", nil},
			{http.MethodDelete, "/api/v1/agents/" + g.ID, nil},
			{http.MethodPatch, "/api/v1/agents/" + g.ID, map[string]any{"allowed_scopes": []string{"agents:read", "agents:write"}}},
		} {
			for _, tok := range []string{gtok, e.admin} {
				e.do(call.method, call.path, tok, call.body).problem(t, http.StatusConflict, "conflict")
			}
		}
		if got := e.get(g.ID); got.Status != StatusActive || len(got.AllowedScopes) != 3 {
			t.Fatalf("the last holder changed: %+v", got)
		}
		// With a second holder, either may go — but not both, even when asked at once. Each
		// suspension waits inside its transaction (a lifecycle hook) for the other to get
		// there too, for at most 300 ms: without the lock-out lock both would count the
		// other as still active and both would commit.
		g2, _ := e.member(o1, guardian...)
		arrived := make(chan struct{}, 2)
		e.lc.OnStatusChange(func(ctx context.Context, _ bun.Tx, ev LifecycleEvent) error {
			if ev.AgentID != g.ID && ev.AgentID != g2.ID {
				return nil
			}
			arrived <- struct{}{}
			deadline := time.After(300 * time.Millisecond)
			for {
				select {
				case <-deadline:
					return nil
				default:
				}
				if len(arrived) == 2 {
					return nil
				}
				time.Sleep(5 * time.Millisecond)
			}
		})
		var ok, conflicts atomic.Int32
		parallel(2, func(i int) {
			id := []string{g.ID, g2.ID}[i]
			switch r := e.do(http.MethodPost, "/api/v1/agents/"+id+"/suspend", e.admin, nil); r.Status {
			case http.StatusOK:
				ok.Add(1)
			case http.StatusConflict:
				conflicts.Add(1)
			default:
				t.Errorf("suspend: %d %s", r.Status, r.Body)
			}
		})
		if ok.Load() != 1 || conflicts.Load() != 1 {
			t.Fatalf("two holders suspended at once: %d suspended, %d refused; want 1 and 1", ok.Load(), conflicts.Load())
		}
		// The last root agent holding orgs:admin is protected the same way; the test's root
		// operator is a bearer of no stored agent, so the admin below is root's only one.
		root := e.create(map[string]any{"name": "root admin", "allowed_scopes": []string{"orgs:admin", "agents:write"}})
		e.do(http.MethodPost, "/api/v1/agents/"+root.ID+"/suspend", e.admin, nil).problem(t, http.StatusConflict, "conflict")
		e.create(map[string]any{"name": "second root admin", "allowed_scopes": []string{"orgs:admin"}})
		e.do(http.MethodPost, "/api/v1/agents/"+root.ID+"/suspend", e.admin, nil).agent(t, http.StatusOK)
	})
}

func TestIntegrationUpdateRecordsBeforeAndAfter(t *testing.T) {
	testenv.ForEachBackend(t, func(t *testing.T, b testenv.Backend) {
		e := newEnv(t, b, nil)
		a := e.create(map[string]any{"name": "x", "allowed_scopes": []string{"agents:read"}})
		e.do(http.MethodPatch, "/api/v1/agents/"+a.ID, e.admin, map[string]any{"allowed_scopes": []string{"audit:read"},
			"plan": "unlimited", "allowed_audiences": []string{"https://api.example.com"}, "description": "d"}).agent(t, http.StatusOK)
		evs := e.events(a.ID)
		last := evs[len(evs)-1]
		if last.Action != ActionUpdated {
			t.Fatalf("last event %s", last.Action)
		}
		var d map[string]any
		if err := json.Unmarshal([]byte(last.Details), &d); err != nil {
			t.Fatal(err)
		}
		want := map[string]any{
			"allowed_scopes":    map[string]any{"before": []any{"agents:read"}, "after": []any{"audit:read"}},
			"plan":              map[string]any{"before": "free", "after": "unlimited"},
			"allowed_audiences": map[string]any{"before": []any{}, "after": []any{"https://api.example.com"}},
		}
		for k, v := range want {
			got, _ := json.Marshal(d[k])
			exp, _ := json.Marshal(v)
			if string(got) != string(exp) {
				t.Errorf("%s: %s, want %s", k, got, exp)
			}
		}
		if _, ok := d["description"]; ok {
			t.Errorf("description's value recorded: %v", d)
		}
	})
}
