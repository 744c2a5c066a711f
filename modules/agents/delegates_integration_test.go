package agents

import (
	"net/http"
	"slices"
	"strings"
	"testing"

	"github.com/google/uuid"

	"github.com/agentidp/agentidp/modules/orgs"
	"github.com/agentidp/agentidp/platform/testenv"
)

// delegates (SPEC §13) on create and PATCH: agent ids of the same organization, shown in
// every answer, audited before and after; the agent itself, an unknown id, another
// organization's agent, a malformed id, a duplicate or null are 400 validation_failed
// naming the field, and change nothing; a caller needs the agent's whole authority, which
// grows by the authority of every agent that lists it (transitively), and a delegated
// token cannot set them.
func TestIntegrationAgentDelegates(t *testing.T) {
	testenv.ForEachBackend(t, func(t *testing.T, b testenv.Backend) {
		e := newEnv(t, b, nil)
		other := e.newOrg("delegates-other")
		theirs := e.create(map[string]any{"name": "theirs", "org_id": other})
		helper := e.create(map[string]any{"name": "helper"})
		second := e.create(map[string]any{"name": "second"})

		a := e.create(map[string]any{"name": "principal", "allowed_scopes": []string{"keys:admin"}, "delegates": []string{strings.ToUpper(helper.ID)}})
		if !slices.Equal(a.Delegates, []string{helper.ID}) {
			t.Fatalf("created with %v", a.Delegates)
		}
		if got := e.get(a.ID); !slices.Equal(got.Delegates, []string{helper.ID}) {
			t.Fatalf("GET %v", got.Delegates)
		}
		if plain := e.get(second.ID); plain.Delegates == nil || len(plain.Delegates) != 0 {
			t.Fatalf("an agent without delegates: %#v", plain.Delegates)
		}

		for body, field := range map[string]string{
			`{"delegates":["` + a.ID + `"]}`:                                 "delegates[0]",
			`{"delegates":["` + second.ID + `","` + uuid.NewString() + `"]}`: "delegates[1]",
			`{"delegates":["` + theirs.ID + `"]}`:                            "delegates[0]",
			`{"delegates":["nope"]}`:                                         "delegates[0]",
			`{"delegates":["` + second.ID + `","` + second.ID + `"]}`:        "delegates[1]",
			`{"delegates":null}`:                                             "delegates",
		} {
			p := e.do(http.MethodPatch, "/api/v1/agents/"+a.ID, e.admin, body).problem(t, http.StatusBadRequest, "validation_failed")
			if _, ok := p.fieldsOf()[field]; !ok {
				t.Fatalf("%s: fields %v, want %s", body, p.fieldsOf(), field)
			}
		}
		if got := e.get(a.ID); !slices.Equal(got.Delegates, []string{helper.ID}) {
			t.Fatalf("a refused PATCH changed the delegates: %v", got.Delegates)
		}

		got := e.do(http.MethodPatch, "/api/v1/agents/"+a.ID, e.admin, map[string]any{"delegates": []string{second.ID, helper.ID}}).agent(t, http.StatusOK)
		if !slices.Equal(got.Delegates, []string{second.ID, helper.ID}) {
			t.Fatalf("patched %v", got.Delegates)
		}
		var updated *auditRow
		for _, ev := range e.events(a.ID) {
			if ev.Action == ActionUpdated {
				updated = &ev
			}
		}
		if updated == nil || !strings.Contains(updated.Details, `"delegates":{"after":["`+second.ID+`","`+helper.ID+`"],"before":["`+helper.ID+`"]}`) {
			t.Fatalf("agent.updated: %+v", updated)
		}

		// No managing up: helper now carries a's keys:admin; a manager without it cannot
		// touch helper (nor set a's delegates), one with it can.
		_, writer := e.member(orgs.RootID, "agents:read", "agents:write")
		e.do(http.MethodPatch, "/api/v1/agents/"+helper.ID, writer, map[string]any{"description": "x"}).
			problem(t, http.StatusForbidden, "insufficient_scope")
		e.do(http.MethodPatch, "/api/v1/agents/"+a.ID, writer, map[string]any{"delegates": []string{}}).
			problem(t, http.StatusForbidden, "insufficient_scope")
		_, keyed := e.member(orgs.RootID, "agents:read", "agents:write", "keys:admin")
		e.do(http.MethodPatch, "/api/v1/agents/"+helper.ID, keyed, map[string]any{"description": "x"}).agent(t, http.StatusOK)
		e.do(http.MethodPatch, "/api/v1/agents/"+a.ID, keyed, map[string]any{"delegates": []string{}}).agent(t, http.StatusOK)
		// Released: helper's authority is its own again.
		e.do(http.MethodPatch, "/api/v1/agents/"+helper.ID, writer, map[string]any{"description": "y"}).agent(t, http.StatusOK)
	})
}
