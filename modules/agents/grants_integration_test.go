package agents

import (
	"encoding/json"
	"net/http"
	"reflect"
	"strings"
	"testing"

	"github.com/agentidp/agentidp/modules/apis"
	"github.com/agentidp/agentidp/modules/orgs"
	"github.com/agentidp/agentidp/platform/testenv"
)

// withGrants is an agent answer with its grants.
type withGrants struct {
	ID     string       `json:"agent_id"`
	Grants []apis.Grant `json:"grants"`
}

func (r response) grants(t *testing.T, want int) withGrants {
	t.Helper()
	if r.Status != want {
		t.Fatalf("status %d, want %d: %s", r.Status, want, r.Body)
	}
	var a withGrants
	if err := json.Unmarshal(r.Body, &a); err != nil || a.Grants == nil {
		t.Fatalf("decoding grants: %v: %s", err, r.Body)
	}
	return a
}

// registerAPI registers an API in org with token (apis:write) and returns its identifier.
func (e *env) registerAPI(token, org, identifier string, scopes ...string) string {
	e.t.Helper()
	sc := make([]map[string]string, len(scopes))
	for i, s := range scopes {
		sc[i] = map[string]string{"value": s}
	}
	r := e.do(http.MethodPost, apis.PathAPIs, token, map[string]any{"identifier": identifier, "name": "api", "scopes": sc, "org_id": org})
	if r.Status != http.StatusCreated {
		e.t.Fatalf("registering %s: %d %s", identifier, r.Status, r.Body)
	}
	var a struct {
		Identifier string `json:"identifier"`
	}
	_ = json.Unmarshal(r.Body, &a)
	return a.Identifier
}

// Grants on create and PATCH: the API owners' right (agents:write alone is 403, with
// apis:write it works), each audience an API of the agent's own organization (another
// org's is 400), shown in every answer, audited before and after; an agent holding a grant
// has apis:write in its authority, so a manager without it cannot change the agent.
func TestIntegrationAgentGrants(t *testing.T) {
	testenv.ForEachBackend(t, func(t *testing.T, b testenv.Backend) {
		e := newEnv(t, b, nil)
		billing := e.registerAPI(e.admin, orgs.RootID, "https://billing.example", "read", "write")
		other := e.newOrg("grants-other")
		theirs := e.registerAPI(e.admin, other, "https://theirs.example", "read")
		_, writer := e.member(orgs.RootID, "agents:read", "agents:write")
		_, owner := e.member(orgs.RootID, "agents:read", "agents:write", "apis:write")
		grants := []map[string]any{{"audience": "HTTPS://Billing.example:443/", "scopes": []string{"read"}}}

		// agents:write alone: 403 on create and on PATCH, nothing changes.
		p := e.do(http.MethodPost, "/api/v1/agents", writer, map[string]any{"name": "g", "grants": grants}).
			problem(t, http.StatusForbidden, "insufficient_scope")
		if p.Detail == "" || !strings.Contains(p.Detail, "apis:write") {
			t.Fatalf("the refusal does not name apis:write: %q", p.Detail)
		}
		plain := e.do(http.MethodPost, "/api/v1/agents", writer, map[string]any{"name": "plain"}).grants(t, http.StatusCreated)
		if len(plain.Grants) != 0 {
			t.Fatalf("grants of a new agent: %+v", plain.Grants)
		}
		e.do(http.MethodPatch, "/api/v1/agents/"+plain.ID, writer, map[string]any{"grants": grants}).
			problem(t, http.StatusForbidden, "insufficient_scope")
		e.do(http.MethodPatch, "/api/v1/agents/"+plain.ID, writer, map[string]any{"grants": []any{}}).
			problem(t, http.StatusForbidden, "insufficient_scope")

		// agents:write + apis:write: created with grants, normalised, in every answer.
		want := []apis.Grant{{Audience: billing, Scopes: []string{"read"}}}
		made := e.do(http.MethodPost, "/api/v1/agents", owner, map[string]any{"name": "granted", "grants": grants}).grants(t, http.StatusCreated)
		if !reflect.DeepEqual(made.Grants, want) {
			t.Fatalf("created with %+v, want %+v", made.Grants, want)
		}
		if got := e.do(http.MethodGet, "/api/v1/agents/"+made.ID, e.reader, nil).grants(t, http.StatusOK); !reflect.DeepEqual(got.Grants, want) {
			t.Fatalf("GET %+v", got.Grants)
		}
		var page struct {
			Items []withGrants `json:"items"`
		}
		if err := json.Unmarshal(e.do(http.MethodGet, "/api/v1/agents?limit=200", e.reader, nil).Body, &page); err != nil {
			t.Fatal(err)
		}
		for _, it := range page.Items {
			wantHere := []apis.Grant{}
			if it.ID == made.ID {
				wantHere = want
			}
			if !reflect.DeepEqual(it.Grants, wantHere) {
				t.Fatalf("listed %s with %+v, want %+v", it.ID, it.Grants, wantHere)
			}
		}
		patched := e.do(http.MethodPatch, "/api/v1/agents/"+plain.ID, owner,
			map[string]any{"grants": []map[string]any{{"audience": billing, "scopes": []string{"write", "read"}}}}).grants(t, http.StatusOK)
		if len(patched.Grants) != 1 || !reflect.DeepEqual(patched.Grants[0].Scopes, []string{"write", "read"}) {
			t.Fatalf("patched %+v", patched.Grants)
		}

		// A grant on another org's API, an unknown scope, null: 400 naming the field.
		for body, field := range map[string]string{
			`{"grants":[{"audience":"` + theirs + `","scopes":["read"]}]}`:   "grants[0].audience",
			`{"grants":[{"audience":"` + billing + `","scopes":["admin"]}]}`: "grants[0].scopes[0]",
			`{"grants":null}`: "grants",
			`{"grants":[{"audience":"` + billing + `","api_id":"x"}]}`: "api_id",
		} {
			p := e.do(http.MethodPatch, "/api/v1/agents/"+plain.ID, owner, body).problem(t, http.StatusBadRequest, "validation_failed")
			if _, ok := p.fieldsOf()[field]; !ok {
				t.Fatalf("%s: fields %v, want %s", body, p.fieldsOf(), field)
			}
		}
		e.do(http.MethodPost, "/api/v1/agents", owner, map[string]any{"name": "x",
			"grants": []map[string]any{{"audience": theirs, "scopes": []string{"read"}}}}).problem(t, http.StatusBadRequest, "validation_failed")
		if got := e.do(http.MethodGet, "/api/v1/agents/"+plain.ID, e.reader, nil).grants(t, http.StatusOK); len(got.Grants) != 1 || len(got.Grants[0].Scopes) != 2 {
			t.Fatalf("a refused PATCH changed the grants: %+v", got.Grants)
		}

		// agent.updated records the grants before and after.
		var ev *auditRow
		for _, r := range e.events(plain.ID) {
			if r.Action == ActionUpdated {
				ev = &r
			}
		}
		if ev == nil {
			t.Fatal("no agent.updated event")
		}
		var d map[string]any
		if err := json.Unmarshal([]byte(ev.Details), &d); err != nil {
			t.Fatal(err)
		}
		wantDetail := map[string]any{"before": []any{}, "after": []any{map[string]any{"audience": billing, "scopes": []any{"write", "read"}}}}
		if !reflect.DeepEqual(d["grants"], wantDetail) || !reflect.DeepEqual(d["fields"], []any{"grants"}) {
			t.Fatalf("agent.updated details %v", d)
		}
		// Sending the same grants again changes nothing and records nothing.
		n := len(e.events(plain.ID))
		e.do(http.MethodPatch, "/api/v1/agents/"+plain.ID, owner,
			map[string]any{"grants": []map[string]any{{"audience": billing, "scopes": []string{"write", "read"}}}}).grants(t, http.StatusOK)
		if len(e.events(plain.ID)) != n {
			t.Fatal("a PATCH setting the same grants was audited")
		}

		// No managing up: the granted agent's authority holds apis:write.
		e.do(http.MethodPost, "/api/v1/agents/"+made.ID+"/suspend", writer, nil).problem(t, http.StatusForbidden, "insufficient_scope")
		e.do(http.MethodPatch, "/api/v1/agents/"+made.ID, writer, map[string]any{"description": "x"}).problem(t, http.StatusForbidden, "insufficient_scope")
		e.do(http.MethodPatch, "/api/v1/agents/"+made.ID, owner, map[string]any{"description": "x"}).grants(t, http.StatusOK)
		// Once its grants are gone, agents:write is enough again.
		e.do(http.MethodPatch, "/api/v1/agents/"+made.ID, owner, map[string]any{"grants": []any{}}).grants(t, http.StatusOK)
		e.do(http.MethodPost, "/api/v1/agents/"+made.ID+"/suspend", writer, nil).grants(t, http.StatusOK)

		// Deleting the API takes its grants away: the agent's answer shows it.
		var a struct {
			ID string `json:"api_id"`
		}
		list := e.do(http.MethodGet, apis.PathAPIs, e.admin, nil)
		var apisPage struct {
			Items []struct {
				ID         string `json:"api_id"`
				Identifier string `json:"identifier"`
			} `json:"items"`
		}
		_ = json.Unmarshal(list.Body, &apisPage)
		for _, it := range apisPage.Items {
			if it.Identifier == billing {
				a.ID = it.ID
			}
		}
		if r := e.do(http.MethodDelete, apis.PathAPIs+"/"+a.ID, e.admin, nil); r.Status != http.StatusNoContent {
			t.Fatalf("deleting the API: %d %s", r.Status, r.Body)
		}
		if got := e.do(http.MethodGet, "/api/v1/agents/"+plain.ID, e.reader, nil).grants(t, http.StatusOK); len(got.Grants) != 0 {
			t.Fatalf("grants on a deleted API: %+v", got.Grants)
		}
	})
}
