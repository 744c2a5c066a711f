package client_test

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/agentidp/agentidp/client"
	"github.com/agentidp/agentidp/client/internal/idptest"
	"github.com/agentidp/agentidp/client/resource"
)

// api is a resource server protected by the middleware, registered at the real server as
// an API with the scopes invoices:read and invoices:write.
type api struct {
	*httptest.Server
	handler http.Handler // swapped by tests
}

func newAPI(t *testing.T, srv *idptest.Server) *api {
	t.Helper()
	a := &api{}
	a.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { a.handler.ServeHTTP(w, r) }))
	t.Cleanup(a.Close)
	srv.NewAPI(t, a.URL, "invoices:read", "invoices:write")
	return a
}

// whoami answers the verified claims' subject and scope.
var whoami = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
	c, ok := resource.ClaimsFrom(r.Context())
	if !ok {
		http.Error(w, "no claims", http.StatusInternalServerError)
		return
	}
	_ = json.NewEncoder(w).Encode(map[string]string{"sub": c.Subject, "scope": c.Scope})
})

func validator(t *testing.T, cfg resource.Config) *resource.Validator {
	t.Helper()
	v, err := resource.New(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	return v
}

// call sends GET path with an Authorization header value ("" for none) and returns the
// status and WWW-Authenticate values.
func call(t *testing.T, url, authz string) (int, []string) {
	t.Helper()
	req, _ := http.NewRequest(http.MethodGet, url, nil)
	if authz != "" {
		req.Header.Set("Authorization", authz)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	return resp.StatusCode, resp.Header.Values("WWW-Authenticate")
}

// tamper changes one character of part (0 header, 1 payload, 2 signature) of a JWS.
func tamper(tok string, part int) string {
	parts := strings.Split(tok, ".")
	b, _ := base64.RawURLEncoding.DecodeString(parts[part])
	b[len(b)/2] ^= 0x01
	parts[part] = base64.RawURLEncoding.EncodeToString(b)
	return strings.Join(parts, ".")
}

// The middleware in front of an API registered at the real server: a real token for it
// passes with its claims in the context; a tampered, expired, foreign-audience or
// under-scoped one is refused with the RFC 6750 challenge.
func TestE2EMiddlewareRealTokens(t *testing.T) {
	srv := idptest.Shared(t)
	rs := newAPI(t, srv)
	agent := srv.NewAgent(t, map[string]any{"allowed_scopes": []string{"agents:read"}})
	srv.Call(t, http.MethodPatch, "/api/v1/agents/"+agent.ID,
		map[string]any{"grants": []map[string]any{{"audience": rs.URL, "scopes": []string{"invoices:read"}}}}, http.StatusOK, nil)

	clk := newClock()
	v := validator(t, resource.Config{Issuer: srv.Issuer, Audience: rs.URL, RequiredScopes: []string{"invoices:read"}, Now: clk.Now})
	mux := http.NewServeMux()
	mux.Handle("GET /invoices", v.Middleware(whoami))
	mux.Handle("POST /invoices", v.RequireScopes("invoices:write")(whoami))
	rs.handler = mux

	// The agent's token source for the API, through Transport.
	ts, err := client.NewTokenSource(client.Config{Issuer: srv.Issuer, ClientID: agent.ID,
		Auth: client.ClientSecret(agent.Secret), Resource: rs.URL})
	if err != nil {
		t.Fatal(err)
	}
	resp, err := ts.Client().Get(rs.URL + "/invoices")
	if err != nil {
		t.Fatal(err)
	}
	var got map[string]string
	_ = json.NewDecoder(resp.Body).Decode(&got)
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK || got["sub"] != agent.ID || got["scope"] != "invoices:read" {
		t.Fatalf("valid token: %d %v", resp.StatusCode, got)
	}
	tok, err := ts.Token()
	if err != nil {
		t.Fatal(err)
	}
	good := tok.AccessToken
	ownAPI := srv.Token(t, agent.ID, agent.Secret, nil) // aud = the issuer, scope agents:read

	invalid := []string{`Bearer error="invalid_token"`}
	for _, c := range []struct {
		name, authz, method string
		status              int
		challenge           []string
	}{
		{"valid", "Bearer " + good, http.MethodGet, 200, nil},
		{"scheme in lower case", "bearer " + good, http.MethodGet, 200, nil},
		{"no token", "", http.MethodGet, 401, []string{"Bearer", `DPoP algs="ES256 ES384 EdDSA RS256 PS256"`}},
		{"tampered header", "Bearer " + tamper(good, 0), http.MethodGet, 401, invalid},
		{"tampered payload", "Bearer " + tamper(good, 1), http.MethodGet, 401, invalid},
		{"tampered signature", "Bearer " + tamper(good, 2), http.MethodGet, 401, invalid},
		{"another audience (the server's own API)", "Bearer " + ownAPI, http.MethodGet, 401, invalid},
		{"missing scope", "Bearer " + good, http.MethodPost, 403, []string{`Bearer error="insufficient_scope", scope="invoices:read invoices:write"`}},
		{"not a token68", "Bearer a b", http.MethodGet, 400, []string{`Bearer error="invalid_request"`}},
	} {
		t.Run(c.name, func(t *testing.T) {
			req, _ := http.NewRequest(c.method, rs.URL+"/invoices", nil)
			if c.authz != "" {
				req.Header.Set("Authorization", c.authz)
			}
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			if resp.StatusCode != c.status || strings.Join(resp.Header.Values("WWW-Authenticate"), "|") != strings.Join(c.challenge, "|") {
				t.Fatalf("%d %q, want %d %q", resp.StatusCode, resp.Header.Values("WWW-Authenticate"), c.status, c.challenge)
			}
		})
	}

	// Expired: the same token an hour and two minutes later (TTL 1 h, leeway 60 s).
	clk.Add(62 * time.Minute)
	if status, ch := call(t, rs.URL+"/invoices", "Bearer "+good); status != 401 || len(ch) != 1 || ch[0] != invalid[0] {
		t.Fatalf("expired token: %d %q", status, ch)
	}
	// A validator for the server's own API takes the agent's own-API token, not the API's.
	own := validator(t, resource.Config{Issuer: srv.Issuer, Audience: srv.Issuer, RequiredScopes: []string{"agents:read"}})
	if _, err := own.Validate(context.Background(), ownAPI); err != nil {
		t.Fatalf("own-API token: %v", err)
	}
	if _, err := own.Validate(context.Background(), good); err == nil {
		t.Fatal("a token for another audience passed")
	}
	// Another issuer (an organization's) is refused.
	other := validator(t, resource.Config{Issuer: srv.Issuer + "/orgs/00000000-0000-0000-0000-000000000001", Audience: rs.URL,
		JWKSURI: srv.Issuer + "/.well-known/jwks.json"})
	if _, err := other.Validate(context.Background(), good); err == nil {
		t.Fatal("a token of another issuer passed")
	}
}

// With introspection, a revoked token is refused at the next request; local validation
// alone still takes it until it expires.
func TestE2EMiddlewareIntrospectionSeesRevocation(t *testing.T) {
	srv := idptest.Shared(t)
	rs := newAPI(t, srv)
	agent := srv.NewAgent(t, map[string]any{
		"grants": []map[string]any{{"audience": rs.URL, "scopes": []string{"invoices:read"}}}})
	rsAgent := srv.NewAgent(t, map[string]any{"allowed_scopes": []string{"tokens:introspect"}})

	local := validator(t, resource.Config{Issuer: srv.Issuer, Audience: rs.URL})
	intro := validator(t, resource.Config{Issuer: srv.Issuer, Audience: rs.URL,
		Introspection: &resource.IntrospectionConfig{ClientID: rsAgent.ID, Auth: client.ClientSecret(rsAgent.Secret)}})
	mux := http.NewServeMux()
	mux.Handle("/local", local.Middleware(whoami))
	mux.Handle("/introspected", intro.Middleware(whoami))
	rs.handler = mux

	tok := srv.Token(t, agent.ID, agent.Secret, url.Values{"resource": {rs.URL}})
	for _, p := range []string{"/local", "/introspected"} {
		if status, _ := call(t, rs.URL+p, "Bearer "+tok); status != 200 {
			t.Fatalf("%s before the revocation: %d", p, status)
		}
	}
	if in, err := intro.Introspect(context.Background(), tok); err != nil || !in.Active || in.Subject != agent.ID {
		t.Fatalf("introspection: %+v %v", in, err)
	}

	// The agent revokes its own token (RFC 7009, with its client credentials).
	req, _ := http.NewRequest(http.MethodPost, srv.Issuer+"/api/v1/token/revoke", strings.NewReader(url.Values{"token": {tok}}.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.SetBasicAuth(agent.ID, agent.Secret)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 200 {
		t.Fatalf("revoke: %d", resp.StatusCode)
	}

	if status, ch := call(t, rs.URL+"/introspected", "Bearer "+tok); status != 401 || len(ch) != 1 || ch[0] != `Bearer error="invalid_token"` {
		t.Fatalf("introspected after the revocation: %d %q", status, ch)
	}
	if status, _ := call(t, rs.URL+"/local", "Bearer "+tok); status != 200 {
		t.Fatalf("local validation after the revocation: %d (it cannot see revocations)", status)
	}
}
