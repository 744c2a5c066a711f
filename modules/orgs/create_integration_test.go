package orgs_test

import (
	"net/http"
	"slices"
	"strings"
	"testing"

	"github.com/agentidp/agentidp/modules/orgs"
	"github.com/agentidp/agentidp/platform/testenv"
)

// POST /api/v1/orgs makes the organization and its first admin (every scope but the
// root-only ones, one credential) in one transaction with their audit events, all of the
// new org. The secret is in the answer only. The admin gets tokens of its org's issuer and
// manages its org.
func TestIntegrationCreateOrg(t *testing.T) {
	testenv.ForEachBackend(t, func(t *testing.T, b testenv.Backend) {
		e := newEnv(t, b, nil)
		r := e.api(http.MethodPost, "/api/v1/orgs", e.rootTok, `{"name": "  Team A  ", "metadata": {"cost_center": 12345678901234567890}}`)
		if r.Status != http.StatusCreated {
			t.Fatalf("create: %d %s", r.Status, r.Body)
		}
		m := r.json(t)
		org := m["org"].(map[string]any)
		adm := m["admin"].(map[string]any)
		id := org["org_id"].(string)
		if r.Header.Get("Location") != "/api/v1/orgs/"+id || r.Header.Get("Cache-Control") != "no-store" || r.Header.Get("Pragma") != "no-cache" {
			t.Fatalf("headers: %v", r.Header)
		}
		if org["name"] != "Team A" || org["status"] != "active" || org["max_agents"] != float64(e.cfg.FreeTierMaxAgents) ||
			!strings.Contains(string(r.Body), `"cost_center":12345678901234567890`) || org["created_at"] == nil || org["updated_at"] == nil {
			t.Fatalf("org: %s", r.Body)
		}
		admin := client{ID: adm["agent_id"].(string), Secret: adm["client_secret"].(string), CredentialID: adm["credential_id"].(string)}
		e.remember(admin.Secret)
		if adm["client_id"] != admin.ID || !strings.HasPrefix(admin.Secret, "sk_live_") || len(admin.Secret) != 51 || admin.CredentialID == "" {
			t.Fatalf("admin: %v", adm)
		}

		// The admin agent, as the root admin sees it.
		a := e.must(http.StatusOK, http.MethodGet, "/api/v1/agents/"+admin.ID, e.rootTok, nil)
		if a["org_id"] != id || a["plan"] != "unlimited" || a["status"] != "active" || !sameScopes(a["allowed_scopes"], orgAdminScopes) {
			t.Fatalf("admin agent: %v", a)
		}

		// Its tokens: its org's issuer and org_id, every scope it is allowed.
		tok := e.token(admin, "")
		c := claims(t, tok)
		if c["iss"] != e.cfg.Issuer+"/orgs/"+id || c["org_id"] != id || c["sub"] != admin.ID ||
			!sameScopes(strings.Fields(c["scope"].(string)), orgAdminScopes) {
			t.Fatalf("admin token claims: %v", c)
		}
		// It manages its own org: reads it, creates an agent (in its org) and a credential.
		if got := e.must(http.StatusOK, http.MethodGet, "/api/v1/orgs/"+id, tok, nil); got["name"] != "Team A" || got["client_secret"] != nil {
			t.Fatalf("own org: %v", got)
		}
		worker := e.newAgent(tok, "worker", []string{"agents:read"})
		if w := e.must(http.StatusOK, http.MethodGet, "/api/v1/agents/"+worker.ID, e.rootTok, nil); w["org_id"] != id {
			t.Fatalf("the org admin's agent: %v", w)
		}
		if wc := claims(t, e.token(worker, "")); wc["iss"] != e.cfg.Issuer+"/orgs/"+id {
			t.Fatalf("worker token: %v", wc)
		}
		// It holds no root-only scope: organizations are not its to list or create.
		e.problem(http.StatusForbidden, "insufficient_scope", http.MethodGet, "/api/v1/orgs", tok, nil)
		e.problem(http.StatusForbidden, "insufficient_scope", http.MethodPost, "/api/v1/orgs", tok, map[string]any{"name": "x"})

		// The audit events of the creation: all of the new org, in one transaction's order.
		evs := e.events(id)
		var actions []string
		for _, ev := range evs {
			actions = append(actions, ev.Action)
			if ev.OrgID == nil || *ev.OrgID != id {
				t.Errorf("%s: org %v, want %s", ev.Action, ev.OrgID, id)
			}
		}
		if len(actions) < 3 || !slices.Equal(actions[:3], []string{"agent.created", "credential.created", orgs.ActionCreated}) {
			t.Fatalf("events of the new org: %v", actions)
		}
		created := evs[2]
		if created.TargetType != "org" || created.TargetID != id || created.ActorID == nil || *created.ActorID != e.admin.ID ||
			!strings.Contains(string(created.Details), `"name":"Team A"`) ||
			!strings.Contains(string(created.Details), `"admin_agent_id":"`+admin.ID+`"`) {
			t.Fatalf("org.created: %+v %s", created, created.Details)
		}
		if evs[0].AgentID == nil || *evs[0].AgentID != admin.ID || strings.Contains(string(evs[0].Details), "bootstrap") ||
			evs[1].TargetID != admin.CredentialID || evs[0].Seq+1 != evs[1].Seq || evs[1].Seq+1 != evs[2].Seq {
			t.Fatalf("the admin's events: %+v %+v", evs[0], evs[1])
		}
		e.must(http.StatusOK, http.MethodGet, "/api/v1/audit/verify", e.rootTok, nil)
		e.noLeaks()
	})
}

// A refused creation changes nothing: bad fields, a name taken (case-insensitively), a
// caller without orgs:admin, and a caller whose token does not hold every scope the new
// admin would get (attenuation).
func TestIntegrationCreateOrgRefusals(t *testing.T) {
	testenv.ForEachBackend(t, func(t *testing.T, b testenv.Backend) {
		e := newEnv(t, b, nil)
		e.newOrg("taken")
		count := func() (int, int) {
			o := e.must(http.StatusOK, http.MethodGet, "/api/v1/orgs?limit=200", e.rootTok, nil)
			a := e.must(http.StatusOK, http.MethodGet, "/api/v1/agents?limit=200", e.rootTok, nil)
			return len(o["items"].([]any)), len(a["items"].([]any))
		}
		orgsBefore, agentsBefore := count()

		for body, field := range map[string]string{
			`{}`:                   "name",
			`{"name": ""}`:         "name",
			`{"name": "   "}`:      "name",
			`{"name": null}`:       "name",
			`{"name": "a\u0007b"}`: "name",
			`{"name": "` + strings.Repeat("é", 129) + `"}`: "name",
			`{"name": 5}`:                                                            "name",
			`{"name": "x", "max_agents": -1}`:                                        "max_agents",
			`{"name": "x", "max_agents": 1.5}`:                                       "max_agents",
			`{"name": "x", "max_agents": "3"}`:                                       "max_agents",
			`{"name": "x", "max_agents": 2147483648}`:                                "max_agents",
			`{"name": "x", "metadata": []}`:                                          "metadata",
			`{"name": "x", "metadata": null}`:                                        "metadata",
			`{"name": "x", "metadata": {"k": "` + strings.Repeat("v", 8<<10) + `"}}`: "metadata",
			`{"name": "x", "status": "suspended"}`:                                   "status",
			`{"name": "x", "org_id": "00000000-0000-0000-0000-000000000002"}`:        "org_id",
		} {
			m := e.problem(http.StatusBadRequest, "validation_failed", http.MethodPost, "/api/v1/orgs", e.rootTok, body)
			if !strings.Contains(toJSON(t, m["errors"]), `"field":"`+field+`"`) {
				t.Errorf("%s: errors %v, want field %s", body, m["errors"], field)
			}
		}
		e.problem(http.StatusBadRequest, "malformed_body", http.MethodPost, "/api/v1/orgs", e.rootTok, `{"name":`)
		e.problem(http.StatusConflict, "conflict", http.MethodPost, "/api/v1/orgs", e.rootTok, map[string]any{"name": "TAKEN"})
		e.problem(http.StatusConflict, "conflict", http.MethodPost, "/api/v1/orgs", e.rootTok, map[string]any{"name": "root"})

		// Attenuation: a root admin token narrowed to orgs:admin and agents:read cannot give
		// the new admin what it does not hold itself.
		narrow := e.token(e.admin, "orgs:admin agents:read")
		m := e.problem(http.StatusForbidden, "insufficient_scope", http.MethodPost, "/api/v1/orgs", narrow, map[string]any{"name": "narrow"})
		if d := m["detail"].(string); !strings.Contains(d, "agents:write") || !strings.Contains(d, "credentials:write") || strings.Contains(d, "keys:admin") {
			t.Fatalf("attenuation: %v", m)
		}
		// No orgs:admin at all.
		noAdmin := e.token(e.admin, strings.Join(orgAdminScopes, " "))
		e.problem(http.StatusForbidden, "insufficient_scope", http.MethodPost, "/api/v1/orgs", noAdmin, map[string]any{"name": "nope"})
		e.must(http.StatusUnauthorized, http.MethodPost, "/api/v1/orgs", "", map[string]any{"name": "nope"})

		if o, a := count(); o != orgsBefore || a != agentsBefore {
			t.Fatalf("refused creations changed something: orgs %d→%d, agents %d→%d", orgsBefore, o, agentsBefore, a)
		}
		e.must(http.StatusOK, http.MethodGet, "/api/v1/audit/verify", e.rootTok, nil)
	})
}

func sameScopes(got any, want []string) bool {
	var g []string
	switch v := got.(type) {
	case []string:
		g = v
	case []any:
		for _, s := range v {
			g = append(g, s.(string))
		}
	}
	return slices.Equal(slices.Sorted(slices.Values(g)), slices.Sorted(slices.Values(want)))
}
