package orgs_test

import (
	"net/http"
	"testing"

	"github.com/google/uuid"

	"github.com/agentidp/agentidp/modules/orgs"
	"github.com/agentidp/agentidp/platform/testenv"
)

// Suspending an organization stops every token of its agents at once (the API answers
// 401, introspection active:false) and refuses them new ones; other orgs are untouched.
// Reactivating it lets its agents get new tokens, but the old ones stay dead. Repeating
// either changes nothing; root cannot be suspended (409).
func TestIntegrationSuspendOrg(t *testing.T) {
	testenv.ForEachBackend(t, func(t *testing.T, b testenv.Backend) {
		e := newEnv(t, b, nil)
		id, admin := e.newOrg("to-suspend")
		otherID, otherAdmin := e.newOrg("bystander")
		adminTok := e.token(admin, "")
		worker := e.newAgent(adminTok, "worker", []string{"agents:read"})
		workerTok := e.token(worker, "")
		otherTok := e.token(otherAdmin, "")
		path := "/api/v1/orgs/" + id
		for _, tok := range []string{adminTok, workerTok} {
			e.must(http.StatusOK, http.MethodGet, path, tok, nil)
		}

		o := e.must(http.StatusOK, http.MethodPost, path+"/suspend", e.rootTok, nil)
		if o["status"] != "suspended" || o["org_id"] != id {
			t.Fatalf("suspend: %v", o)
		}
		// At once, on this replica: no waiting.
		for _, tok := range []string{adminTok, workerTok} {
			if r := e.api(http.MethodGet, path, tok, nil); r.Status != http.StatusUnauthorized {
				t.Fatalf("a suspended org's token: %d %s", r.Status, r.Body)
			}
			if e.active(tok) {
				t.Fatal("introspection: a suspended org's token is active")
			}
		}
		for _, c := range []client{admin, worker} {
			if r := e.tokenResponse(c, ""); r.Status != http.StatusUnauthorized || r.json(t)["error"] != "invalid_client" {
				t.Fatalf("token endpoint for a suspended org's agent: %d %s", r.Status, r.Body)
			}
		}
		// The other org is untouched.
		e.must(http.StatusOK, http.MethodGet, "/api/v1/orgs/"+otherID, otherTok, nil)
		if !e.active(otherTok) {
			t.Fatal("another org's token stopped")
		}
		// Idempotent: no second event.
		n := len(e.events(id))
		if again := e.must(http.StatusOK, http.MethodPost, path+"/suspend", e.rootTok, nil); again["updated_at"] != o["updated_at"] {
			t.Fatalf("a repeated suspension changed the org: %v", again)
		}
		if got := len(e.events(id)); got != n {
			t.Fatalf("a repeated suspension wrote %d events", got-n)
		}

		r := e.must(http.StatusOK, http.MethodPost, path+"/reactivate", e.rootTok, nil)
		if r["status"] != "active" {
			t.Fatalf("reactivate: %v", r)
		}
		fresh := e.token(worker, "")
		e.must(http.StatusOK, http.MethodGet, path, fresh, nil)
		if !e.active(fresh) {
			t.Fatal("a token issued after the reactivation is inactive")
		}
		for _, tok := range []string{adminTok, workerTok} {
			if r := e.api(http.MethodGet, path, tok, nil); r.Status != http.StatusUnauthorized || e.active(tok) {
				t.Fatalf("a token from before the suspension came back: %d", r.Status)
			}
		}
		e.must(http.StatusOK, http.MethodPost, path+"/reactivate", e.rootTok, nil)

		// The events: suspended and reactivated, each once, with from/to.
		var actions []string
		for _, ev := range e.events(id) {
			switch ev.Action {
			case orgs.ActionSuspended, orgs.ActionReactivated:
				actions = append(actions, ev.Action+" "+string(ev.Details))
				if ev.TargetType != "org" || ev.TargetID != id || ev.OrgID == nil || *ev.OrgID != id {
					t.Errorf("%s: %+v", ev.Action, ev)
				}
			}
		}
		want := []string{`org.suspended {"from":"active","to":"suspended"}`, `org.reactivated {"from":"suspended","to":"active"}`}
		if len(actions) != 2 || actions[0] != want[0] || actions[1] != want[1] {
			t.Fatalf("lifecycle events: %v", actions)
		}

		// Root cannot be suspended; reactivating it changes nothing; an unknown org is 404.
		m := e.problem(http.StatusConflict, "conflict", http.MethodPost, "/api/v1/orgs/"+orgs.RootID+"/suspend", e.rootTok, nil)
		if m["detail"] != "the root organization cannot be suspended" {
			t.Fatalf("root suspension: %v", m)
		}
		if root := e.must(http.StatusOK, http.MethodPost, "/api/v1/orgs/"+orgs.RootID+"/reactivate", e.rootTok, nil); root["status"] != "active" {
			t.Fatalf("root: %v", root)
		}
		e.must(http.StatusOK, http.MethodGet, "/api/v1/agents", e.rootTok, nil) // root still works
		e.problem(http.StatusNotFound, "not_found", http.MethodPost, "/api/v1/orgs/"+uuid.NewString()+"/suspend", e.rootTok, nil)
		e.problem(http.StatusNotFound, "not_found", http.MethodPost, "/api/v1/orgs/"+uuid.NewString()+"/reactivate", e.rootTok, nil)
		e.problem(http.StatusBadRequest, "validation_failed", http.MethodPost, "/api/v1/orgs/x/suspend", e.rootTok, nil)
		e.must(http.StatusOK, http.MethodGet, "/api/v1/audit/verify", e.rootTok, nil)
		e.noLeaks()
	})
}
