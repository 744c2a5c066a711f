package credentials_test

import (
	"context"
	"net/http"
	"strings"
	"testing"

	"github.com/google/uuid"

	"github.com/agentidp/agentidp/modules/orgs"
	"github.com/agentidp/agentidp/platform/testenv"
)

// The authority model on the credentials routes (docs/security.md, "The authority model"):
// the escalations of version 1, replayed through HTTP and refused, with nothing changed.

// newOrg inserts an organization row (the orgs routes are another module's).
func (h *harness) newOrg(name string) string { return testenv.InsertOrg(h.t, h.db, name) }

// agentWith creates an agent of org holding scopes and returns its id.
func (h *harness) agentWith(org string, scopes ...string) string {
	h.t.Helper()
	if scopes == nil {
		scopes = []string{}
	}
	var a struct {
		ID string `json:"agent_id"`
	}
	decode(h.t, h.must(http.StatusCreated, http.MethodPost, "/api/v1/agents",
		map[string]any{"name": "a " + uuid.NewString()[:8], "org_id": org, "allowed_scopes": scopes}), &a)
	return a.ID
}

// wantStatus fails unless the call as tok answers want.
func (h *harness) wantStatus(want int, tok, method, path string, body any) []byte {
	h.t.Helper()
	code, out := h.doAs(tok, method, path, body)
	if code != want {
		h.t.Fatalf("%s %s: status %d, want %d: %s", method, path, code, want, out)
	}
	return out
}

func credPath(agent string) string { return "/api/v1/agents/" + agent + "/credentials" }

func TestIntegrationNoCredentialsForTheAdmin(t *testing.T) {
	testenv.ForEachBackend(t, func(t *testing.T, b testenv.Backend) {
		h := newHarness(t, testenv.Config(t), b)
		admin := h.agentWith(orgs.RootID, allScopes...)
		cred := h.issue(admin, nil)
		// An agent holding only credentials:write issues a credential for the admin (v1: 201
		// with the admin's secret), rotates the admin's with grace 0, or revokes it.
		writer := h.bearers.Issue(h.agentWith(orgs.RootID, "credentials:write"), "credentials:write")
		out := h.wantStatus(http.StatusForbidden, writer, http.MethodPost, credPath(admin), nil)
		if strings.Contains(string(out), "sk_live_") {
			t.Fatalf("a refusal carries a secret: %s", out)
		}
		h.wantStatus(http.StatusForbidden, writer, http.MethodPost, credPath(admin)+"/"+cred.CredentialID+"/rotate",
			map[string]any{"grace_period_seconds": 0})
		h.wantStatus(http.StatusForbidden, writer, http.MethodDelete, credPath(admin)+"/"+cred.CredentialID, nil)
		// Nothing changed: the admin's one credential still authenticates.
		var page struct {
			Items []struct {
				ID     string `json:"credential_id"`
				Status string `json:"status"`
			} `json:"items"`
		}
		decode(t, h.must(http.StatusOK, http.MethodGet, credPath(admin), nil), &page)
		if len(page.Items) != 1 || page.Items[0].Status != "active" {
			t.Fatalf("the admin's credentials changed: %+v", page.Items)
		}
		if _, err := h.verifier.Verify(context.Background(), admin, cred.ClientSecret); err != nil {
			t.Fatalf("the admin's secret no longer verifies: %v", err)
		}
		// Credentials of an agent whose authority the caller holds: allowed.
		peer := h.agentWith(orgs.RootID)
		h.wantStatus(http.StatusCreated, writer, http.MethodPost, credPath(peer), nil)
	})
}

func TestIntegrationCredentialsIsolation(t *testing.T) {
	testenv.ForEachBackend(t, func(t *testing.T, b testenv.Backend) {
		h := newHarness(t, testenv.Config(t), b)
		o1, o2 := h.newOrg("one"), h.newOrg("two")
		theirs := h.agentWith(o2)
		cred := h.issue(theirs, nil)
		tok := h.bearers.IssueIn(o1, uuid.NewString(), "credentials:read", "credentials:write")
		missing := uuid.NewString()
		for _, agent := range []string{theirs, missing} {
			for _, c := range []struct{ method, path string }{
				{http.MethodGet, credPath(agent)},
				{http.MethodPost, credPath(agent)},
				{http.MethodPost, credPath(agent) + "/" + cred.CredentialID + "/rotate"},
				{http.MethodDelete, credPath(agent) + "/" + cred.CredentialID},
			} {
				h.wantStatus(http.StatusNotFound, tok, c.method, c.path, map[string]any{})
			}
		}
		if _, err := h.verifier.Verify(context.Background(), theirs, cred.ClientSecret); err != nil {
			t.Fatalf("another org's credential changed: %v", err)
		}
	})
}

func TestIntegrationLastHolderKeepsItsLastCredential(t *testing.T) {
	testenv.ForEachBackend(t, func(t *testing.T, b testenv.Backend) {
		h := newHarness(t, testenv.Config(t), b)
		o1 := h.newOrg("one")
		g := h.agentWith(o1, "agents:write", "credentials:write")
		first := h.issue(g, nil)
		tok := h.bearers.IssueIn(o1, g, "agents:write", "credentials:write")
		// The organization's last holder of agents:write and credentials:write cannot lose its
		// last active credential, not even by its own hand.
		h.wantStatus(http.StatusConflict, tok, http.MethodDelete, credPath(g)+"/"+first.CredentialID, nil)
		h.wantStatus(http.StatusConflict, h.bearer, http.MethodDelete, credPath(g)+"/"+first.CredentialID, nil)
		// Rotation leaves it a credential: allowed.
		var next issued
		decode(t, h.wantStatus(http.StatusCreated, tok, http.MethodPost, credPath(g)+"/"+first.CredentialID+"/rotate",
			map[string]any{"grace_period_seconds": 0}), &next)
		// With a second credential, one of them can go.
		second := h.issue(g, nil)
		h.wantStatus(http.StatusNoContent, tok, http.MethodDelete, credPath(g)+"/"+next.CredentialID, nil)
		h.wantStatus(http.StatusConflict, tok, http.MethodDelete, credPath(g)+"/"+second.CredentialID, nil)
	})
}
