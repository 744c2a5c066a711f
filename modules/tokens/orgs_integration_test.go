package tokens_test

import (
	"context"
	"encoding/json"
	"net/http"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/lestrrat-go/jwx/v3/jwk"
	"github.com/lestrrat-go/jwx/v3/jwt"

	"github.com/agentidp/agentidp/modules/orgs"
	"github.com/agentidp/agentidp/platform/testenv"
)

// insertOrg writes an organization straight into the orgs table.
func (e *env) insertOrg(name string) string { return testenv.InsertOrg(e.t, e.b.DB, name) }

// setOrgStatus suspends or reactivates an org in the table, as the orgs service will.
func (e *env) setOrgStatus(id string, status orgs.Status) {
	e.t.Helper()
	now := time.Now().UTC()
	q := e.b.DB.NewRaw(`UPDATE orgs SET status = ?, updated_at = ? WHERE org_id = ?`, string(status), now, id)
	if status == orgs.StatusSuspended {
		q = e.b.DB.NewRaw(`UPDATE orgs SET status = ?, updated_at = ?, tokens_not_before = ? WHERE org_id = ?`, string(status), now, now, id)
	}
	if _, err := q.Exec(context.Background()); err != nil {
		e.t.Fatal(err)
	}
}

// newOrgClient creates an agent of org (through the API, by the root admin) and a
// credential for it.
func (e *env) newOrgClient(org string, scopes []string) client {
	e.t.Helper()
	admin := e.adminToken()
	var a struct {
		ID    string `json:"agent_id"`
		OrgID string `json:"org_id"`
	}
	body := map[string]any{"name": "org-agent", "org_id": org, "allowed_scopes": scopes}
	if err := json.Unmarshal(e.mustAPI(http.StatusCreated, http.MethodPost, "/api/v1/agents", admin, body).Body, &a); err != nil {
		e.t.Fatal(err)
	}
	if a.OrgID != org {
		e.t.Fatalf("agent created in org %q, want %q", a.OrgID, org)
	}
	var c struct {
		ClientID     string `json:"client_id"`
		ClientSecret string `json:"client_secret"`
		CredentialID string `json:"credential_id"`
	}
	if err := json.Unmarshal(e.mustAPI(http.StatusCreated, http.MethodPost, "/api/v1/agents/"+a.ID+"/credentials", admin, map[string]any{}).Body, &c); err != nil {
		e.t.Fatal(err)
	}
	e.remember(c.ClientSecret)
	return client{ID: c.ClientID, Secret: c.ClientSecret, CredentialID: c.CredentialID}
}

// Each organization is its own issuer: its agents' tokens carry iss <issuer>/orgs/<org_id>
// and org_id; a resource server that trusts one org's issuer (through its discovery
// document and the JWKS, with a stock JWT library) refuses another org's tokens; the
// server's own API accepts them (aud is the server's issuer). Suspending the org stops
// its tokens and its clients; reactivating it does not bring the old tokens back.
func TestIntegrationOrgIssuer(t *testing.T) {
	testenv.ForEachBackend(t, func(t *testing.T, b testenv.Backend) {
		e := newEnv(t, b, nil)
		org := e.insertOrg("team-a")
		c := e.newOrgClient(org, []string{"agents:read"})
		tok := e.token(c, "", "")
		issuer := e.cfg.Issuer + "/orgs/" + org

		// The discovery document of the org's issuer (RFC 8414 path insertion, and the
		// OpenID form), with the server's own endpoints and keys.
		var meta struct {
			Issuer  string `json:"issuer"`
			JWKSURI string `json:"jwks_uri"`
			Token   string `json:"token_endpoint"`
		}
		for _, path := range []string{"/.well-known/oauth-authorization-server/orgs/" + org, "/orgs/" + org + "/.well-known/openid-configuration"} {
			r := e.api(http.MethodGet, path, "", nil)
			if r.Status != http.StatusOK {
				t.Fatalf("%s: %d", path, r.Status)
			}
			if err := json.Unmarshal(r.Body, &meta); err != nil {
				t.Fatal(err)
			}
			if meta.Issuer != issuer || meta.Token != e.cfg.Issuer+"/api/v1/token" || meta.JWKSURI != e.cfg.Issuer+"/.well-known/jwks.json" {
				t.Fatalf("%s: %+v", path, meta)
			}
		}
		if s := e.api(http.MethodGet, "/.well-known/oauth-authorization-server/orgs/"+uuid.NewString(), "", nil).Status; s != http.StatusNotFound {
			t.Fatalf("unknown org's metadata: %d", s)
		}

		// A stock JWT library (jwx) with the JWKS: the org's issuer accepts, root's refuses;
		// and a root agent's token is refused by the org's issuer.
		set, err := jwk.Fetch(context.Background(), e.app.URL+"/.well-known/jwks.json")
		if err != nil {
			t.Fatal(err)
		}
		parse := func(token, iss string) error {
			_, err := jwt.Parse([]byte(token), jwt.WithKeySet(set), jwt.WithIssuer(iss), jwt.WithAudience(e.cfg.Issuer))
			return err
		}
		if err := parse(tok, issuer); err != nil {
			t.Fatalf("the org's issuer refuses its own token: %v", err)
		}
		if parse(tok, e.cfg.Issuer) == nil {
			t.Fatal("root's issuer accepts another org's token")
		}
		rootTok := e.token(e.newClient([]string{"agents:read"}, nil), "", "")
		if parse(rootTok, issuer) == nil {
			t.Fatal("the org's issuer accepts a root agent's token")
		}

		if s := e.apiStatus(tok, c.ID); s != http.StatusOK {
			t.Fatalf("the server's API refuses an org's token: %d", s)
		}
		in := e.introspect(tok)
		if in["active"] != true || in["org_id"] != org || in["iss"] != issuer {
			t.Fatalf("introspection: %v", in)
		}

		// Suspension stops the org's tokens and clients (within the poll, without waiting
		// for the caches to expire); reactivation does not revive the old tokens.
		e.setOrgStatus(org, orgs.StatusSuspended)
		eventually(t, 3*time.Second, "a suspended org's token refused", func() bool { return e.apiStatus(tok, c.ID) == http.StatusUnauthorized })
		if e.active(tok) {
			t.Fatal("introspection: a suspended org's token is active")
		}
		if r := e.tokenResponse(c, "", ""); r.Status != http.StatusUnauthorized || r.json(t)["error"] != "invalid_client" {
			t.Fatalf("token endpoint for a suspended org's client: %d %s", r.Status, r.Body)
		}
		time.Sleep(1100 * time.Millisecond) // into the next second: iat after the cut-off
		e.setOrgStatus(org, orgs.StatusActive)
		eventually(t, 3*time.Second, "a reactivated org's client gets tokens", func() bool { return e.tokenResponse(c, "", "").Status == http.StatusOK })
		if e.apiStatus(tok, c.ID) != http.StatusUnauthorized {
			t.Fatal("a token from before the suspension came back with the reactivation")
		}
		if fresh := e.token(c, "", ""); e.apiStatus(fresh, c.ID) != http.StatusOK {
			t.Fatal("a token after the reactivation is refused")
		}
	})
}
