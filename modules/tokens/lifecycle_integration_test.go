package tokens_test

import (
	"encoding/json"
	"net/http"
	"testing"
	"time"

	"github.com/agentidp/agentidp/platform/testenv"
)

// Suspending an agent kills its tokens at once on every replica; reactivating it does not
// revive them, but new tokens work. Decommissioning kills them for good.
func TestIntegrationAgentLifecycleStopsTokens(t *testing.T) {
	testenv.ForEachBackend(t, func(t *testing.T, b testenv.Backend) {
		e := newEnv(t, b, nil)
		peer := e.replica(nil)
		a := e.newClient([]string{"agents:read"}, nil)
		old := e.token(a, "", "")
		for _, r := range []*env{e, peer} {
			if s := r.apiStatus(old, a.ID); s != http.StatusOK {
				t.Fatalf("before: %d", s)
			}
		}

		e.mustAPI(http.StatusOK, http.MethodPost, "/api/v1/agents/"+a.ID+"/suspend", e.adminToken(), nil)
		for name, r := range map[string]*env{"this replica": e, "other replica": peer} {
			eventually(t, 5*time.Second, name+": suspended agent's token refused", func() bool {
				return r.apiStatus(old, a.ID) == http.StatusUnauthorized
			})
			if r.active(old) {
				t.Fatalf("%s: introspection says the suspended agent's token is active", name)
			}
		}

		e.mustAPI(http.StatusOK, http.MethodPost, "/api/v1/agents/"+a.ID+"/reactivate", e.adminToken(), nil)
		fresh := e.token(a, "", "") // possibly in the very second of the reactivation
		for name, r := range map[string]*env{"this replica": e, "other replica": peer} {
			eventually(t, 5*time.Second, name+": new token accepted after reactivation", func() bool {
				return r.apiStatus(fresh, a.ID) == http.StatusOK
			})
			if s := r.apiStatus(old, a.ID); s != http.StatusUnauthorized {
				t.Fatalf("%s: a token from before the suspension works again: %d", name, s)
			}
			if r.active(old) || !r.active(fresh) {
				t.Fatalf("%s: introspection old %v fresh %v", name, r.active(old), r.active(fresh))
			}
		}

		e.mustAPI(http.StatusNoContent, http.MethodDelete, "/api/v1/agents/"+a.ID, e.adminToken(), nil)
		for name, r := range map[string]*env{"this replica": e, "other replica": peer} {
			eventually(t, 5*time.Second, name+": decommissioned agent's token refused", func() bool {
				return r.apiStatus(fresh, a.ID) == http.StatusUnauthorized
			})
		}
		wantOAuthError(t, e.tokenResponse(a, "", ""), http.StatusUnauthorized, "invalid_client")
	})
}

// Revoking a credential kills the tokens it minted, and only those.
func TestIntegrationCredentialRevocationStopsItsTokens(t *testing.T) {
	testenv.ForEachBackend(t, func(t *testing.T, b testenv.Backend) {
		e := newEnv(t, b, nil)
		peer := e.replica(nil)
		a := e.newClient([]string{"agents:read"}, nil)
		var second struct {
			ClientSecret string `json:"client_secret"`
			CredentialID string `json:"credential_id"`
		}
		if err := json.Unmarshal(e.mustAPI(http.StatusCreated, http.MethodPost, "/api/v1/agents/"+a.ID+"/credentials",
			e.adminToken(), map[string]any{}).Body, &second); err != nil {
			t.Fatal(err)
		}
		e.remember(second.ClientSecret)
		a2 := client{ID: a.ID, Secret: second.ClientSecret, CredentialID: second.CredentialID}
		byFirst, bySecond := e.token(a, "", ""), e.token(a2, "", "")

		e.mustAPI(http.StatusNoContent, http.MethodDelete, "/api/v1/agents/"+a.ID+"/credentials/"+a.CredentialID, e.adminToken(), nil)
		for name, r := range map[string]*env{"this replica": e, "other replica": peer} {
			eventually(t, 5*time.Second, name+": token of the revoked credential refused", func() bool {
				return r.apiStatus(byFirst, a.ID) == http.StatusUnauthorized
			})
			if r.active(byFirst) {
				t.Fatalf("%s: introspection active for a revoked credential's token", name)
			}
			if s := r.apiStatus(bySecond, a.ID); s != http.StatusOK || !r.active(bySecond) {
				t.Fatalf("%s: the other credential's token stopped too (%d)", name, s)
			}
		}
		wantOAuthError(t, e.tokenResponse(a, "", ""), http.StatusUnauthorized, "invalid_client")
		e.assertNoLeaks()
	})
}
