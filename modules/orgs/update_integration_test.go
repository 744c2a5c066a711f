package orgs_test

import (
	"encoding/json"
	"net/http"
	"strings"
	"testing"

	"github.com/google/uuid"

	"github.com/agentidp/agentidp/modules/orgs"
	"github.com/agentidp/agentidp/platform/testenv"
)

// PATCH /api/v1/orgs/{org_id} changes name, max_agents and metadata; org.updated records
// each changed value before and after. A request that changes nothing is 200 without an
// event. A taken name is 409; unknown fields, null and bad values are 400, and change
// nothing.
func TestIntegrationUpdateOrg(t *testing.T) {
	testenv.ForEachBackend(t, func(t *testing.T, b testenv.Backend) {
		e := newEnv(t, b, nil)
		id, admin := e.newOrg("before")
		e.newOrg("other")
		path := "/api/v1/orgs/" + id
		first := e.must(http.StatusOK, http.MethodGet, path, e.rootTok, nil)

		o := e.must(http.StatusOK, http.MethodPatch, path, e.rootTok,
			`{"name": " after ", "max_agents": 1, "metadata": {"tier": "gold", "n": 12345678901234567890}}`)
		if o["name"] != "after" || o["max_agents"] != float64(1) || o["metadata"].(map[string]any)["tier"] != "gold" ||
			o["updated_at"] == first["updated_at"] || o["created_at"] != first["created_at"] {
			t.Fatalf("patched: %v", o)
		}
		if g := e.api(http.MethodGet, path, e.rootTok, nil); !strings.Contains(string(g.Body), `"n":12345678901234567890`) || !strings.Contains(string(g.Body), `"name":"after"`) {
			t.Fatalf("read back: %s", g.Body)
		}
		evs := e.events(id)
		last := evs[len(evs)-1]
		var d struct {
			Fields []string                   `json:"fields"`
			Before map[string]json.RawMessage `json:"before"`
			After  map[string]json.RawMessage `json:"after"`
		}
		if err := json.Unmarshal(last.Details, &d); err != nil {
			t.Fatal(err)
		}
		if last.Action != orgs.ActionUpdated || last.TargetID != id || *last.OrgID != id ||
			strings.Join(d.Fields, ",") != "name,max_agents,metadata" ||
			string(d.Before["name"]) != `"before"` || string(d.After["name"]) != `"after"` ||
			string(d.Before["max_agents"]) != "100" || string(d.After["max_agents"]) != "1" ||
			string(d.Before["metadata"]) != `{}` || string(d.After["metadata"]) != `{"n":12345678901234567890,"tier":"gold"}` {
			t.Fatalf("org.updated: %s", last.Details)
		}

		// Nothing changes: no event, updated_at kept; a same-name PATCH differing in case only
		// is a change.
		n := len(e.events(id))
		for _, body := range []string{`{}`, `{"name": "after", "max_agents": 1}`, `{"metadata": {"tier": "gold", "n": 12345678901234567890}}`} {
			if same := e.must(http.StatusOK, http.MethodPatch, path, e.rootTok, body); same["updated_at"] != o["updated_at"] {
				t.Fatalf("%s moved updated_at", body)
			}
		}
		if got := len(e.events(id)); got != n {
			t.Fatalf("no-op PATCHes wrote %d events", got-n)
		}
		if r := e.must(http.StatusOK, http.MethodPatch, path, e.rootTok, `{"name": "AFTER"}`); r["name"] != "AFTER" {
			t.Fatalf("case change: %v", r)
		}

		// Refusals.
		e.problem(http.StatusConflict, "conflict", http.MethodPatch, path, e.rootTok, `{"name": "OTHER"}`)
		e.problem(http.StatusConflict, "conflict", http.MethodPatch, path, e.rootTok, `{"name": "root"}`)
		for body, field := range map[string]string{
			`{"name": ""}`:                           "name",
			`{"name": null}`:                         "name",
			`{"max_agents": -1}`:                     "max_agents",
			`{"max_agents": null}`:                   "max_agents",
			`{"metadata": "x"}`:                      "metadata",
			`{"metadata": null}`:                     "metadata",
			`{"metadata": {"a": "\u0000"}}`:          "metadata",
			`{"status": "suspended"}`:                "status",
			`{"org_id": "` + uuid.NewString() + `"}`: "org_id",
			`{"name": "x", "nmae": "y"}`:             "nmae",
		} {
			m := e.problem(http.StatusBadRequest, "validation_failed", http.MethodPatch, path, e.rootTok, body)
			if !strings.Contains(toJSON(t, m["errors"]), `"field":"`+field+`"`) {
				t.Errorf("%s: errors %v, want field %s", body, m["errors"], field)
			}
		}
		e.problem(http.StatusBadRequest, "malformed_body", http.MethodPatch, path, e.rootTok, `[`)
		e.problem(http.StatusNotFound, "not_found", http.MethodPatch, "/api/v1/orgs/"+uuid.NewString(), e.rootTok, `{"name": "x"}`)
		if after := e.must(http.StatusOK, http.MethodGet, path, e.rootTok, nil); after["name"] != "AFTER" || after["max_agents"] != float64(1) {
			t.Fatalf("refused PATCHes changed the org: %v", after)
		}

		// max_agents is the org's free-plan limit: its admin (plan unlimited, not counted)
		// creates one free agent, not two.
		tok := e.token(admin, "")
		e.must(http.StatusCreated, http.MethodPost, "/api/v1/agents", tok, map[string]any{"name": "one"})
		e.problem(http.StatusConflict, "conflict", http.MethodPost, "/api/v1/agents", tok, map[string]any{"name": "two"})
		e.must(http.StatusOK, http.MethodPatch, path, e.rootTok, `{"max_agents": 2}`)
		e.must(http.StatusCreated, http.MethodPost, "/api/v1/agents", tok, map[string]any{"name": "two"})

		// Root's metadata and limit can change too.
		e.must(http.StatusOK, http.MethodPatch, "/api/v1/orgs/"+orgs.RootID, e.rootTok, `{"metadata": {"owner": "ops"}}`)
		e.must(http.StatusOK, http.MethodGet, "/api/v1/audit/verify", e.rootTok, nil)
	})
}
