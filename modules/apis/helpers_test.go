package apis_test

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/uptrace/bun"
	"go.uber.org/fx"

	"github.com/agentidp/agentidp/modules/apis"
	"github.com/agentidp/agentidp/modules/audit"
	"github.com/agentidp/agentidp/modules/orgs"
	"github.com/agentidp/agentidp/platform/apperr"
	"github.com/agentidp/agentidp/platform/config"
	"github.com/agentidp/agentidp/platform/testenv"
)

// env is one started app with the orgs, apis and audit modules, over HTTP, with test
// bearers: admin (apis:read, apis:write) and reader (apis:read) in root, and the same two
// in a second organization, other.
type env struct {
	t       *testing.T
	b       testenv.Backend
	cfg     *config.Config
	url     string
	bearers *testenv.Bearers
	admin   string
	reader  string
	auditor string
	// operator holds orgs:admin besides the API scopes (root).
	operator string
	// other is a second organization, made in the table; otherAdmin and otherReader are its
	// callers.
	other       string
	otherAdmin  string
	otherReader string
	grants      apis.Grants
	dir         apis.Directory
}

func newEnv(t *testing.T, b testenv.Backend, tweak func(*config.Config)) *env {
	t.Helper()
	cfg := testenv.Config(t)
	if tweak != nil {
		tweak(cfg)
	}
	e := &env{t: t, b: b, cfg: cfg, bearers: testenv.NewBearers()}
	e.admin = e.bearers.Issue(uuid.NewString(), "apis:read", "apis:write")
	e.reader = e.bearers.Issue(uuid.NewString(), "apis:read")
	e.auditor = e.bearers.Issue(uuid.NewString(), "audit:read")
	e.operator = e.bearers.Issue(uuid.NewString(), "apis:read", "apis:write", "orgs:admin")
	app := testenv.NewApp(t, cfg, b, orgs.Module, apis.Module, audit.Module, e.bearers.Option(),
		fx.Populate(&e.grants, &e.dir))
	e.url = app.URL
	e.other = insertOrg(t, b.DB, "other-"+uuid.NewString()[:8])
	e.otherAdmin = e.bearers.IssueIn(e.other, uuid.NewString(), "apis:read", "apis:write")
	e.otherReader = e.bearers.IssueIn(e.other, uuid.NewString(), "apis:read")
	return e
}

// insertOrg writes an organization straight into the orgs table (testenv.InsertOrg).
func insertOrg(t testing.TB, db bun.IDB, name string) string { return testenv.InsertOrg(t, db, name) }

// response is an HTTP answer, read.
type response struct {
	Status int
	Header http.Header
	Body   []byte
}

// problem is an application/problem+json body.
type problem struct {
	Status int                 `json:"status"`
	Code   string              `json:"code"`
	Detail string              `json:"detail"`
	Errors []apperr.FieldError `json:"errors"`
}

// apiJSON is an API as answered.
type apiJSON struct {
	ID              string       `json:"api_id"`
	OrgID           *string      `json:"org_id"`
	Identifier      string       `json:"identifier"`
	Name            string       `json:"name"`
	Scopes          []apis.Scope `json:"scopes"`
	TokenTTLSeconds *int64       `json:"token_ttl_seconds"`
	RequireDPoP     bool         `json:"require_dpop"`
	Builtin         bool         `json:"builtin"`
	CreatedAt       time.Time    `json:"created_at"`
	UpdatedAt       time.Time    `json:"updated_at"`
}

// do sends a request; body is sent as is when it is a string, else as JSON.
func (e *env) do(method, path, token string, body any) response {
	e.t.Helper()
	var rd io.Reader
	switch b := body.(type) {
	case nil:
	case string:
		rd = strings.NewReader(b)
	default:
		raw, err := json.Marshal(b)
		if err != nil {
			e.t.Fatal(err)
		}
		rd = bytes.NewReader(raw)
	}
	req, err := http.NewRequest(method, e.url+path, rd)
	if err != nil {
		e.t.Fatal(err)
	}
	if rd != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := testenv.Client.Do(req)
	if err != nil {
		e.t.Fatalf("%s %s: %v", method, path, err)
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(resp.Body)
	if err != nil {
		e.t.Fatal(err)
	}
	return response{Status: resp.StatusCode, Header: resp.Header, Body: raw}
}

// api decodes an API answer with the wanted status.
func (r response) api(t testing.TB, want int) apiJSON {
	t.Helper()
	if r.Status != want {
		t.Fatalf("status %d, want %d: %s", r.Status, want, r.Body)
	}
	var a apiJSON
	if err := json.Unmarshal(r.Body, &a); err != nil {
		t.Fatalf("decoding api: %v: %s", err, r.Body)
	}
	return a
}

// problem decodes a problem answer with the wanted status and code.
func (r response) problem(t testing.TB, status int, code string) problem {
	t.Helper()
	if r.Status != status {
		t.Fatalf("status %d, want %d: %s", r.Status, status, r.Body)
	}
	if ct := r.Header.Get("Content-Type"); ct != "application/problem+json" {
		t.Fatalf("Content-Type %q, want application/problem+json", ct)
	}
	var p problem
	if err := json.Unmarshal(r.Body, &p); err != nil {
		t.Fatalf("decoding problem: %v: %s", err, r.Body)
	}
	if p.Code != code {
		t.Fatalf("code %q, want %q: %s", p.Code, code, r.Body)
	}
	return p
}

// fields returns the bad fields a validation problem names.
func (p problem) fields() map[string]string {
	m := map[string]string{}
	for _, f := range p.Errors {
		m[f.Field] = f.Message
	}
	return m
}

// create registers an API with token and returns it.
func (e *env) create(token string, body map[string]any) apiJSON {
	e.t.Helper()
	return e.do(http.MethodPost, apis.PathAPIs, token, body).api(e.t, http.StatusCreated)
}

// listPage is one page of the APIs list.
type listPage struct {
	Items      []apiJSON `json:"items"`
	NextCursor *string   `json:"next_cursor"`
}

func (e *env) list(token, query string) listPage {
	e.t.Helper()
	r := e.do(http.MethodGet, apis.PathAPIs+query, token, nil)
	if r.Status != http.StatusOK {
		e.t.Fatalf("list %s: %d %s", query, r.Status, r.Body)
	}
	var p listPage
	if err := json.Unmarshal(r.Body, &p); err != nil {
		e.t.Fatal(err)
	}
	return p
}

// identifiers lists the identifiers of a page.
func identifiers(p listPage) []string {
	out := make([]string, len(p.Items))
	for i, a := range p.Items {
		out[i] = a.Identifier
	}
	return out
}

// event is one audit event as the audit API answers it.
type event struct {
	Action     string         `json:"action"`
	TargetType string         `json:"target_type"`
	TargetID   string         `json:"target_id"`
	Details    map[string]any `json:"details"`
}

// events returns the audit events with action, oldest first.
func (e *env) events(action string) []event {
	e.t.Helper()
	r := e.do(http.MethodGet, "/api/v1/audit?limit=200&action="+action, e.auditor, nil)
	if r.Status != http.StatusOK {
		e.t.Fatalf("audit: %d %s", r.Status, r.Body)
	}
	var p struct {
		Items []event `json:"items"`
	}
	if err := json.Unmarshal(r.Body, &p); err != nil {
		e.t.Fatal(err)
	}
	out := make([]event, 0, len(p.Items))
	for i := len(p.Items) - 1; i >= 0; i-- {
		out = append(out, p.Items[i])
	}
	return out
}

// setGrants sets an agent's grants through the Grants interface, as the agents module
// does inside its transaction.
func (e *env) setGrants(org, agent string, grants []apis.Grant) ([]apis.Grant, error) {
	e.t.Helper()
	var before []apis.Grant
	err := e.b.DB.RunInTx(context.Background(), nil, func(ctx context.Context, tx bun.Tx) error {
		var err error
		before, _, err = e.grants.SetInTx(ctx, tx, org, agent, grants)
		return err
	})
	if err == nil {
		e.grants.Committed(context.Background(), agent)
	}
	return before, err
}

// grantsOf reads an agent's grants through the Grants interface.
func (e *env) grantsOf(agent string) []apis.Grant {
	e.t.Helper()
	g, err := e.grants.Of(context.Background(), agent)
	if err != nil {
		e.t.Fatal(err)
	}
	return g
}

// scopes builds API scopes from their values.
func scopes(values ...string) []map[string]string {
	out := make([]map[string]string, len(values))
	for i, v := range values {
		out[i] = map[string]string{"value": v, "description": "scope " + v}
	}
	return out
}
