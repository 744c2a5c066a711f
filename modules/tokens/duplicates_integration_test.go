package tokens_test

import (
	"encoding/json"
	"net/http"
	"strings"
	"testing"

	"github.com/agentidp/agentidp/modules/tokens"
	"github.com/agentidp/agentidp/platform/testenv"
)

// A JSON body in which an object repeats a member name, however spelled ("scope",
// "\u0073cope") and however deep, is refused and changes nothing: at the OAuth endpoints
// (400 invalid_request, as a repeated form parameter) and on the API (400 malformed_body).
// encoding/json alone would keep the last member and let the body mean what a reader of
// the first one did not see.
func TestIntegrationRepeatedJSONMembers(t *testing.T) {
	testenv.ForEachBackend(t, func(t *testing.T, b testenv.Backend) {
		e := newEnv(t, b, nil)
		c := e.newClient([]string{"agents:read", "agents:write"}, nil)
		auth := basic(c.ID, c.Secret)
		issued := len(auditRows(t, b.DB, tokens.ActionTokenIssued))

		for name, body := range map[string]string{
			"repeated":          `{"grant_type":"client_credentials","scope":"keys:admin","scope":"agents:write"}`,
			"unicode-escaped":   `{"grant_type":"client_credentials","scope":"keys:admin","\u0073cope":"agents:write"}`,
			"in a nested value": `{"grant_type":"client_credentials","scope":"agents:read","x":{"a":[{"k":1,"k":2}]}}`,
		} {
			t.Run(name, func(t *testing.T) {
				wantOAuthError(t, e.postRaw(tokens.PathToken, "application/json", body, "Authorization", auth),
					http.StatusBadRequest, "invalid_request")
			})
		}
		if n := len(auditRows(t, b.DB, tokens.ActionTokenIssued)); n != issued {
			t.Fatalf("%d tokens issued for refused requests", n-issued)
		}
		// The same body without the repetition is served.
		if r := e.postRaw(tokens.PathToken, "application/json", `{"grant_type":"client_credentials","scope":"agents:write"}`,
			"Authorization", auth); r.Status != http.StatusOK {
			t.Fatalf("honest JSON body: %d %s", r.Status, r.Body)
		}

		tok := e.token(c, "", "")
		wantOAuthError(t, e.postRaw(tokens.PathIntrospect, "application/json", `{"token":"garbage","\u0074oken":"`+tok+`"}`,
			"Authorization", basic(e.admin.ID, e.admin.Secret)), http.StatusBadRequest, "invalid_request")
		wantOAuthError(t, e.postRaw(tokens.PathRevoke, "application/json", `{"token":"garbage","token":"`+tok+`"}`,
			"Authorization", basic(c.ID, c.Secret)), http.StatusBadRequest, "invalid_request")
		if !e.active(tok) {
			t.Fatal("a refused revocation revoked the token")
		}

		// The API: nothing is created or changed.
		admin := e.adminToken()
		count := func() int {
			var page struct {
				Items []json.RawMessage `json:"items"`
			}
			if err := json.Unmarshal(e.mustAPI(http.StatusOK, http.MethodGet, "/api/v1/agents?limit=200", admin, nil).Body, &page); err != nil {
				t.Fatal(err)
			}
			return len(page.Items)
		}
		before := count()
		for _, body := range []string{
			`{"name":"dup","allowed_scopes":["keys:admin"],"allowed_scopes":["agents:read"]}`,
			`{"name":"dup","allowed_scopes":["agents:read"],"metadata":{"team":"a","t\u0065am":"b"}}`,
		} {
			r := e.rawAPI(http.MethodPost, "/api/v1/agents", admin, body)
			wantProblem(t, r, http.StatusBadRequest, "malformed_body")
		}
		if after := count(); after != before {
			t.Fatalf("%d agents created by refused requests", after-before)
		}
		r := e.rawAPI(http.MethodPatch, "/api/v1/agents/"+c.ID, admin, `{"name":"renamed","name":"other"}`)
		wantProblem(t, r, http.StatusBadRequest, "malformed_body")
		var a struct {
			Name string `json:"name"`
		}
		if err := json.Unmarshal(e.mustAPI(http.StatusOK, http.MethodGet, "/api/v1/agents/"+c.ID, admin, nil).Body, &a); err != nil {
			t.Fatal(err)
		}
		if strings.Contains(a.Name, "renamed") || a.Name == "other" {
			t.Fatalf("a refused PATCH changed the name to %q", a.Name)
		}
		e.assertNoLeaks()
	})
}

// rawAPI sends body as it is (JSON, possibly hostile) with a bearer token.
func (e *env) rawAPI(method, path, bearer, body string) response {
	e.t.Helper()
	req, err := http.NewRequest(method, e.app.URL+path, strings.NewReader(body))
	if err != nil {
		e.t.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer "+bearer)
	req.Header.Set("Content-Type", "application/json")
	return e.send(req)
}

// wantProblem fails unless r is a problem document with status and code.
func wantProblem(t testing.TB, r response, status int, code string) {
	t.Helper()
	if r.Status != status || r.Header.Get("Content-Type") != "application/problem+json" || r.json(t)["code"] != code {
		t.Fatalf("status %d, want %d %s: %s", r.Status, status, code, r.Body)
	}
}
