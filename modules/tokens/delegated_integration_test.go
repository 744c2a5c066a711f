package tokens_test

import (
	"net/http"
	"testing"
	"time"

	jose "github.com/go-jose/go-jose/v4"

	"github.com/agentidp/agentidp/platform/testenv"
)

// A token that acts for another agent (an act claim, RFC 8693 §4.1, from the token
// exchange) manages nothing: it is refused on every route that changes agents,
// credentials, APIs, organizations or keys, and reads as its subject; the subject's own
// token does what it asks. A token carrying act without the chain this server writes
// (minted here with the server's own key) is refused outright.
func TestIntegrationDelegatedTokenManagesNothing(t *testing.T) {
	testenv.ForEachBackend(t, func(t *testing.T, b testenv.Backend) {
		e := newEnv(t, b, nil)
		kid, alg, priv := ourKey(t, e)
		mint := func(act bool) string {
			now := time.Now().Unix()
			c := map[string]any{"iss": e.cfg.Issuer, "sub": e.admin.ID, "client_id": e.admin.ID, "aud": e.cfg.Issuer,
				"scope": "agents:read agents:write credentials:write keys:admin apis:write orgs:admin",
				"iat":   now, "exp": now + 600, "jti": newUUID(t), "cid": e.admin.CredentialID}
			if act {
				c["act"] = map[string]any{"sub": newUUID(t)}
			}
			return sign(t, jose.SignatureAlgorithm(alg), priv, map[string]any{"kid": kid, "typ": "at+jwt"}, c)
		}
		forged, plain := mint(true), mint(false)
		e.mustAPI(http.StatusUnauthorized, http.MethodGet, "/api/v1/agents", forged, nil)
		d := e.newClient([]string{}, nil)
		e.setDelegates(e.admin.ID, d.ID)
		delegated := e.exchange(d, plain, nil)

		e.mustAPI(http.StatusOK, http.MethodGet, "/api/v1/agents", delegated, nil)
		e.mustAPI(http.StatusOK, http.MethodGet, "/api/v1/agents/"+e.admin.ID, delegated, nil)
		for _, c := range []struct {
			method, path string
			body         any
		}{
			{http.MethodPost, "/api/v1/agents", map[string]any{"name": "by a delegate"}},
			{http.MethodPatch, "/api/v1/agents/" + e.admin.ID, map[string]any{"description": "x"}},
			{http.MethodPost, "/api/v1/agents/" + e.admin.ID + "/credentials", nil},
			{http.MethodPost, "/api/v1/keys/rotate", nil},
			{http.MethodPost, "/api/v1/apis", map[string]any{"name": "x", "identifier": "https://x.example.com"}},
			{http.MethodPost, "/api/v1/orgs", map[string]any{"name": "by a delegate"}},
		} {
			r := e.mustAPI(http.StatusForbidden, c.method, c.path, delegated, c.body)
			if got := r.Header.Get("WWW-Authenticate"); got == "" {
				t.Errorf("%s %s: no WWW-Authenticate", c.method, c.path)
			}
		}
		e.mustAPI(http.StatusCreated, http.MethodPost, "/api/v1/agents", plain, map[string]any{"name": "by the admin"})
	})
}
