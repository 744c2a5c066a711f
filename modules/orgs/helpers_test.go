package orgs_test

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"go.uber.org/fx"
	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"

	"github.com/agentidp/agentidp/modules/agents"
	"github.com/agentidp/agentidp/modules/apis"
	"github.com/agentidp/agentidp/modules/audit"
	"github.com/agentidp/agentidp/modules/credentials"
	"github.com/agentidp/agentidp/modules/metering"
	"github.com/agentidp/agentidp/modules/orgs"
	"github.com/agentidp/agentidp/modules/tokens"
	"github.com/agentidp/agentidp/platform/config"
	"github.com/agentidp/agentidp/platform/testenv"
)

// allModules are the bounded contexts an organization's life goes through.
func allModules() fx.Option {
	return fx.Options(orgs.Module, apis.Module, agents.Module, credentials.Module, audit.Module, metering.Module, tokens.Module)
}

// orgAdminScopes are an organization's first admin's scopes: every scope of the server's
// API but the root-only orgs:admin and keys:admin.
var orgAdminScopes = []string{"agents:read", "agents:write", "credentials:read", "credentials:write",
	"tokens:introspect", "tokens:revoke", "audit:read", "usage:read", "apis:read", "apis:write"}

// env is one started app with every module on one backend, the bootstrapped root admin,
// and every log line captured (unredacted) for leak checks.
type env struct {
	t       testing.TB
	b       testenv.Backend
	cfg     *config.Config
	url     string
	logs    *testenv.Logs
	admin   client
	rootTok string

	mu      sync.Mutex
	secrets []string // every secret handed out, for leak checks
}

// client is an agent with one credential.
type client struct {
	ID, Secret, CredentialID string
}

func newEnv(t testing.TB, b testenv.Backend, tune func(*config.Config)) *env {
	t.Helper()
	cfg := testenv.Config(t)
	if tune != nil {
		tune(cfg)
	}
	e := &env{t: t, b: b, cfg: cfg, logs: &testenv.Logs{}}
	var boot credentials.Bootstrapper
	app := testenv.NewApp(t, cfg, b, allModules(), fx.Populate(&boot),
		fx.Decorate(func(l *zap.Logger) *zap.Logger {
			capture := zapcore.NewCore(zapcore.NewJSONEncoder(zap.NewProductionEncoderConfig()), e.logs, zapcore.DebugLevel)
			return l.WithOptions(zap.WrapCore(func(c zapcore.Core) zapcore.Core { return zapcore.NewTee(c, capture) }))
		}))
	e.url = app.URL
	res, err := boot.Bootstrap(context.Background())
	if err != nil {
		t.Fatalf("bootstrap: %v", err)
	}
	e.admin = client{ID: res.ClientID, Secret: res.ClientSecret, CredentialID: res.CredentialID}
	e.remember(res.ClientSecret)
	e.rootTok = e.token(e.admin, "")
	return e
}

// replica starts another app on b (the same database), with a copy of e's configuration.
func (e *env) replica(b testenv.Backend) *env {
	e.t.Helper()
	cfg := *e.cfg
	r := &env{t: e.t, b: b, cfg: &cfg, logs: e.logs, admin: e.admin, rootTok: e.rootTok}
	r.url = testenv.NewApp(e.t, r.cfg, b, allModules()).URL
	return r
}

func (e *env) remember(s ...string) {
	e.mu.Lock()
	e.secrets = append(e.secrets, s...)
	e.mu.Unlock()
}

// response is a read HTTP answer.
type response struct {
	Status int
	Header http.Header
	Body   []byte
}

func (r response) json(t testing.TB) map[string]any {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal(r.Body, &m); err != nil {
		t.Fatalf("status %d: body is not a JSON object: %v: %s", r.Status, err, r.Body)
	}
	return m
}

// api calls a route with a bearer token ("" for none) and a body: JSON-encoded, or sent as
// it is when it is a string; none when nil.
func (e *env) api(method, path, bearer string, body any) response {
	e.t.Helper()
	var rd io.Reader
	switch v := body.(type) {
	case nil:
	case string:
		rd = strings.NewReader(v)
	default:
		raw, err := json.Marshal(v)
		if err != nil {
			e.t.Fatal(err)
		}
		rd = bytes.NewReader(raw)
	}
	req, err := http.NewRequest(method, e.url+path, rd)
	if err != nil {
		e.t.Fatal(err)
	}
	if bearer != "" {
		req.Header.Set("Authorization", "Bearer "+bearer)
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	return e.send(req)
}

func (e *env) send(req *http.Request) response {
	e.t.Helper()
	resp, err := testenv.Client.Do(req)
	if err != nil {
		e.t.Fatal(err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		e.t.Fatal(err)
	}
	return response{Status: resp.StatusCode, Header: resp.Header, Body: body}
}

// must is api that fails the test unless the status is want; it decodes a JSON answer.
func (e *env) must(want int, method, path, bearer string, body any) map[string]any {
	e.t.Helper()
	r := e.api(method, path, bearer, body)
	if r.Status != want {
		e.t.Fatalf("%s %s: status %d, want %d: %s", method, path, r.Status, want, r.Body)
	}
	if len(r.Body) == 0 {
		return nil
	}
	return r.json(e.t)
}

// problem calls a route that must fail with status and code.
func (e *env) problem(status int, code, method, path, bearer string, body any) map[string]any {
	e.t.Helper()
	m := e.must(status, method, path, bearer, body)
	if m["code"] != code {
		e.t.Fatalf("%s %s: code %v, want %s: %v", method, path, m["code"], code, m)
	}
	return m
}

// tokenResponse asks for a token with client_secret_basic.
func (e *env) tokenResponse(c client, scope string) response {
	e.t.Helper()
	form := url.Values{"grant_type": {"client_credentials"}}
	if scope != "" {
		form.Set("scope", scope)
	}
	req, err := http.NewRequest(http.MethodPost, e.url+tokens.PathToken, strings.NewReader(form.Encode()))
	if err != nil {
		e.t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Authorization", "Basic "+base64.StdEncoding.EncodeToString([]byte(url.QueryEscape(c.ID)+":"+url.QueryEscape(c.Secret))))
	return e.send(req)
}

// token gets a token for c (scope "": every allowed scope), failing the test otherwise.
func (e *env) token(c client, scope string) string {
	e.t.Helper()
	r := e.tokenResponse(c, scope)
	if r.Status != http.StatusOK {
		e.t.Fatalf("token for %s: status %d: %s", c.ID, r.Status, r.Body)
	}
	tok, _ := r.json(e.t)["access_token"].(string)
	if tok == "" {
		e.t.Fatalf("no access_token: %s", r.Body)
	}
	e.remember(tok)
	return tok
}

// active asks introspection, as the root admin, whether tok is active.
func (e *env) active(tok string) bool {
	e.t.Helper()
	req, err := http.NewRequest(http.MethodPost, e.url+tokens.PathIntrospect, strings.NewReader(url.Values{"token": {tok}}.Encode()))
	if err != nil {
		e.t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Authorization", "Bearer "+e.rootTok)
	r := e.send(req)
	if r.Status != http.StatusOK {
		e.t.Fatalf("introspection: %d %s", r.Status, r.Body)
	}
	return r.json(e.t)["active"] == true
}

// claims decodes a JWT's payload (the signature is the server's business here).
func claims(t testing.TB, tok string) map[string]any {
	t.Helper()
	parts := strings.Split(tok, ".")
	if len(parts) != 3 {
		t.Fatalf("not a JWS: %q", tok)
	}
	raw, err := base64.RawURLEncoding.DecodeString(parts[1])
	if err != nil {
		t.Fatal(err)
	}
	var m map[string]any
	if err := json.Unmarshal(raw, &m); err != nil {
		t.Fatal(err)
	}
	return m
}

// newOrg creates an organization as the root admin and returns its id and first admin.
func (e *env) newOrg(name string) (string, client) {
	e.t.Helper()
	m := e.must(http.StatusCreated, http.MethodPost, "/api/v1/orgs", e.rootTok, map[string]any{"name": name})
	org := m["org"].(map[string]any)
	adm := m["admin"].(map[string]any)
	c := client{ID: adm["client_id"].(string), Secret: adm["client_secret"].(string), CredentialID: adm["credential_id"].(string)}
	e.remember(c.Secret)
	return org["org_id"].(string), c
}

// newAgent creates an agent with the bearer (in the bearer's org) and one credential.
func (e *env) newAgent(bearer, name string, scopes []string) client {
	e.t.Helper()
	a := e.must(http.StatusCreated, http.MethodPost, "/api/v1/agents", bearer, map[string]any{"name": name, "allowed_scopes": scopes})
	id := a["agent_id"].(string)
	c := e.must(http.StatusCreated, http.MethodPost, "/api/v1/agents/"+id+"/credentials", bearer, map[string]any{})
	e.remember(c["client_secret"].(string))
	return client{ID: id, Secret: c["client_secret"].(string), CredentialID: c["credential_id"].(string)}
}

// events returns every audit event of org (as the root admin), oldest first.
func (e *env) events(org string) []audit.Event {
	e.t.Helper()
	r := e.api(http.MethodGet, "/api/v1/audit/export?org_id="+org, e.rootTok, nil)
	if r.Status != http.StatusOK {
		e.t.Fatalf("audit export: %d %s", r.Status, r.Body)
	}
	var out []audit.Event
	dec := json.NewDecoder(bytes.NewReader(r.Body))
	for dec.More() {
		var ev audit.Event
		if err := dec.Decode(&ev); err != nil {
			e.t.Fatal(err)
		}
		out = append([]audit.Event{ev}, out...)
	}
	return out
}

// noLeaks fails when a secret or token handed out appears in the logs or the audit log.
func (e *env) noLeaks() {
	e.t.Helper()
	r := e.api(http.MethodGet, "/api/v1/audit/export", e.rootTok, nil)
	logs := e.logs.String()
	e.mu.Lock()
	defer e.mu.Unlock()
	for _, s := range e.secrets {
		if strings.Contains(logs, s) {
			e.t.Errorf("a secret or token (%.12s…) is in the logs", s)
		}
		if bytes.Contains(r.Body, []byte(s)) {
			e.t.Errorf("a secret or token (%.12s…) is in the audit log", s)
		}
	}
}

// eventually polls fn until it reports true, failing after limit.
func eventually(t testing.TB, limit time.Duration, what string, fn func() bool) time.Duration {
	t.Helper()
	start := time.Now()
	for time.Since(start) < limit {
		if fn() {
			return time.Since(start)
		}
		time.Sleep(25 * time.Millisecond)
	}
	t.Fatalf("%s: not within %s", what, limit)
	return 0
}

func toJSON(t testing.TB, v any) string {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}
