package tokens_test

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

	"github.com/uptrace/bun"
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
	"github.com/agentidp/agentidp/platform/httpserver"
	"github.com/agentidp/agentidp/platform/testenv"
)

var (
	b64    = base64.RawURLEncoding
	b64std = base64.StdEncoding
)

// allModules is the full set of bounded contexts the token endpoint works with.
func allModules() fx.Option {
	return fx.Options(orgs.Module, apis.Module, agents.Module, credentials.Module, audit.Module, metering.Module, tokens.Module)
}

// env is one started app with every module on one backend, an admin client (every scope,
// bootstrapped) and every log line captured for leak checks.
type env struct {
	t        testing.TB
	b        testenv.Backend
	cfg      *config.Config
	app      *testenv.App
	admin    client
	keys     tokens.KeyAdmin
	verifier httpserver.Verifier
	grants   apis.Grants
	logs     *testenv.Logs
	secrets  []string // every secret and token handed out, for leak checks
	adminTok string
	mu       sync.Mutex
}

// client is an agent with one credential.
type client struct {
	ID, Secret, CredentialID string
}

// newEnv starts the app on b; tune adjusts the configuration first.
func newEnv(t testing.TB, b testenv.Backend, tune func(*config.Config), extra ...fx.Option) *env {
	t.Helper()
	cfg := testenv.Config(t)
	if tune != nil {
		tune(cfg)
	}
	return newEnvWith(t, b, cfg, extra...)
}

func newEnvWith(t testing.TB, b testenv.Backend, cfg *config.Config, extra ...fx.Option) *env {
	t.Helper()
	e := &env{t: t, b: b, cfg: cfg, logs: &testenv.Logs{}}
	var boot credentials.Bootstrapper
	opts := []fx.Option{allModules(), fx.Populate(&boot, &e.keys, &e.verifier, &e.grants)}
	if _, bench := t.(*testing.B); !bench {
		// Every log line, debug and up, unredacted, also goes to e.logs for leak checks
		// (not in benchmarks, which would measure the capture).
		opts = append(opts, fx.Decorate(func(l *zap.Logger) *zap.Logger {
			capture := zapcore.NewCore(zapcore.NewJSONEncoder(zap.NewProductionEncoderConfig()), e.logs, zapcore.DebugLevel)
			return l.WithOptions(zap.WrapCore(func(c zapcore.Core) zapcore.Core { return zapcore.NewTee(c, capture) }))
		}))
	}
	e.app = testenv.NewApp(t, cfg, b, append(opts, extra...)...)
	res, err := boot.Bootstrap(context.Background())
	if err != nil {
		// Another env on the same database already made the admin.
		t.Fatalf("bootstrap: %v", err)
	}
	e.admin = client{ID: res.ClientID, Secret: res.ClientSecret, CredentialID: res.CredentialID}
	e.remember(res.ClientSecret)
	return e
}

// replica starts another app on the same database and cache, as a second replica (with
// the configuration changed by tune, when not nil).
func (e *env) replica(tune func(*config.Config), extra ...fx.Option) *env {
	e.t.Helper()
	cfg := *e.cfg
	if tune != nil {
		tune(&cfg)
	}
	r := &env{t: e.t, b: e.b, cfg: &cfg, logs: &testenv.Logs{}, admin: e.admin}
	opts := []fx.Option{allModules(), fx.Populate(&r.keys, &r.verifier, &r.grants)}
	r.app = testenv.NewApp(e.t, r.cfg, e.b, append(opts, extra...)...)
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

// send does req against the app and reads the answer.
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

// post sends a form (or, with a string body and a content type, anything) to path, with
// optional headers as name/value pairs.
func (e *env) post(path string, form url.Values, headers ...string) response {
	e.t.Helper()
	return e.postRaw(path, "application/x-www-form-urlencoded", form.Encode(), headers...)
}

func (e *env) postRaw(path, contentType, body string, headers ...string) response {
	e.t.Helper()
	req, err := http.NewRequest(http.MethodPost, e.app.URL+path, strings.NewReader(body))
	if err != nil {
		e.t.Fatal(err)
	}
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	for i := 0; i+1 < len(headers); i += 2 {
		req.Header.Set(headers[i], headers[i+1])
	}
	return e.send(req)
}

// api calls a route with a bearer token ("" for none) and an optional JSON body.
func (e *env) api(method, path, bearer string, body any) response {
	e.t.Helper()
	var rd io.Reader
	if body != nil {
		raw, err := json.Marshal(body)
		if err != nil {
			e.t.Fatal(err)
		}
		rd = bytes.NewReader(raw)
	}
	req, err := http.NewRequest(method, e.app.URL+path, rd)
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

// mustAPI is api that fails the test unless the status is want.
func (e *env) mustAPI(want int, method, path, bearer string, body any) response {
	e.t.Helper()
	r := e.api(method, path, bearer, body)
	if r.Status != want {
		e.t.Fatalf("%s %s: status %d, want %d: %s", method, path, r.Status, want, r.Body)
	}
	return r
}

func basic(id, secret string) string {
	return "Basic " + base64.StdEncoding.EncodeToString([]byte(url.QueryEscape(id)+":"+url.QueryEscape(secret)))
}

// tokenResponse asks for a token with client_secret_basic.
func (e *env) tokenResponse(c client, scope, resource string) response {
	e.t.Helper()
	form := url.Values{"grant_type": {"client_credentials"}}
	if scope != "" {
		form.Set("scope", scope)
	}
	if resource != "" {
		form.Set("resource", resource)
	}
	return e.post(tokens.PathToken, form, "Authorization", basic(c.ID, c.Secret))
}

// token gets a token for c, failing the test otherwise.
func (e *env) token(c client, scope, resource string) string {
	e.t.Helper()
	r := e.tokenResponse(c, scope, resource)
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

// adminToken is a token of the admin (every scope), fetched once per env.
func (e *env) adminToken() string {
	e.mu.Lock()
	tok := e.adminTok
	e.mu.Unlock()
	if tok == "" {
		tok = e.token(e.admin, "", "")
		e.mu.Lock()
		e.adminTok = tok
		e.mu.Unlock()
	}
	return tok
}

// newClient creates an agent with the given scopes and audiences and one credential.
func (e *env) newClient(scopes, audiences []string) client {
	e.t.Helper()
	admin := e.adminToken()
	body := map[string]any{"name": "agent-" + time.Now().Format("150405.000000"), "allowed_scopes": scopes}
	if audiences != nil {
		body["allowed_audiences"] = audiences
	}
	var a struct {
		ID string `json:"agent_id"`
	}
	if err := json.Unmarshal(e.mustAPI(http.StatusCreated, http.MethodPost, "/api/v1/agents", admin, body).Body, &a); err != nil {
		e.t.Fatal(err)
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

// introspect asks about token as the admin client (client_secret_basic).
func (e *env) introspect(token string) map[string]any {
	e.t.Helper()
	r := e.post(tokens.PathIntrospect, url.Values{"token": {token}}, "Authorization", basic(e.admin.ID, e.admin.Secret))
	if r.Status != http.StatusOK {
		e.t.Fatalf("introspection: status %d: %s", r.Status, r.Body)
	}
	return r.json(e.t)
}

// active reports what introspection says of token.
func (e *env) active(token string) bool {
	e.t.Helper()
	v, _ := e.introspect(token)["active"].(bool)
	return v
}

// apiStatus is the status of GET /api/v1/agents/{id} with token.
func (e *env) apiStatus(token, agentID string) int {
	e.t.Helper()
	return e.api(http.MethodGet, "/api/v1/agents/"+agentID, token, nil).Status
}

// eventually retries cond until it holds or timeout passes.
func eventually(t testing.TB, timeout time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %s waiting for: %s", timeout, what)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// auditRow is one audit_events row (read straight from the table, in tests only).
type auditRow struct {
	Action, AgentID, TargetType, TargetID, Outcome, UserAgent string
	Details                                                   map[string]any
	Raw                                                       string
}

func auditRows(t testing.TB, db bun.IDB, action string) []auditRow {
	t.Helper()
	rows, err := db.QueryContext(context.Background(), `SELECT action, COALESCE(CAST(agent_id AS TEXT), ''),
		target_type, target_id, outcome, CAST(details AS TEXT), user_agent FROM audit_events ORDER BY seq`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var out []auditRow
	for rows.Next() {
		var r auditRow
		var details string
		if err := rows.Scan(&r.Action, &r.AgentID, &r.TargetType, &r.TargetID, &r.Outcome, &details, &r.UserAgent); err != nil {
			t.Fatal(err)
		}
		_ = json.Unmarshal([]byte(details), &r.Details)
		r.Raw = strings.Join([]string{r.Action, r.AgentID, r.TargetType, r.TargetID, details, r.UserAgent}, " ")
		if action == "" || r.Action == action {
			out = append(out, r)
		}
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	return out
}

// assertNoLeaks fails when a secret or token handed out shows in a log line or an audit row.
func (e *env) assertNoLeaks() {
	e.t.Helper()
	var all strings.Builder
	for _, r := range auditRows(e.t, e.b.DB, "") {
		all.WriteString(r.Raw + "\n")
	}
	audit, logs := all.String(), e.logs.String()
	e.mu.Lock()
	defer e.mu.Unlock()
	for _, s := range e.secrets {
		if len(s) < 20 {
			continue
		}
		// A JWT's signature alone identifies it: look for the last 40 characters too.
		probe := s[len(s)-20:]
		if strings.Contains(logs, s) || strings.Contains(logs, probe) {
			e.t.Errorf("a log line holds a secret or token (…%s)", probe[:6])
		}
		if strings.Contains(audit, s) || strings.Contains(audit, probe) {
			e.t.Errorf("an audit row holds a secret or token (…%s)", probe[:6])
		}
	}
}
