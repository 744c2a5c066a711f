package tokens_test

import (
	"bytes"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/agentidp/agentidp/modules/tokens"
	"github.com/agentidp/agentidp/platform/testenv"
)

// The user agent is whatever the client sends, and a careless client sends its secret or
// its token there. Audit rows keep it scrubbed as their details are: neither the secret nor
// any piece of the token is stored, also when the user agent is longer than the stored
// 512 bytes and the token would be cut in two.
func TestIntegrationUserAgentScrubbedInAudit(t *testing.T) {
	testenv.ForEachBackend(t, func(t *testing.T, b testenv.Backend) {
		e := newEnv(t, b, nil)
		c := e.newClient([]string{"agents:read", "tokens:introspect"}, nil)
		jwt := e.adminToken()
		const marker = "leaky-agent/1.0"
		ua := marker + " (" + c.Secret + ") " + jwt // about 900 bytes

		form := url.Values{"grant_type": {"client_credentials"}}
		if r := e.post(tokens.PathToken, form, "Authorization", basic(c.ID, c.Secret), "User-Agent", ua); r.Status != http.StatusOK {
			t.Fatalf("token: %d %s", r.Status, r.Body)
		}
		wrong := c.Secret[:len(c.Secret)-4] + "AAAA"
		if r := e.post(tokens.PathToken, form, "Authorization", basic(c.ID, wrong), "User-Agent", ua); r.Status != http.StatusUnauthorized {
			t.Fatalf("wrong secret: %d %s", r.Status, r.Body)
		}
		if r := e.post(tokens.PathIntrospect, url.Values{"token": {jwt}}, "Authorization", basic(c.ID, c.Secret), "User-Agent", ua); r.Status != http.StatusOK {
			t.Fatalf("introspection: %d %s", r.Status, r.Body)
		}
		req, err := http.NewRequest(http.MethodPost, e.app.URL+"/api/v1/agents", bytes.NewReader(mustJSON(map[string]any{"name": "ua-test"})))
		if err != nil {
			t.Fatal(err)
		}
		req.Header.Set("Authorization", "Bearer "+jwt)
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("User-Agent", ua)
		if r := e.send(req); r.Status != http.StatusCreated {
			t.Fatalf("creating an agent: %d %s", r.Status, r.Body)
		}

		actions := map[string]bool{}
		for _, row := range auditRows(t, b.DB, "") {
			if !strings.HasPrefix(row.UserAgent, marker) {
				continue
			}
			actions[row.Action] = true
			if !strings.Contains(row.UserAgent, "[REDACTED]") || strings.Contains(row.UserAgent, "sk_live_") ||
				strings.Contains(row.UserAgent, "eyJ") {
				t.Errorf("%s: user_agent %q", row.Action, row.UserAgent)
			}
			for _, piece := range append(strings.Split(jwt, "."), c.Secret[8:], wrong[8:]) {
				if strings.Contains(row.UserAgent, piece[:16]) {
					t.Errorf("%s: user_agent holds a piece of a secret or token: %q", row.Action, row.UserAgent)
				}
			}
		}
		for _, a := range []string{tokens.ActionTokenIssued, tokens.ActionTokenDenied, tokens.ActionTokenIntrospected, "agent.created"} {
			if !actions[a] {
				t.Errorf("no %s row with the request's user agent (rows: %v)", a, actions)
			}
		}
		e.remember(wrong)
		e.assertNoLeaks()
	})
}
