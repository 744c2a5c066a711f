package tokens_test

import (
	"encoding/json"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/agentidp/agentidp/modules/tokens"
	"github.com/agentidp/agentidp/platform/testenv"
)

// claimsOf decodes a token's payload without verifying it (tests only).
func claimsOf(t testing.TB, token string) map[string]any {
	t.Helper()
	parts := strings.Split(token, ".")
	if len(parts) != 3 {
		t.Fatalf("not a JWS: %d segments", len(parts))
	}
	raw, err := b64.DecodeString(parts[1])
	if err != nil {
		t.Fatal(err)
	}
	var m map[string]any
	if err := json.Unmarshal(raw, &m); err != nil {
		t.Fatal(err)
	}
	return m
}

// wantOAuthError checks an RFC 6749 §5.2 error answer.
func wantOAuthError(t testing.TB, r response, status int, code string) {
	t.Helper()
	if r.Status != status {
		t.Fatalf("status %d, want %d: %s", r.Status, status, r.Body)
	}
	m := r.json(t)
	if m["error"] != code {
		t.Fatalf("error %v, want %s: %s", m["error"], code, r.Body)
	}
	if _, ok := m["error_description"].(string); !ok {
		t.Fatalf("no error_description: %s", r.Body)
	}
	if r.Header.Get("Cache-Control") != "no-store" || r.Header.Get("Pragma") != "no-cache" {
		t.Fatalf("Cache-Control %q Pragma %q", r.Header.Get("Cache-Control"), r.Header.Get("Pragma"))
	}
	if !strings.HasPrefix(r.Header.Get("Content-Type"), "application/json") {
		t.Fatalf("Content-Type %q", r.Header.Get("Content-Type"))
	}
}

// The token endpoint's request forms, client authentication methods and RFC 6749 errors.
func TestIntegrationTokenEndpoint(t *testing.T) {
	testenv.ForEachBackend(t, func(t *testing.T, b testenv.Backend) {
		e := newEnv(t, b, nil)
		const rs = "https://rs.example.com/api"
		c := e.newClient([]string{"agents:read", "usage:read"}, []string{rs})
		other := e.newClient([]string{"agents:read"}, nil)
		grant := url.Values{"grant_type": {"client_credentials"}}

		t.Run("form body with client_secret_basic, defaults", func(t *testing.T) {
			r := e.post(tokens.PathToken, grant, "Authorization", basic(c.ID, c.Secret))
			if r.Status != http.StatusOK {
				t.Fatalf("%d %s", r.Status, r.Body)
			}
			if r.Header.Get("Cache-Control") != "no-store" || r.Header.Get("Pragma") != "no-cache" {
				t.Fatalf("Cache-Control %q Pragma %q", r.Header.Get("Cache-Control"), r.Header.Get("Pragma"))
			}
			m := r.json(t)
			if m["token_type"] != "Bearer" || m["expires_in"] != float64(3600) || m["scope"] != "agents:read usage:read" {
				t.Fatalf("answer %s", r.Body)
			}
			tok := m["access_token"].(string)
			e.remember(tok)
			cl := claimsOf(t, tok)
			if cl["aud"] != e.cfg.Issuer || cl["sub"] != c.ID || cl["client_id"] != c.ID || cl["cid"] != c.CredentialID {
				t.Fatalf("claims %v", cl)
			}
		})
		t.Run("form body with client_secret_post", func(t *testing.T) {
			form := url.Values{"grant_type": {"client_credentials"}, "client_id": {c.ID}, "client_secret": {c.Secret}, "scope": {"usage:read"}}
			r := e.post(tokens.PathToken, form)
			if r.Status != http.StatusOK || r.json(t)["scope"] != "usage:read" {
				t.Fatalf("%d %s", r.Status, r.Body)
			}
			e.remember(r.json(t)["access_token"].(string))
		})
		t.Run("JSON body", func(t *testing.T) {
			body, _ := json.Marshal(map[string]any{"grant_type": "client_credentials", "client_id": c.ID,
				"client_secret": c.Secret, "scope": "agents:read", "unknown": map[string]any{"x": 1}})
			r := e.postRaw(tokens.PathToken, "application/json", string(body))
			if r.Status != http.StatusOK || r.json(t)["scope"] != "agents:read" {
				t.Fatalf("%d %s", r.Status, r.Body)
			}
			e.remember(r.json(t)["access_token"].(string))
			// An allowed audience without a registered API: no scope in the token (a change
			// from version 1, where it carried the agent's scopes of this server's API).
			body, _ = json.Marshal(map[string]any{"grant_type": "client_credentials", "client_id": c.ID,
				"client_secret": c.Secret, "audience": rs})
			r = e.postRaw(tokens.PathToken, "application/json", string(body))
			if r.Status != http.StatusOK || r.json(t)["scope"] != "" {
				t.Fatalf("%d %s", r.Status, r.Body)
			}
			tok := r.json(t)["access_token"].(string)
			e.remember(tok)
			if cl := claimsOf(t, tok); cl["aud"] != rs || cl["scope"] != "" || cl["api"] != nil {
				t.Fatalf("claims %v", cl)
			}
			r = e.postRaw(tokens.PathToken, "application/json", `{"grant_type":"client_credentials","client_id":"`+c.ID+`","client_secret":42}`)
			wantOAuthError(t, r, http.StatusBadRequest, "invalid_request")
			r = e.postRaw(tokens.PathToken, "application/json", `[1,2]`)
			wantOAuthError(t, r, http.StatusBadRequest, "invalid_request")
		})
		t.Run("basic and post at once", func(t *testing.T) {
			form := url.Values{"grant_type": {"client_credentials"}, "client_id": {c.ID}, "client_secret": {c.Secret}}
			r := e.post(tokens.PathToken, form, "Authorization", basic(c.ID, c.Secret))
			wantOAuthError(t, r, http.StatusBadRequest, "invalid_request")
		})
		t.Run("Basic credentials are form-urlencoded", func(t *testing.T) {
			// A client that does not encode still works (our ids and secrets need no
			// encoding); one that encodes "-" as %2D works too.
			raw := "Basic " + b64std.EncodeToString([]byte(strings.ReplaceAll(c.ID, "-", "%2D")+":"+c.Secret))
			r := e.post(tokens.PathToken, grant, "Authorization", raw)
			if r.Status != http.StatusOK {
				t.Fatalf("%d %s", r.Status, r.Body)
			}
			e.remember(r.json(t)["access_token"].(string))
			r = e.post(tokens.PathToken, grant, "Authorization", "Basic !!!")
			wantOAuthError(t, r, http.StatusUnauthorized, "invalid_client")
		})
		t.Run("unsupported and missing grant_type", func(t *testing.T) {
			for _, g := range []string{"password", "authorization_code", "refresh_token", "urn:ietf:params:oauth:grant-type:jwt-bearer"} {
				r := e.post(tokens.PathToken, url.Values{"grant_type": {g}}, "Authorization", basic(c.ID, c.Secret))
				wantOAuthError(t, r, http.StatusBadRequest, "unsupported_grant_type")
			}
			r := e.post(tokens.PathToken, url.Values{}, "Authorization", basic(c.ID, c.Secret))
			wantOAuthError(t, r, http.StatusBadRequest, "invalid_request")
			r = e.post(tokens.PathToken, url.Values{"grant_type": {"client_credentials", "client_credentials"}}, "Authorization", basic(c.ID, c.Secret))
			wantOAuthError(t, r, http.StatusBadRequest, "invalid_request")
		})
		t.Run("bad content type", func(t *testing.T) {
			r := e.postRaw(tokens.PathToken, "text/plain", "grant_type=client_credentials", "Authorization", basic(c.ID, c.Secret))
			wantOAuthError(t, r, http.StatusBadRequest, "invalid_request")
			r = e.postRaw(tokens.PathToken, "", "grant_type=client_credentials", "Authorization", basic(c.ID, c.Secret))
			wantOAuthError(t, r, http.StatusBadRequest, "invalid_request")
		})
		t.Run("invalid_client", func(t *testing.T) {
			cases := map[string]response{
				"no authentication":     e.post(tokens.PathToken, grant),
				"client_id only":        e.post(tokens.PathToken, url.Values{"grant_type": {"client_credentials"}, "client_id": {c.ID}}),
				"wrong secret":          e.post(tokens.PathToken, grant, "Authorization", basic(c.ID, other.Secret)),
				"secret of another":     e.post(tokens.PathToken, grant, "Authorization", basic(other.ID, c.Secret)),
				"unknown client":        e.post(tokens.PathToken, grant, "Authorization", basic("0191f0a4-1c2d-7e3f-8a4b-5c6d7e8f9a0b", c.Secret)),
				"client id not a UUID":  e.post(tokens.PathToken, grant, "Authorization", basic("admin' OR '1'='1", c.Secret)),
				"id and secret swapped": e.post(tokens.PathToken, grant, "Authorization", basic(c.Secret, c.ID)),
				"secret in post, wrong": e.post(tokens.PathToken, url.Values{"grant_type": {"client_credentials"}, "client_id": {c.ID}, "client_secret": {"sk_live_x"}}),
			}
			for name, r := range cases {
				t.Run(name, func(t *testing.T) {
					if name == "client_id only" {
						// client_id without a secret is not an authentication.
						wantOAuthError(t, r, http.StatusUnauthorized, "invalid_client")
						return
					}
					wantOAuthError(t, r, http.StatusUnauthorized, "invalid_client")
					if !strings.HasPrefix(r.Header.Get("WWW-Authenticate"), "Basic ") {
						t.Fatalf("WWW-Authenticate %q", r.Header.Get("WWW-Authenticate"))
					}
				})
			}
			// The refusals of an identified client are audited as token.denied.
			found := false
			for _, ev := range auditRows(t, b.DB, tokens.ActionTokenDenied) {
				if ev.AgentID == c.ID && ev.Details["reason"] == "invalid_client" && ev.Outcome == "failure" {
					found = true
				}
			}
			if !found {
				t.Fatal("no token.denied event for the wrong secret")
			}
		})
		t.Run("invalid_scope", func(t *testing.T) {
			for _, scope := range []string{"keys:admin", "agents:read keys:admin", "agents:write", "nonsense", "agents:read\"x"} {
				r := e.tokenResponse(c, scope, "")
				wantOAuthError(t, r, http.StatusBadRequest, "invalid_scope")
			}
		})
		t.Run("invalid_target", func(t *testing.T) {
			for _, res := range []string{"https://evil.example.com/", "not a uri", "https://rs.example.com/api#frag", "/relative"} {
				r := e.tokenResponse(c, "", res)
				wantOAuthError(t, r, http.StatusBadRequest, "invalid_target")
			}
			// Two different resources: one audience per token.
			form := url.Values{"grant_type": {"client_credentials"}, "resource": {rs, e.cfg.Issuer}}
			wantOAuthError(t, e.post(tokens.PathToken, form, "Authorization", basic(c.ID, c.Secret)), http.StatusBadRequest, "invalid_target")
			// The issuer itself is always allowed.
			if tok := e.token(c, "", e.cfg.Issuer); claimsOf(t, tok)["aud"] != e.cfg.Issuer {
				t.Fatal("issuer audience")
			}
		})
		t.Run("suspended agent gets no token", func(t *testing.T) {
			s := e.newClient([]string{"agents:read"}, nil)
			e.mustAPI(http.StatusOK, http.MethodPost, "/api/v1/agents/"+s.ID+"/suspend", e.adminToken(), nil)
			wantOAuthError(t, e.tokenResponse(s, "", ""), http.StatusUnauthorized, "invalid_client")
			e.mustAPI(http.StatusOK, http.MethodPost, "/api/v1/agents/"+s.ID+"/reactivate", e.adminToken(), nil)
			e.token(s, "", "")
		})
		t.Run("an issued token is audited", func(t *testing.T) {
			tok := e.token(c, "agents:read", "")
			jti := claimsOf(t, tok)["jti"].(string)
			var ev *auditRow
			for _, r := range auditRows(t, b.DB, tokens.ActionTokenIssued) {
				if r.TargetID == jti {
					ev = &r
				}
			}
			if ev == nil || ev.AgentID != c.ID || ev.TargetType != "token" || ev.Details["scope"] != "agents:read" {
				t.Fatalf("token.issued event %+v", ev)
			}
		})
		e.assertNoLeaks()
	})
}
