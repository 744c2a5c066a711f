package httpserver_test

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/prometheus/client_golang/prometheus"
	"go.uber.org/fx/fxtest"
	"go.uber.org/zap/zaptest"

	"github.com/agentidp/agentidp/platform/config"
	"github.com/agentidp/agentidp/platform/health"
	"github.com/agentidp/agentidp/platform/httpserver"
	"github.com/agentidp/agentidp/platform/metrics"
	"github.com/agentidp/agentidp/platform/policy"
	"github.com/agentidp/agentidp/platform/reqctx"
	"github.com/agentidp/agentidp/platform/testenv"
)

type fixture struct {
	handler http.Handler
	reg     *prometheus.Registry
	bearers *testenv.Bearers
}

func newFixture(t *testing.T, mutate func(*config.Config, *httpserver.Params)) *fixture {
	t.Helper()
	cfg := testenv.Config(t)
	reg := metrics.NewRegistry()
	pol, err := policy.New(zaptest.NewLogger(t), reg)
	if err != nil {
		t.Fatal(err)
	}
	bearers := testenv.NewBearers()
	p := httpserver.Params{
		Lifecycle: fxtest.NewLifecycle(t),
		Config:    cfg,
		Log:       zaptest.NewLogger(t),
		Registry:  reg,
		Policy:    pol,
		Verifier:  bearers,
		Routes: []httpserver.Route{
			{Method: http.MethodGet, Path: "/api/v1/agents/{agent_id}", Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				httpserver.WriteJSON(w, 200, map[string]string{"caller": reqctx.ActorID(r.Context())})
			})},
			{Method: http.MethodPost, Path: "/echo", Auth: httpserver.AuthNone, Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				var body struct {
					Name string `json:"name"`
					N    int    `json:"n"`
				}
				if err := httpserver.DecodeJSON(r, &body); err != nil {
					httpserver.WriteError(w, r, nil, err)
					return
				}
				httpserver.WriteJSON(w, 200, body)
			})},
			{Method: http.MethodGet, Path: "/panic", Auth: httpserver.AuthNone, Handler: http.HandlerFunc(func(http.ResponseWriter, *http.Request) {
				panic("secret internal detail")
			})},
			{Method: http.MethodGet, Path: "/audit/{id}", Auth: httpserver.AuthNone, Handler: text("variable")},
			{Method: http.MethodGet, Path: "/audit/export", Auth: httpserver.AuthNone, Handler: text("literal")},
			{Method: http.MethodGet, Path: "/fail", Auth: httpserver.AuthNone, Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				httpserver.WriteError(w, r, nil, errors.New("pq: password authentication failed for db at 10.0.0.1"))
			})},
		},
		Checks: []health.Check{{Name: "always", Check: func(context.Context) error { return nil }}},
	}
	if mutate != nil {
		mutate(cfg, &p)
	}
	srv, err := httpserver.New(p)
	if err != nil {
		t.Fatal(err)
	}
	return &fixture{handler: srv.Handler(), reg: reg, bearers: bearers}
}

func text(s string) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { _, _ = io.WriteString(w, s) })
}

func (f *fixture) do(t *testing.T, method, path, body string, hdr ...string) *httptest.ResponseRecorder {
	t.Helper()
	req := httptest.NewRequest(method, path, strings.NewReader(body))
	for i := 0; i+1 < len(hdr); i += 2 {
		req.Header.Set(hdr[i], hdr[i+1])
	}
	rec := httptest.NewRecorder()
	f.handler.ServeHTTP(rec, req)
	return rec
}

func problem(t *testing.T, rec *httptest.ResponseRecorder) httpserver.Problem {
	t.Helper()
	if ct := rec.Header().Get("Content-Type"); ct != "application/problem+json" {
		t.Fatalf("Content-Type %q, body %s", ct, rec.Body)
	}
	var p httpserver.Problem
	if err := json.Unmarshal(rec.Body.Bytes(), &p); err != nil {
		t.Fatal(err)
	}
	if p.RequestID == "" || p.RequestID != rec.Header().Get("X-Request-Id") || p.Type == "" || p.Title == "" || p.Status != rec.Code {
		t.Fatalf("incomplete problem %+v (header id %q)", p, rec.Header().Get("X-Request-Id"))
	}
	return p
}

func TestRequestID(t *testing.T) {
	f := newFixture(t, nil)
	if got := f.do(t, "GET", "/healthz", "", "X-Request-Id", "abc-123").Header().Get("X-Request-Id"); got != "abc-123" {
		t.Fatalf("sane id not honoured: %q", got)
	}
	for _, bad := range []string{"has space", strings.Repeat("a", 200), "<script>"} {
		got := f.do(t, "GET", "/healthz", "", "X-Request-Id", bad).Header().Get("X-Request-Id")
		if got == bad || len(got) != 32 {
			t.Fatalf("insane id %q gave %q", bad, got)
		}
	}
	a := f.do(t, "GET", "/healthz", "").Header().Get("X-Request-Id")
	b := f.do(t, "GET", "/healthz", "").Header().Get("X-Request-Id")
	if a == "" || a == b {
		t.Fatalf("generated ids %q %q", a, b)
	}
}

func TestSecurityHeaders(t *testing.T) {
	rec := newFixture(t, nil).do(t, "GET", "/healthz", "")
	for h, want := range map[string]string{"X-Content-Type-Options": "nosniff", "X-Frame-Options": "DENY", "Referrer-Policy": "no-referrer"} {
		if rec.Header().Get(h) != want {
			t.Errorf("%s = %q", h, rec.Header().Get(h))
		}
	}
	if !strings.Contains(rec.Header().Get("Content-Security-Policy"), "frame-ancestors 'none'") {
		t.Errorf("CSP %q", rec.Header().Get("Content-Security-Policy"))
	}
	if rec.Header().Get("Strict-Transport-Security") != "" {
		t.Error("HSTS without TLS")
	}
}

func TestNotFoundAndMethodProblems(t *testing.T) {
	f := newFixture(t, nil)
	if p := problem(t, f.do(t, "GET", "/nope", "")); p.Status != 404 || p.Code != "not_found" {
		t.Fatalf("%+v", p)
	}
	if p := problem(t, f.do(t, "DELETE", "/echo", "")); p.Status != 405 || p.Code != "method_not_allowed" {
		t.Fatalf("%+v", p)
	}
}

func TestBodyLimit(t *testing.T) {
	f := newFixture(t, nil)
	big := `{"name":"` + strings.Repeat("x", httpserver.MaxBodyBytes) + `"}`
	if p := problem(t, f.do(t, "POST", "/echo", big, "Content-Type", "application/json")); p.Status != 413 || p.Code != "payload_too_large" {
		t.Fatalf("%+v", p)
	}
	// Without a Content-Length (chunked), the limit bites while reading.
	req := httptest.NewRequest("POST", "/echo", io.MultiReader(strings.NewReader(big)))
	req.ContentLength = -1
	rec := httptest.NewRecorder()
	f.handler.ServeHTTP(rec, req)
	if p := problem(t, rec); p.Status != 413 {
		t.Fatalf("%+v", p)
	}
}

func TestDecodeJSONErrors(t *testing.T) {
	f := newFixture(t, nil)
	cases := []struct{ body, code, field string }{
		{`{"name":`, "malformed_body", ""},
		{`[1,2]`, "malformed_body", ""},
		{`{"name":"a","extra":1}`, "validation_failed", "extra"},
		{`{"n":"seven"}`, "validation_failed", "n"},
		{`{"name":"a"}{"name":"b"}`, "malformed_body", ""},
		{``, "malformed_body", ""},
		{`{"name":` + strings.Repeat("[", 100) + strings.Repeat("]", 100) + `}`, "malformed_body", ""},
		// A repeated member name, however spelled, is refused: encoding/json keeps the last.
		{`{"name":"a","name":"b"}`, "malformed_body", ""},
		{`{"name":"a","\u006eame":"b"}`, "malformed_body", ""},
		{`{"name":"a","n":1,"n":2}`, "malformed_body", ""},
		{`{"name":"\ud800"}`, "malformed_body", ""},
		{"{\"name\":\"\xff\"}", "malformed_body", ""},
	}
	for _, c := range cases {
		p := problem(t, f.do(t, "POST", "/echo", c.body, "Content-Type", "application/json"))
		if p.Status != 400 || p.Code != c.code {
			t.Errorf("%q: %+v", c.body, p)
		}
		if c.field != "" && (len(p.Errors) != 1 || p.Errors[0].Field != c.field) {
			t.Errorf("%q: errors %+v", c.body, p.Errors)
		}
	}
	if rec := f.do(t, "POST", "/echo", `{"name":"ok","n":2}`, "Content-Type", "application/json"); rec.Code != 200 {
		t.Fatalf("good body: %d %s", rec.Code, rec.Body)
	}
	if p := problem(t, f.do(t, "POST", "/echo", `{"name":"ok"}`, "Content-Type", "text/plain")); p.Status != 415 {
		t.Fatalf("%+v", p)
	}
}

func TestPanicRecovery(t *testing.T) {
	f := newFixture(t, nil)
	rec := f.do(t, "GET", "/panic", "")
	p := problem(t, rec)
	if p.Status != 500 || p.Code != "internal_error" || strings.Contains(rec.Body.String(), "secret internal detail") {
		t.Fatalf("%d %s", rec.Code, rec.Body)
	}
	if f.do(t, "GET", "/healthz", "").Code != 200 {
		t.Fatal("server unusable after a panic")
	}
}

func TestInternalErrorsHidden(t *testing.T) {
	rec := newFixture(t, nil).do(t, "GET", "/fail", "")
	if p := problem(t, rec); p.Status != 500 || strings.Contains(rec.Body.String(), "password") {
		t.Fatalf("%s", rec.Body)
	}
}

func TestLiteralRoutesBeforeVariables(t *testing.T) {
	f := newFixture(t, nil)
	if body := f.do(t, "GET", "/audit/export", "").Body.String(); body != "literal" {
		t.Fatalf("got %q", body)
	}
	if body := f.do(t, "GET", "/audit/123", "").Body.String(); body != "variable" {
		t.Fatalf("got %q", body)
	}
}

func TestMetricsLabelledByRouteTemplate(t *testing.T) {
	f := newFixture(t, nil)
	tok := f.bearers.Issue("caller", "agents:read")
	for _, id := range []string{"a1", "b2", "c3"} {
		f.do(t, "GET", "/api/v1/agents/"+id, "", "Authorization", "Bearer "+tok)
	}
	f.do(t, "GET", "/no/such/thing", "")
	n := testenv.CounterValue(t, f.reg, `agentidp_http_requests_total`, map[string]string{"method": "GET", "route": "/api/v1/agents/{agent_id}", "status": "200"})
	if n != 3 {
		t.Fatalf("want 3 requests on the template, got %v", n)
	}
	mfs, _ := f.reg.Gather()
	for _, mf := range mfs {
		for _, m := range mf.GetMetric() {
			for _, l := range m.GetLabel() {
				if l.GetName() == "route" && (strings.Contains(l.GetValue(), "a1") || strings.Contains(l.GetValue(), "/no/such")) {
					t.Fatalf("raw path used as a label: %s", l.GetValue())
				}
			}
		}
	}
}

func TestBearerAuthAndPolicy(t *testing.T) {
	f := newFixture(t, nil)
	rec := f.do(t, "GET", "/api/v1/agents/x", "")
	if rec.Code != 401 || rec.Header().Get("WWW-Authenticate") != `Bearer realm="agentidp"` {
		t.Fatalf("missing token: %d %q", rec.Code, rec.Header().Get("WWW-Authenticate"))
	}
	rec = f.do(t, "GET", "/api/v1/agents/x", "", "Authorization", "Bearer not-a-token")
	if rec.Code != 401 || !strings.Contains(rec.Header().Get("WWW-Authenticate"), `error="invalid_token"`) {
		t.Fatalf("bad token: %d %q", rec.Code, rec.Header().Get("WWW-Authenticate"))
	}
	tok := f.bearers.Issue("caller", "audit:read")
	rec = f.do(t, "GET", "/api/v1/agents/x", "", "Authorization", "Bearer "+tok)
	if rec.Code != 403 || !strings.Contains(rec.Header().Get("WWW-Authenticate"), `error="insufficient_scope", scope="agents:read"`) {
		t.Fatalf("wrong scope: %d %q", rec.Code, rec.Header().Get("WWW-Authenticate"))
	}
	if p := problem(t, rec); p.Code != "insufficient_scope" {
		t.Fatalf("%+v", p)
	}
	tok = f.bearers.Issue("caller", "agents:read")
	rec = f.do(t, "GET", "/api/v1/agents/x", "", "Authorization", "bearer "+tok)
	if rec.Code != 200 || !strings.Contains(rec.Body.String(), `"caller":"caller"`) {
		t.Fatalf("good token: %d %s", rec.Code, rec.Body)
	}
	// Every answer of a protected route is the caller's own: no cache stores it.
	if cc := rec.Header().Get("Cache-Control"); cc != "no-store" {
		t.Fatalf("a protected answer has Cache-Control %q, want no-store", cc)
	}
}

func TestProtectedWithoutVerifierDenies(t *testing.T) {
	f := newFixture(t, func(_ *config.Config, p *httpserver.Params) { p.Verifier = nil })
	tok := f.bearers.Issue("caller", "agents:read")
	if rec := f.do(t, "GET", "/api/v1/agents/x", "", "Authorization", "Bearer "+tok); rec.Code != 401 {
		t.Fatalf("got %d", rec.Code)
	}
}

func TestCORS(t *testing.T) {
	f := newFixture(t, func(c *config.Config, _ *httpserver.Params) { c.CORSOrigins = []string{"https://console.example"} })
	rec := f.do(t, "OPTIONS", "/api/v1/agents/x", "", "Origin", "https://console.example", "Access-Control-Request-Method", "GET",
		"Access-Control-Request-Headers", "authorization")
	if rec.Header().Get("Access-Control-Allow-Origin") != "https://console.example" {
		t.Fatalf("preflight: %d %v", rec.Code, rec.Header())
	}
	rec = f.do(t, "GET", "/healthz", "", "Origin", "https://evil.example")
	if rec.Header().Get("Access-Control-Allow-Origin") != "" {
		t.Fatal("foreign origin allowed")
	}
}

func TestReadiness(t *testing.T) {
	f := newFixture(t, func(_ *config.Config, p *httpserver.Params) {
		p.Checks = append(p.Checks, health.Check{Name: "broken", Check: func(context.Context) error {
			return errors.New("dial tcp 10.1.2.3: secret-ish detail")
		}})
	})
	rec := f.do(t, "GET", "/readyz", "")
	if rec.Code != 503 || !strings.Contains(rec.Body.String(), `"broken":{"status":"fail"`) || strings.Contains(rec.Body.String(), "10.1.2.3") {
		t.Fatalf("%d %s", rec.Code, rec.Body)
	}
	if rec := newFixture(t, nil).do(t, "GET", "/readyz", ""); rec.Code != 200 {
		t.Fatalf("%d %s", rec.Code, rec.Body)
	}
}

func TestMetricsToken(t *testing.T) {
	f := newFixture(t, func(c *config.Config, _ *httpserver.Params) { c.MetricsToken = "m-token" })
	if rec := f.do(t, "GET", "/metrics", ""); rec.Code != 401 {
		t.Fatalf("got %d", rec.Code)
	}
	if rec := f.do(t, "GET", "/metrics", "", "Authorization", "Bearer m-token"); rec.Code != 200 {
		t.Fatalf("got %d", rec.Code)
	}
}

func TestTakenPortFailsStart(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	lc := fxtest.NewLifecycle(t)
	newFixture(t, func(c *config.Config, p *httpserver.Params) { c.HTTPAddr = ln.Addr().String(); p.Lifecycle = lc })
	err = lc.Start(context.Background())
	if err == nil || !strings.Contains(err.Error(), "AGENTIDP_HTTP_ADDR") {
		t.Fatalf("want a listen error naming the variable, got %v", err)
	}
}

func TestTrustedProxyClientIP(t *testing.T) {
	var seen string
	f := newFixture(t, func(c *config.Config, p *httpserver.Params) {
		c.TrustedProxies = []string{"192.0.2.0/24"}
		p.Routes = append(p.Routes, httpserver.Route{Method: "GET", Path: "/ip", Auth: httpserver.AuthNone, Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			seen = reqctx.InfoFrom(r.Context()).ClientIP
		})})
	})
	req := httptest.NewRequest("GET", "/ip", nil)
	req.RemoteAddr = "192.0.2.10:1234"
	req.Header.Set("X-Forwarded-For", "203.0.113.9, 198.51.100.7, 192.0.2.11")
	f.handler.ServeHTTP(httptest.NewRecorder(), req)
	if seen != "198.51.100.7" {
		t.Fatalf("behind a trusted proxy: %q", seen)
	}
	req = httptest.NewRequest("GET", "/ip", nil)
	req.RemoteAddr = "198.51.100.99:1234"
	req.Header.Set("X-Forwarded-For", "203.0.113.9")
	f.handler.ServeHTTP(httptest.NewRecorder(), req)
	if seen != "198.51.100.99" {
		t.Fatalf("untrusted peer's header believed: %q", seen)
	}
}

// A protected route without an entry in the policy's route table fails the start, whether
// the server or the handler authenticates its callers; a public one needs none.
func TestProtectedRouteWithoutPolicyEntryFailsStart(t *testing.T) {
	for _, auth := range []httpserver.Auth{httpserver.AuthBearer, httpserver.AuthInHandler} {
		_, err := newServer(t, func(p *httpserver.Params) {
			p.Routes = append(p.Routes, httpserver.Route{Method: http.MethodGet, Path: "/api/v1/unlisted", Auth: auth, Handler: text("x")})
		})
		if err == nil || !strings.Contains(err.Error(), "GET /api/v1/unlisted") {
			t.Fatalf("auth %d: %v", auth, err)
		}
	}
	if _, err := newServer(t, func(p *httpserver.Params) {
		p.Routes = append(p.Routes, httpserver.Route{Method: http.MethodGet, Path: "/api/v1/unlisted", Auth: httpserver.AuthNone, Handler: text("x")})
	}); err != nil {
		t.Fatalf("public route: %v", err)
	}
}

// An entry of the policy's route table that names no mounted protected route fails the
// full app's start (EveryPolicyRouteMounted): here every entry is mounted but one, which
// the error names, and a public route does not count as mounting it.
func TestPolicyEntryWithoutRouteFailsStart(t *testing.T) {
	pol, err := policy.New(zaptest.NewLogger(t), nil)
	if err != nil {
		t.Fatal(err)
	}
	all := pol.Routes()
	mount := func(skip string, skipAuth httpserver.Auth) *httpserver.Server {
		s, err := newServer(t, func(p *httpserver.Params) {
			p.Routes = nil
			for _, key := range all {
				method, path, _ := strings.Cut(key, " ")
				rt := httpserver.Route{Method: method, Path: path, Handler: text("x")}
				if key == skip {
					rt.Auth = skipAuth
				}
				p.Routes = append(p.Routes, rt)
			}
		})
		if err != nil {
			t.Fatal(err)
		}
		return s
	}
	if err := mount("", 0).CheckPolicyRoutes(pol); err != nil {
		t.Fatalf("every entry mounted: %v", err)
	}
	missing := "POST /api/v1/token/revoke"
	err = mount(missing, httpserver.AuthNone).CheckPolicyRoutes(pol)
	if err == nil || !strings.Contains(err.Error(), missing) || strings.Count(err.Error(), "\n") != 0 {
		t.Fatalf("one entry mounted as public: %v", err)
	}
}

// newServer builds a server like newFixture, returning New's error.
func newServer(t *testing.T, mutate func(*httpserver.Params)) (*httpserver.Server, error) {
	t.Helper()
	pol, err := policy.New(zaptest.NewLogger(t), nil)
	if err != nil {
		t.Fatal(err)
	}
	p := httpserver.Params{Lifecycle: fxtest.NewLifecycle(t), Config: testenv.Config(t), Log: zaptest.NewLogger(t),
		Registry: metrics.NewRegistry(), Policy: pol, Verifier: testenv.NewBearers()}
	mutate(&p)
	return httpserver.New(p)
}
