package agents

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/uptrace/bun"
	"go.uber.org/fx"

	"github.com/agentidp/agentidp/modules/apis"
	"github.com/agentidp/agentidp/modules/audit"
	"github.com/agentidp/agentidp/modules/orgs"
	"github.com/agentidp/agentidp/platform/apperr"
	"github.com/agentidp/agentidp/platform/audittrail"
	"github.com/agentidp/agentidp/platform/config"
	"github.com/agentidp/agentidp/platform/reqctx"
	"github.com/agentidp/agentidp/platform/testenv"
)

// fakeRecorder is an audittrail.Recorder that writes each event into the test table
// test_audit_events through the caller's transaction, so that tests can see that an event
// commits or rolls back with its change. fail makes the next RecordTx calls fail.
type fakeRecorder struct {
	db   *bun.DB
	seq  atomic.Int64
	fail atomic.Bool
}

// auditRow is one row of test_audit_events.
type auditRow struct {
	bun.BaseModel `bun:"table:test_audit_events"`
	Seq           int64  `bun:"seq,pk"`
	Action        string `bun:"action"`
	AgentID       string `bun:"agent_id"`
	TargetType    string `bun:"target_type"`
	TargetID      string `bun:"target_id"`
	ActorID       string `bun:"actor_id"`
	Outcome       string `bun:"outcome"`
	Details       string `bun:"details"`
}

const fakeAuditDDL = `CREATE TABLE test_audit_events (
	seq BIGINT PRIMARY KEY, action TEXT NOT NULL, agent_id TEXT NOT NULL, target_type TEXT NOT NULL,
	target_id TEXT NOT NULL, actor_id TEXT NOT NULL, outcome TEXT NOT NULL, details TEXT NOT NULL)`

func newFakeRecorder(t testing.TB, db *bun.DB) *fakeRecorder {
	t.Helper()
	if _, err := db.ExecContext(context.Background(), fakeAuditDDL); err != nil {
		t.Fatalf("creating test_audit_events: %v", err)
	}
	return &fakeRecorder{db: db}
}

var errRecorderDown = errors.New("fake recorder: failing on purpose")

func (r *fakeRecorder) row(ctx context.Context, e audittrail.Event) (*auditRow, error) {
	if r.fail.Load() {
		return nil, errRecorderDown
	}
	details, err := json.Marshal(e.Details)
	if err != nil {
		return nil, err
	}
	actor := e.ActorID
	if actor == "" {
		actor = reqctx.ActorID(ctx)
	}
	outcome := e.Outcome
	if outcome == "" {
		outcome = audittrail.Success
	}
	return &auditRow{Seq: r.seq.Add(1), Action: e.Action, AgentID: e.AgentID, TargetType: e.TargetType,
		TargetID: e.TargetID, ActorID: actor, Outcome: outcome, Details: string(details)}, nil
}

func (r *fakeRecorder) RecordTx(ctx context.Context, tx bun.Tx, e audittrail.Event) error {
	row, err := r.row(ctx, e)
	if err != nil {
		return err
	}
	_, err = tx.NewInsert().Model(row).Exec(ctx)
	return err
}

func (r *fakeRecorder) Record(ctx context.Context, e audittrail.Event) error {
	row, err := r.row(ctx, e)
	if err != nil {
		return err
	}
	_, err = r.db.NewInsert().Model(row).Exec(ctx)
	return err
}

// events returns the recorded events about agentID, oldest first.
func (r *fakeRecorder) events(t testing.TB, agentID string) []auditRow {
	t.Helper()
	var rows []auditRow
	q := r.db.NewSelect().Model(&rows).Order("seq")
	if agentID != "" {
		q = q.Where("agent_id = ?", agentID)
	}
	if err := q.Scan(context.Background()); err != nil {
		t.Fatalf("reading test_audit_events: %v", err)
	}
	return rows
}

// env is one started app with the agents module, over HTTP.
type env struct {
	t       *testing.T
	b       testenv.Backend
	cfg     *config.Config
	url     string
	adminID string
	admin   string // bearer of a root operator holding every scope (as the bootstrap admin)
	reader  string // bearer with agents:read only
	bearers *testenv.Bearers
	auditor string        // bearer with audit:read (real audit module only)
	rec     *fakeRecorder // nil when the real audit module records
	dir     Directory
	lc      Lifecycle
	prov    Provisioner
}

// everyScope are the server's scopes, all of which the bootstrap admin holds.
var everyScope = []string{"agents:read", "agents:write", "credentials:read", "credentials:write", "tokens:introspect",
	"tokens:revoke", "audit:read", "usage:read", "keys:admin", "orgs:admin", "apis:read", "apis:write"}

// newEnv starts the module on b with the real audit module as its Recorder; tweak adjusts
// the configuration first.
func newEnv(t *testing.T, b testenv.Backend, tweak func(*config.Config), opts ...fx.Option) *env {
	t.Helper()
	return startEnv(t, b, tweak, nil, opts...)
}

// newFakeEnv starts the module on b with a fakeRecorder (which tests can make fail).
func newFakeEnv(t *testing.T, b testenv.Backend, tweak func(*config.Config), opts ...fx.Option) *env {
	t.Helper()
	return startEnv(t, b, tweak, newFakeRecorder(t, b.DB), opts...)
}

func startEnv(t *testing.T, b testenv.Backend, tweak func(*config.Config), rec *fakeRecorder, opts ...fx.Option) *env {
	t.Helper()
	cfg := testenv.Config(t)
	if tweak != nil {
		tweak(cfg)
	}
	e := &env{t: t, b: b, cfg: cfg, bearers: testenv.NewBearers(), rec: rec}
	e.adminID = uuid.NewString()
	e.admin = e.bearers.Issue(e.adminID, everyScope...)
	e.reader = e.bearers.Issue(uuid.NewString(), "agents:read")
	e.auditor = e.bearers.Issue(uuid.NewString(), "audit:read", "orgs:admin") // every org's events, and verify
	recorder := audit.Module
	if rec != nil {
		recorder = fx.Provide(func() audittrail.Recorder { return rec })
	}
	app := testenv.NewApp(t, cfg, b,
		orgs.Module,
		apis.Module,
		Module,
		recorder,
		e.bearers.Option(),
		fx.Populate(&e.dir, &e.lc, &e.prov),
		fx.Options(opts...),
	)
	e.url = app.URL
	return e
}

// events returns the audit events about agentID (every event when agentID is ""), oldest
// first: from the audit module's API, or from the fake recorder's table.
func (e *env) events(agentID string) []auditRow {
	e.t.Helper()
	if e.rec != nil {
		return e.rec.events(e.t, agentID)
	}
	path := "/api/v1/audit?limit=200"
	if agentID != "" {
		path += "&agent_id=" + agentID
	}
	r := e.do(http.MethodGet, path, e.auditor, nil)
	if r.Status != http.StatusOK {
		e.t.Fatalf("audit list: %d %s", r.Status, r.Body)
	}
	var page struct {
		Items []audit.Event `json:"items"`
	}
	if err := json.Unmarshal(r.Body, &page); err != nil {
		e.t.Fatal(err)
	}
	out := make([]auditRow, 0, len(page.Items))
	for i := len(page.Items) - 1; i >= 0; i-- {
		ev := page.Items[i]
		out = append(out, auditRow{Seq: ev.Seq, Action: ev.Action, AgentID: deref(ev.AgentID), TargetType: ev.TargetType,
			TargetID: ev.TargetID, ActorID: deref(ev.ActorID), Outcome: ev.Outcome, Details: string(ev.Details)})
	}
	return out
}

// actions returns the actions recorded about agentID, oldest first.
func (e *env) actions(agentID string) []string {
	var out []string
	for _, ev := range e.events(agentID) {
		out = append(out, ev.Action)
	}
	return out
}

// verifyChain asks the audit module to check its hash chain (real audit module only).
func (e *env) verifyChain() {
	e.t.Helper()
	if e.rec != nil {
		return
	}
	r := e.do(http.MethodGet, "/api/v1/audit/verify", e.auditor, nil)
	if r.Status != http.StatusOK || !bytes.Contains(r.Body, []byte(`"ok":true`)) {
		e.t.Errorf("audit chain: %d %s", r.Status, r.Body)
	}
}

func deref(s *string) string {
	if s == nil {
		return ""
	}
	return *s
}

// response is an HTTP answer, read.
type response struct {
	Status int
	Header http.Header
	Body   []byte
}

// problem is an application/problem+json body.
type problem struct {
	Type   string              `json:"type"`
	Status int                 `json:"status"`
	Code   string              `json:"code"`
	Detail string              `json:"detail"`
	Errors []apperr.FieldError `json:"errors"`
}

// do sends a request; body is sent as is when it is a string or []byte, else as JSON.
func (e *env) do(method, path, token string, body any) response {
	e.t.Helper()
	var rd io.Reader
	switch b := body.(type) {
	case nil:
	case string:
		rd = strings.NewReader(b)
	case []byte:
		rd = bytes.NewReader(b)
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

// agent decodes an agent answer with the wanted status.
func (r response) agent(t testing.TB, want int) *Agent {
	t.Helper()
	if r.Status != want {
		t.Fatalf("status %d, want %d: %s", r.Status, want, r.Body)
	}
	var a Agent
	if err := json.Unmarshal(r.Body, &a); err != nil {
		t.Fatalf("decoding agent: %v: %s", err, r.Body)
	}
	return &a
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

// fieldsOf returns the bad fields a validation problem names.
func (p problem) fieldsOf() map[string]string {
	m := map[string]string{}
	for _, f := range p.Errors {
		m[f.Field] = f.Message
	}
	return m
}

// create makes an agent through the API and returns it.
func (e *env) create(body map[string]any) *Agent {
	e.t.Helper()
	return e.do(http.MethodPost, "/api/v1/agents", e.admin, body).agent(e.t, http.StatusCreated)
}

// listPage is a decoded list answer.
type listPage struct {
	Items      []Agent `json:"items"`
	NextCursor *string `json:"next_cursor"`
}

func (e *env) list(query string) listPage {
	e.t.Helper()
	r := e.do(http.MethodGet, "/api/v1/agents"+query, e.admin, nil)
	if r.Status != http.StatusOK {
		e.t.Fatalf("list %s: status %d: %s", query, r.Status, r.Body)
	}
	if !bytes.Contains(r.Body, []byte(`"next_cursor":`)) {
		e.t.Fatalf("list %s: next_cursor missing: %s", query, r.Body)
	}
	var p listPage
	if err := json.Unmarshal(r.Body, &p); err != nil {
		e.t.Fatal(err)
	}
	return p
}

// listAll follows next_cursor to the end and returns every name in order.
func (e *env) listAll(query string, limit int) []Agent {
	e.t.Helper()
	sep := "?"
	if query != "" {
		sep = "&"
	}
	var all []Agent
	cur := ""
	for range 1000 {
		q := fmt.Sprintf("%s%slimit=%d", query, sep, limit)
		if cur != "" {
			q += "&cursor=" + cur
		}
		p := e.list(q)
		if len(p.Items) > limit {
			e.t.Fatalf("page of %d items, limit %d", len(p.Items), limit)
		}
		all = append(all, p.Items...)
		if p.NextCursor == nil {
			return all
		}
		cur = *p.NextCursor
	}
	e.t.Fatal("pagination does not end")
	return nil
}

func names(as []Agent) []string {
	out := make([]string, len(as))
	for i, a := range as {
		out[i] = a.Name
	}
	return out
}

// eventually polls cond every 10 ms until it holds or d has passed.
func eventually(d time.Duration, cond func() bool) bool {
	deadline := time.Now().Add(d)
	for {
		if cond() {
			return true
		}
		if time.Now().After(deadline) {
			return false
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// parallel runs fn n times concurrently and waits.
func parallel(n int, fn func(i int)) {
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() { fn(i) })
	}
	wg.Wait()
}
