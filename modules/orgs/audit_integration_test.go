package orgs_test

import (
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/agentidp/agentidp/modules/orgs"
	"github.com/agentidp/agentidp/modules/tokens"
	"github.com/agentidp/agentidp/platform/testenv"
)

// Every audit event belongs to the org of the agent it concerns, else to the actor's, with
// the real modules: what root's admin does to another org's agent is that org's, and the
// org's own audit:read sees it, and nothing of root's or of another org.
func TestIntegrationAuditEventsBelongToTheirOrg(t *testing.T) {
	testenv.ForEachBackend(t, func(t *testing.T, b testenv.Backend) {
		e := newEnv(t, b, nil)
		orgX, adminX := e.newOrg("org-x")
		orgY, adminY := e.newOrg("org-y")
		tokX := e.token(adminX, "")
		e.token(adminY, "")

		// Root's admin acts on an agent of org X: the events are X's.
		a := e.must(http.StatusCreated, http.MethodPost, "/api/v1/agents", e.rootTok, map[string]any{"name": "placed", "org_id": orgX})
		placed := a["agent_id"].(string)
		e.must(http.StatusOK, http.MethodPatch, "/api/v1/agents/"+placed, e.rootTok, map[string]any{"description": "by root"})
		cred := e.must(http.StatusCreated, http.MethodPost, "/api/v1/agents/"+placed+"/credentials", e.rootTok, map[string]any{})
		e.remember(cred["client_secret"].(string))
		placedTok := e.token(client{ID: placed, Secret: cred["client_secret"].(string)}, "")
		e.active(placedTok) // root's admin introspects X's token
		req, _ := http.NewRequest(http.MethodPost, e.url+tokens.PathRevoke, strings.NewReader(url.Values{"token": {placedTok}}.Encode()))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		req.Header.Set("Authorization", "Bearer "+e.rootTok)
		if r := e.send(req); r.Status != http.StatusOK {
			t.Fatalf("revocation: %d %s", r.Status, r.Body)
		}
		// A refused token request of X's agent (a wrong secret) is X's too.
		if r := e.tokenResponse(client{ID: placed, Secret: "sk_live_" + strings.Repeat("A", 43)}, ""); r.Status != http.StatusUnauthorized {
			t.Fatalf("wrong secret: %d", r.Status)
		}

		want := map[string]string{} // action about placed → org
		for _, ev := range e.events(orgX) {
			if ev.AgentID != nil && *ev.AgentID == placed {
				want[ev.Action] = *ev.OrgID
			}
		}
		for _, action := range []string{"agent.created", "agent.updated", "credential.created", "token.issued",
			"token.introspected", "token.revoked", "token.denied"} {
			if want[action] != orgX {
				t.Errorf("%s about X's agent: org %q, want X's", action, want[action])
			}
		}

		// X's admin lists X's events only: the ones root's admin caused included.
		p := e.must(http.StatusOK, http.MethodGet, "/api/v1/audit?limit=200", tokX, nil)
		byRoot := 0
		for _, it := range p["items"].([]any) {
			ev := it.(map[string]any)
			if ev["org_id"] != orgX {
				t.Fatalf("X's admin sees an event of %v: %v", ev["org_id"], ev)
			}
			if ev["actor_id"] == e.admin.ID {
				byRoot++
			}
		}
		if byRoot < 3 {
			t.Fatalf("X's admin sees %d events root's admin caused in X", byRoot)
		}
		e.problem(http.StatusNotFound, "not_found", http.MethodGet, "/api/v1/audit?org_id="+orgY, tokX, nil)
		e.problem(http.StatusNotFound, "not_found", http.MethodGet, "/api/v1/audit/export?org_id="+orgs.RootID, tokX, nil)
		e.problem(http.StatusForbidden, "insufficient_scope", http.MethodGet, "/api/v1/audit/verify", tokX, nil)

		// Root's own events (its admin's tokens) are root's; Y's admin's token is Y's.
		rootEvents := e.events(orgs.RootID)
		found := false
		for _, ev := range rootEvents {
			if ev.Action == "token.issued" && ev.AgentID != nil && *ev.AgentID == e.admin.ID {
				found = true
			}
			if ev.OrgID == nil || *ev.OrgID != orgs.RootID {
				t.Fatalf("root's list holds %+v", ev)
			}
		}
		if !found {
			t.Fatal("root's admin's token.issued is not root's")
		}
		for _, ev := range e.events(orgY) {
			if ev.AgentID != nil && *ev.AgentID != adminY.ID {
				t.Fatalf("Y's events hold another agent's: %+v", ev)
			}
		}
		e.must(http.StatusOK, http.MethodGet, "/api/v1/audit/verify", e.rootTok, nil)
		e.noLeaks()
	})
}
