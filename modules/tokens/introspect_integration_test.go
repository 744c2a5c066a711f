package tokens_test

import (
	"encoding/json"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/agentidp/agentidp/modules/tokens"
	"github.com/agentidp/agentidp/platform/httpserver"
	"github.com/agentidp/agentidp/platform/testenv"
)

// RFC 7662: who may introspect, the answer's members, and the audit event.
func TestIntegrationIntrospection(t *testing.T) {
	testenv.ForEachBackend(t, func(t *testing.T, b testenv.Backend) {
		e := newEnv(t, b, nil)
		subject := e.newClient([]string{"agents:read"}, nil)
		rs := e.newClient([]string{"tokens:introspect"}, nil)
		plain := e.newClient([]string{"agents:read"}, nil)
		tok := e.token(subject, "", "")
		form := url.Values{"token": {tok}}

		t.Run("client credentials of an agent allowed tokens:introspect", func(t *testing.T) {
			for _, r := range []response{
				e.post(tokens.PathIntrospect, form, "Authorization", basic(rs.ID, rs.Secret)),
				e.post(tokens.PathIntrospect, url.Values{"token": {tok}, "client_id": {rs.ID}, "client_secret": {rs.Secret}}),
				e.postRaw(tokens.PathIntrospect, "application/json", string(mustJSON(map[string]string{"token": tok, "token_type_hint": "access_token"})),
					"Authorization", basic(rs.ID, rs.Secret)),
			} {
				if r.Status != http.StatusOK || r.Header.Get("Cache-Control") != "no-store" {
					t.Fatalf("status %d, Cache-Control %q: %s", r.Status, r.Header.Get("Cache-Control"), r.Body)
				}
				m := r.json(t)
				cl := claimsOf(t, tok)
				for _, k := range []string{"sub", "client_id", "scope", "aud", "iss", "exp", "iat", "jti"} {
					if m[k] != cl[k] {
						t.Fatalf("%s: %v, token has %v", k, m[k], cl[k])
					}
				}
				if m["active"] != true || m["token_type"] != "Bearer" {
					t.Fatalf("answer %s", r.Body)
				}
				if _, leaked := m["cid"]; leaked {
					t.Fatal("the private cid claim is not part of the answer")
				}
			}
		})
		t.Run("a bearer holding tokens:introspect", func(t *testing.T) {
			bearer := e.token(rs, "", "")
			r := e.post(tokens.PathIntrospect, form, "Authorization", "Bearer "+bearer)
			if r.Status != http.StatusOK || r.json(t)["active"] != true {
				t.Fatalf("%d %s", r.Status, r.Body)
			}
		})
		t.Run("unauthenticated: 401", func(t *testing.T) {
			r := e.post(tokens.PathIntrospect, form)
			wantOAuthError(t, r, http.StatusUnauthorized, "invalid_client")
			if ch := strings.Join(r.Header.Values("WWW-Authenticate"), ","); !strings.Contains(ch, "Basic") || !strings.Contains(ch, "Bearer") {
				t.Fatalf("WWW-Authenticate %q", ch)
			}
			wantOAuthError(t, e.post(tokens.PathIntrospect, form, "Authorization", basic(rs.ID, plain.Secret)), http.StatusUnauthorized, "invalid_client")
			r = e.post(tokens.PathIntrospect, form, "Authorization", "Bearer not-a-token")
			wantOAuthError(t, r, http.StatusUnauthorized, "invalid_token")
			// Missing both the caller and the token: the caller comes first.
			wantOAuthError(t, e.post(tokens.PathIntrospect, url.Values{}), http.StatusUnauthorized, "invalid_client")
		})
		t.Run("authenticated without tokens:introspect: 403", func(t *testing.T) {
			wantOAuthError(t, e.post(tokens.PathIntrospect, form, "Authorization", basic(plain.ID, plain.Secret)), http.StatusForbidden, "insufficient_scope")
			r := e.post(tokens.PathIntrospect, form, "Authorization", "Bearer "+e.token(plain, "", ""))
			wantOAuthError(t, r, http.StatusForbidden, "insufficient_scope")
			if !strings.Contains(r.Header.Get("WWW-Authenticate"), `error="insufficient_scope"`) {
				t.Fatalf("WWW-Authenticate %q", r.Header.Get("WWW-Authenticate"))
			}
		})
		t.Run("missing token parameter: 400", func(t *testing.T) {
			wantOAuthError(t, e.post(tokens.PathIntrospect, url.Values{}, "Authorization", basic(rs.ID, rs.Secret)), http.StatusBadRequest, "invalid_request")
			wantOAuthError(t, e.post(tokens.PathIntrospect, url.Values{"token": {tok, tok}}, "Authorization", basic(rs.ID, rs.Secret)), http.StatusBadRequest, "invalid_request")
		})
		t.Run("garbage is inactive, with nothing else", func(t *testing.T) {
			r := e.post(tokens.PathIntrospect, url.Values{"token": {"garbage"}}, "Authorization", basic(rs.ID, rs.Secret))
			if r.Status != http.StatusOK || strings.TrimSpace(string(r.Body)) != `{"active":false}` {
				t.Fatalf("%d %s", r.Status, r.Body)
			}
		})
		t.Run("audited as token.introspected", func(t *testing.T) {
			jti := claimsOf(t, tok)["jti"].(string)
			var found bool
			for _, ev := range auditRows(t, b.DB, tokens.ActionTokenIntrospected) {
				if ev.TargetID == jti && ev.AgentID == subject.ID && ev.Details["active"] == true {
					found = true
				}
			}
			if !found {
				t.Fatal("no token.introspected event")
			}
		})
		e.assertNoLeaks()
	})
}

// RFC 7662 §2.2 and RFC 7009 §2.2: any string a client may hold as a token is answered,
// however long, up to the server's one body limit: {"active":false} at introspection, 200
// at revocation. Only a body over 1 MiB is 413. A bearer token over the size cap is still a
// 401 on the API.
func TestIntegrationIntrospectionOfAnyLength(t *testing.T) {
	testenv.ForEachBackend(t, func(t *testing.T, b testenv.Backend) {
		e := newEnv(t, b, nil)
		auth := basic(e.admin.ID, e.admin.Secret)
		honest := e.adminToken()
		inactive := func(name string, r response) {
			t.Helper()
			if r.Status != http.StatusOK || strings.TrimSpace(string(r.Body)) != `{"active":false}` {
				t.Fatalf("%s: status %d: %.200s", name, r.Status, r.Body)
			}
		}
		long := honest + strings.Repeat("A", 100<<10) // 100 KB, starting as a real token
		inactive("100 KB, form", e.post(tokens.PathIntrospect, url.Values{"token": {long}}, "Authorization", auth))
		inactive("100 KB, JSON", e.postRaw(tokens.PathIntrospect, "application/json",
			string(mustJSON(map[string]string{"token": long})), "Authorization", auth))
		full := "token=" + strings.Repeat("A", httpserver.MaxBodyBytes-len("token="))
		inactive("a body of exactly 1 MiB", e.postRaw(tokens.PathIntrospect, "application/x-www-form-urlencoded", full, "Authorization", auth))
		if r := e.postRaw(tokens.PathRevoke, "application/x-www-form-urlencoded", "token="+long, "Authorization", auth); r.Status != http.StatusOK {
			t.Fatalf("revoking 100 KB: status %d: %.200s", r.Status, r.Body)
		}
		if r := e.postRaw(tokens.PathIntrospect, "application/x-www-form-urlencoded", full+"A", "Authorization", auth); r.Status != http.StatusRequestEntityTooLarge {
			t.Fatalf("a body of 1 MiB + 1: status %d, want 413: %.200s", r.Status, r.Body)
		}
		if !e.active(honest) {
			t.Fatal("the honest token is not active")
		}
		// The API keeps the cap on bearer tokens: 401, before any decoding.
		if r := e.api(http.MethodGet, "/api/v1/agents/"+e.admin.ID, honest+strings.Repeat("A", 9<<10), nil); r.Status != http.StatusUnauthorized {
			t.Fatalf("a 9 KiB bearer token: status %d, want 401: %.200s", r.Status, r.Body)
		}
		e.assertNoLeaks()
	})
}

// The discovery documents name this server's endpoints and capabilities (RFC 8414).
func TestIntegrationDiscovery(t *testing.T) {
	testenv.ForEachBackend(t, func(t *testing.T, b testenv.Backend) {
		e := newEnv(t, b, nil)
		for _, path := range []string{tokens.PathOAuthMeta, tokens.PathOIDCMeta} {
			r := e.api(http.MethodGet, path, "", nil)
			if r.Status != http.StatusOK || !strings.Contains(r.Header.Get("Cache-Control"), "public") {
				t.Fatalf("%s: %d %q", path, r.Status, r.Header.Get("Cache-Control"))
			}
			var m struct {
				Issuer                 string   `json:"issuer"`
				TokenEndpoint          string   `json:"token_endpoint"`
				IntrospectionEndpoint  string   `json:"introspection_endpoint"`
				RevocationEndpoint     string   `json:"revocation_endpoint"`
				JWKSURI                string   `json:"jwks_uri"`
				Grants                 []string `json:"grant_types_supported"`
				TokenAuth              []string `json:"token_endpoint_auth_methods_supported"`
				IntrospectionAuth      []string `json:"introspection_endpoint_auth_methods_supported"`
				RevocationAuth         []string `json:"revocation_endpoint_auth_methods_supported"`
				Scopes                 []string `json:"scopes_supported"`
				ResponseTypesSupported []string `json:"response_types_supported"`
			}
			if err := json.Unmarshal(r.Body, &m); err != nil {
				t.Fatal(err)
			}
			iss := e.cfg.Issuer
			if m.Issuer != iss || m.TokenEndpoint != iss+"/api/v1/token" || m.IntrospectionEndpoint != iss+"/api/v1/token/introspect" ||
				m.RevocationEndpoint != iss+"/api/v1/token/revoke" || m.JWKSURI != iss+"/.well-known/jwks.json" {
				t.Fatalf("%s: endpoints %+v", path, m)
			}
			if strings.Join(m.Grants, ",") != "client_credentials" ||
				strings.Join(m.TokenAuth, ",") != "client_secret_basic,client_secret_post,private_key_jwt" ||
				len(m.IntrospectionAuth) == 0 || len(m.RevocationAuth) == 0 || m.ResponseTypesSupported == nil {
				t.Fatalf("%s: capabilities %+v", path, m)
			}
			if len(m.Scopes) != 12 || m.Scopes[0] != "agents:read" {
				t.Fatalf("%s: scopes %v", path, m.Scopes)
			}
		}
	})
}

// The module's Prometheus series move with what happens.
func TestIntegrationMetrics(t *testing.T) {
	e := newEnv(t, testenv.SQLiteBackend(t), nil)
	a := e.newClient([]string{"agents:read"}, nil)
	tok := e.token(a, "", "")
	e.tokenResponse(client{ID: a.ID, Secret: e.admin.Secret}, "", "")
	e.tokenResponse(a, "keys:admin", "")
	e.active(tok)
	e.active("garbage")
	e.revoke(tok, "Authorization", basic(a.ID, a.Secret))
	r := e.api(http.MethodGet, "/metrics", "", nil)
	for _, want := range []string{
		`agentidp_tokens_issued_total{alg="RS256"} 2`, // the admin's (newClient) and a's
		`agentidp_tokens_denied_total{reason="invalid_client"} 1`,
		`agentidp_tokens_denied_total{reason="invalid_scope"} 1`,
		`agentidp_introspections_total{active="true"} 1`,
		`agentidp_introspections_total{active="false"} 1`,
		`agentidp_revocations_total 1`,
	} {
		if !strings.Contains(string(r.Body), want+"\n") {
			t.Errorf("/metrics lacks %q", want)
		}
	}
}
