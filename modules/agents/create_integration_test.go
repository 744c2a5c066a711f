package agents

import (
	"encoding/json"
	"net/http"
	"strings"
	"testing"

	"github.com/agentidp/agentidp/platform/ident"
	"github.com/agentidp/agentidp/platform/testenv"
)

func TestIntegrationCreate(t *testing.T) {
	testenv.ForEachBackend(t, func(t *testing.T, b testenv.Backend) {
		e := newEnv(t, b, nil)

		// Only the name: every other field takes its default (docs/api.md, Agents).
		r := e.do(http.MethodPost, "/api/v1/agents", e.admin, map[string]any{"name": "  reporter  "})
		a := r.agent(t, http.StatusCreated)
		if got, want := r.Header.Get("Location"), "/api/v1/agents/"+a.ID; got != want {
			t.Errorf("Location %q, want %q", got, want)
		}
		if _, ok := ident.Canonical(a.ID); !ok {
			t.Errorf("agent_id %q is not a UUID", a.ID)
		}
		if a.Name != "reporter" || a.Status != StatusActive || a.Plan != PlanFree || a.Owner != "" || a.Description != "" {
			t.Errorf("defaults: %+v", a)
		}
		for _, field := range []string{`"allowed_scopes":[]`, `"allowed_audiences":[]`, `"metadata":{}`} {
			if !strings.Contains(string(r.Body), field) {
				t.Errorf("body lacks %s: %s", field, r.Body)
			}
		}
		if a.CreatedAt.IsZero() || !a.UpdatedAt.Equal(a.CreatedAt) {
			t.Errorf("created_at %v updated_at %v", a.CreatedAt, a.UpdatedAt)
		}
		if strings.Contains(string(r.Body), "tokens_not_before") {
			t.Errorf("tokens_not_before is internal: %s", r.Body)
		}
		got := e.do(http.MethodGet, r.Header.Get("Location"), e.admin, nil).agent(t, http.StatusOK)
		if !got.CreatedAt.Equal(a.CreatedAt) || got.Name != a.Name {
			t.Errorf("GET after create: %+v, want %+v", got, a)
		}

		// Every field; the issuer is accepted as an audience but not stored.
		full := e.create(map[string]any{
			"name":              "billing bot",
			"description":       "reads invoices\nand more",
			"owner":             "team-billing@example.com",
			"allowed_scopes":    []string{"agents:read", "usage:read"},
			"allowed_audiences": []string{"https://api.example.com/v1", e.cfg.Issuer, "http://localhost:9000"},
			"plan":              "unlimited",
			"metadata":          map[string]any{"cost_center": 42, "big": json.Number("12345678901234567890"), "tags": []any{"a"}},
		})
		if full.Plan != PlanUnlimited || full.Owner != "team-billing@example.com" || full.Description != "reads invoices\nand more" {
			t.Errorf("full create: %+v", full)
		}
		if strings.Join(full.AllowedScopes, " ") != "agents:read usage:read" {
			t.Errorf("scopes %v", full.AllowedScopes)
		}
		if strings.Join(full.AllowedAudiences, " ") != "https://api.example.com/v1 http://localhost:9000" {
			t.Errorf("audiences %v (the issuer must not be stored)", full.AllowedAudiences)
		}
		raw := e.do(http.MethodGet, "/api/v1/agents/"+full.ID, e.admin, nil)
		if !strings.Contains(string(raw.Body), `"big":12345678901234567890`) {
			t.Errorf("a large integer in metadata lost precision: %s", raw.Body)
		}

		// Audited in the change's transaction, with the caller as actor.
		evs := e.events(a.ID)
		if len(evs) != 1 || evs[0].Action != ActionCreated || evs[0].TargetType != "agent" ||
			evs[0].TargetID != a.ID || evs[0].ActorID != e.adminID {
			t.Fatalf("audit events %+v", evs)
		}
		if evs := e.events(full.ID); len(evs) != 1 || strings.Contains(evs[0].Details, "cost_center") {
			t.Errorf("agent.created details must not carry metadata: %+v", evs)
		}
		e.verifyChain()
	})
}

func TestIntegrationCreateValidation(t *testing.T) {
	testenv.ForEachBackend(t, func(t *testing.T, b testenv.Backend) {
		e := newEnv(t, b, nil)
		post := func(body any) response { return e.do(http.MethodPost, "/api/v1/agents", e.admin, body) }

		// One problem listing every bad field.
		p := post(map[string]any{
			"name":              strings.Repeat("n", 129),
			"description":       strings.Repeat("d", 1025),
			"owner":             strings.Repeat("o", 257),
			"allowed_scopes":    []string{"agents:read", "root", "agents:read"},
			"allowed_audiences": []string{"ftp://x.example", "/relative", "https://x.example/#frag", "https://u:p@x.example", "https://ok.example", "https://ok.example"},
			"plan":              "gold",
			"metadata":          map[string]any{"blob": strings.Repeat("x", 8200)},
		}).problem(t, http.StatusBadRequest, "validation_failed")
		want := []string{"name", "description", "owner", "allowed_scopes[1]", "allowed_scopes[2]",
			"allowed_audiences[0]", "allowed_audiences[1]", "allowed_audiences[2]", "allowed_audiences[3]",
			"allowed_audiences[5]", "plan", "metadata"}
		got := p.fieldsOf()
		for _, f := range want {
			if got[f] == "" {
				t.Errorf("field %s not named; problem: %+v", f, p.Errors)
			}
		}
		if len(got) != len(want) {
			t.Errorf("named %d fields, want %d: %+v", len(got), len(want), p.Errors)
		}

		cases := []struct {
			name   string
			body   any
			status int
			code   string
			field  string
		}{
			{"name missing", map[string]any{"owner": "x"}, 400, "validation_failed", "name"},
			{"name blank", map[string]any{"name": "   "}, 400, "validation_failed", "name"},
			{"name null", `{"name": null}`, 400, "validation_failed", "name"},
			{"name control", map[string]any{"name": "a\x00b"}, 400, "validation_failed", "name"},
			{"name wrong type", `{"name": 7}`, 400, "validation_failed", "name"},
			{"scopes wrong type", `{"name": "a", "allowed_scopes": "agents:read"}`, 400, "validation_failed", "allowed_scopes"},
			{"metadata array", `{"name": "a", "metadata": [1, 2]}`, 400, "validation_failed", "metadata"},
			{"metadata string", `{"name": "a", "metadata": "x"}`, 400, "validation_failed", "metadata"},
			{"metadata null", `{"name": "a", "metadata": null}`, 400, "validation_failed", "metadata"},
			{"metadata NUL", `{"name": "a", "metadata": {"k": "a\u0000b"}}`, 400, "validation_failed", "metadata"},
			{"too many audiences", map[string]any{"name": "a", "allowed_audiences": manyAudiences(21)}, 400, "validation_failed", "allowed_audiences"},
			{"unknown field", `{"name": "a", "colour": "red"}`, 400, "validation_failed", "colour"},
			{"malformed", `{"name": "a"`, 400, "malformed_body", ""},
			{"not an object", `["a"]`, 400, "malformed_body", ""},
			{"two values", `{"name": "a"} {}`, 400, "malformed_body", ""},
			{"empty body", ``, 400, "malformed_body", ""},
			{"deeply nested", `{"name": "a", "metadata": ` + strings.Repeat(`{"a":`, 40) + `1` + strings.Repeat(`}`, 40) + `}`, 400, "malformed_body", ""},
			{"over 1 MiB", `{"name": "a", "description": "` + strings.Repeat("x", 1<<20) + `"}`, 413, "payload_too_large", ""},
		}
		for _, c := range cases {
			t.Run(c.name, func(t *testing.T) {
				p := post(c.body).problem(t, c.status, c.code)
				if c.field != "" && p.fieldsOf()[c.field] == "" {
					t.Errorf("field %s not named: %+v", c.field, p.Errors)
				}
			})
		}

		// Exactly 20 audiences besides the issuer are fine.
		ok := e.create(map[string]any{"name": "many", "allowed_audiences": append(manyAudiences(20), e.cfg.Issuer)})
		if len(ok.AllowedAudiences) != 20 {
			t.Errorf("audiences %d", len(ok.AllowedAudiences))
		}
		// Nothing else was created, nothing else audited.
		if all := e.listAll("", 200); len(all) != 1 {
			t.Errorf("bad requests created agents: %v", names(all))
		}
		if evs := e.events(""); len(evs) != 1 || evs[0].AgentID != ok.ID {
			t.Errorf("audit events %+v, want the one agent.created", evs)
		}
	})
}

func manyAudiences(n int) []string {
	out := make([]string, n)
	for i := range out {
		out[i] = "https://rs" + itoa(i) + ".example.com"
	}
	return out
}

func TestIntegrationGet(t *testing.T) {
	testenv.ForEachBackend(t, func(t *testing.T, b testenv.Backend) {
		e := newEnv(t, b, nil)
		a := e.create(map[string]any{"name": "getter"})

		got := e.do(http.MethodGet, "/api/v1/agents/"+strings.ToUpper(a.ID), e.reader, nil).agent(t, http.StatusOK)
		if got.ID != a.ID {
			t.Errorf("upper-case id: got %s", got.ID)
		}
		e.do(http.MethodGet, "/api/v1/agents/0b1c2d3e-4f50-4617-8293-a4b5c6d7e8f9", e.reader, nil).
			problem(t, http.StatusNotFound, "not_found")
		for _, bad := range []string{"not-a-uuid", "%27%20OR%201%3D1%20--", "{" + a.ID + "}", strings.ReplaceAll(a.ID, "-", "")} {
			p := e.do(http.MethodGet, "/api/v1/agents/"+bad, e.reader, nil).problem(t, http.StatusBadRequest, "validation_failed")
			if p.fieldsOf()["agent_id"] == "" {
				t.Errorf("%s: agent_id not named: %+v", bad, p.Errors)
			}
		}
		// The other item routes validate the id the same way.
		e.do(http.MethodPatch, "/api/v1/agents/nope", e.admin, map[string]any{"name": "x"}).problem(t, 400, "validation_failed")
		e.do(http.MethodPost, "/api/v1/agents/nope/suspend", e.admin, nil).problem(t, 400, "validation_failed")
		e.do(http.MethodDelete, "/api/v1/agents/nope", e.admin, nil).problem(t, 400, "validation_failed")
		e.do(http.MethodDelete, "/api/v1/agents/0b1c2d3e-4f50-4617-8293-a4b5c6d7e8f9", e.admin, nil).problem(t, 404, "not_found")
	})
}

func TestIntegrationAuth(t *testing.T) {
	testenv.ForEachBackend(t, func(t *testing.T, b testenv.Backend) {
		e := newEnv(t, b, nil)
		a := e.create(map[string]any{"name": "guarded"})

		r := e.do(http.MethodGet, "/api/v1/agents", "", nil)
		r.problem(t, http.StatusUnauthorized, "unauthorized")
		if !strings.HasPrefix(r.Header.Get("WWW-Authenticate"), "Bearer") {
			t.Errorf("WWW-Authenticate %q", r.Header.Get("WWW-Authenticate"))
		}
		e.do(http.MethodGet, "/api/v1/agents/"+a.ID, "forged", nil).problem(t, http.StatusUnauthorized, "invalid_token")

		// agents:read may read, not write.
		e.do(http.MethodGet, "/api/v1/agents/"+a.ID, e.reader, nil).agent(t, http.StatusOK)
		for _, req := range []struct{ method, path string }{
			{http.MethodPost, "/api/v1/agents"},
			{http.MethodPatch, "/api/v1/agents/" + a.ID},
			{http.MethodPost, "/api/v1/agents/" + a.ID + "/suspend"},
			{http.MethodPost, "/api/v1/agents/" + a.ID + "/reactivate"},
			{http.MethodDelete, "/api/v1/agents/" + a.ID},
		} {
			e.do(req.method, req.path, e.reader, map[string]any{"name": "x"}).problem(t, http.StatusForbidden, "insufficient_scope")
		}
		// A token without agents:read may not list.
		other := e.bearers.Issue(a.ID, "usage:read")
		e.do(http.MethodGet, "/api/v1/agents", other, nil).problem(t, http.StatusForbidden, "insufficient_scope")

		if got := e.do(http.MethodGet, "/api/v1/agents/"+a.ID, e.reader, nil).agent(t, 200); got.Status != StatusActive || got.Name != "guarded" {
			t.Errorf("a refused call changed the agent: %+v", got)
		}
	})
}
