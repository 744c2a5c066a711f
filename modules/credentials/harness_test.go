package credentials_test

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/uptrace/bun"
	"go.uber.org/fx"
	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"

	"github.com/agentidp/agentidp/modules/agents"
	"github.com/agentidp/agentidp/modules/audit"
	"github.com/agentidp/agentidp/modules/credentials"
	"github.com/agentidp/agentidp/modules/orgs"
	"github.com/agentidp/agentidp/platform/config"
	"github.com/agentidp/agentidp/platform/testenv"
)

// otherModules are the real modules this one works with.
func otherModules() fx.Option { return fx.Options(orgs.Module, agents.Module, audit.Module) }

var allScopes = []string{
	"agents:read", "agents:write", "credentials:read", "credentials:write",
	"tokens:introspect", "tokens:revoke", "audit:read", "usage:read", "keys:admin",
	"orgs:admin", "apis:read", "apis:write",
}

// harness is one started app with the credentials module, the other modules, a bearer
// holding every scope, and every log line (debug and up, unredacted) captured.
type harness struct {
	t        testing.TB
	app      *testenv.App
	bearer   string
	verifier credentials.Verifier
	dir      credentials.Directory
	boot     credentials.Bootstrapper
	logs     *testenv.Logs
	secrets  []string
	db       *bun.DB
	bearers  *testenv.Bearers
}

func newHarness(t testing.TB, cfg *config.Config, b testenv.Backend, extra ...fx.Option) *harness {
	t.Helper()
	h := &harness{t: t, logs: &testenv.Logs{}, db: b.DB}
	bearers := testenv.NewBearers()
	h.bearers = bearers
	h.bearer = bearers.Issue("00000000-0000-4000-8000-000000000001", allScopes...)
	opts := []fx.Option{
		credentials.Module, otherModules(), bearers.Option(),
		// Every log line, unredacted, also goes to h.logs, so tests can look for leaks.
		fx.Decorate(func(l *zap.Logger) *zap.Logger {
			capture := zapcore.NewCore(zapcore.NewJSONEncoder(zap.NewProductionEncoderConfig()), h.logs, zapcore.DebugLevel)
			return l.WithOptions(zap.WrapCore(func(c zapcore.Core) zapcore.Core { return zapcore.NewTee(c, capture) }))
		}),
		fx.Populate(&h.verifier, &h.dir, &h.boot),
	}
	h.app = testenv.NewApp(t, cfg, b, append(opts, extra...)...)
	return h
}

// do sends a request with the all-scopes bearer; body is JSON-encoded unless it is a
// string (sent as is) or nil.
func (h *harness) do(method, path string, body any) (int, []byte) {
	h.t.Helper()
	return h.doAs(h.bearer, method, path, body)
}

// doAs sends a request with the bearer token tok.
func (h *harness) doAs(tok, method, path string, body any) (int, []byte) {
	h.t.Helper()
	var rd io.Reader
	switch v := body.(type) {
	case nil:
	case string:
		rd = strings.NewReader(v)
	default:
		raw, err := json.Marshal(v)
		if err != nil {
			h.t.Fatal(err)
		}
		rd = bytes.NewReader(raw)
	}
	req, err := http.NewRequest(method, h.app.URL+path, rd)
	if err != nil {
		h.t.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer "+tok)
	if rd != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := testenv.Client.Do(req)
	if err != nil {
		h.t.Fatal(err)
	}
	defer resp.Body.Close()
	out, err := io.ReadAll(resp.Body)
	if err != nil {
		h.t.Fatal(err)
	}
	return resp.StatusCode, out
}

// must sends a request and fails the test unless the status is want.
func (h *harness) must(want int, method, path string, body any) []byte {
	h.t.Helper()
	code, out := h.do(method, path, body)
	if code != want {
		h.t.Fatalf("%s %s: status %d, want %d: %s", method, path, code, want, out)
	}
	return out
}

func (h *harness) createAgent(name string) string {
	h.t.Helper()
	var a struct {
		ID string `json:"agent_id"`
	}
	decode(h.t, h.must(http.StatusCreated, http.MethodPost, "/api/v1/agents", map[string]any{"name": name}), &a)
	if a.ID == "" {
		h.t.Fatal("agent created without agent_id")
	}
	return a.ID
}

// issued is the 201 answer of create and rotate.
type issued struct {
	ClientID     string  `json:"client_id"`
	ClientSecret string  `json:"client_secret"`
	CredentialID string  `json:"credential_id"`
	SecretPrefix string  `json:"secret_prefix"`
	Status       string  `json:"status"`
	RotatedFrom  *string `json:"rotated_from"`
	ExpiresAt    *string `json:"expires_at"`
	CreatedAt    string  `json:"created_at"`
}

func (h *harness) issue(agentID string, body any) issued {
	h.t.Helper()
	var out issued
	decode(h.t, h.must(http.StatusCreated, http.MethodPost, "/api/v1/agents/"+agentID+"/credentials", body), &out)
	h.secrets = append(h.secrets, out.ClientSecret)
	return out
}

func (h *harness) rotate(agentID, credID string, body any) issued {
	h.t.Helper()
	var out issued
	decode(h.t, h.must(http.StatusCreated, http.MethodPost, "/api/v1/agents/"+agentID+"/credentials/"+credID+"/rotate", body), &out)
	h.secrets = append(h.secrets, out.ClientSecret)
	return out
}

type listed struct {
	Items []struct {
		ID          string  `json:"credential_id"`
		Status      string  `json:"status"`
		RotatedFrom *string `json:"rotated_from"`
		RevokedAt   *string `json:"revoked_at"`
		LastUsedAt  *string `json:"last_used_at"`
	} `json:"items"`
	NextCursor *string `json:"next_cursor"`
}

func (h *harness) list(agentID, query string) (listed, []byte) {
	h.t.Helper()
	raw := h.must(http.StatusOK, http.MethodGet, "/api/v1/agents/"+agentID+"/credentials"+query, nil)
	var l listed
	decode(h.t, raw, &l)
	return l, raw
}

// statusOf returns the listed status of a credential.
func (h *harness) statusOf(agentID, credID string) string {
	h.t.Helper()
	l, _ := h.list(agentID, "?limit=200")
	for _, it := range l.Items {
		if it.ID == credID {
			return it.Status
		}
	}
	h.t.Fatalf("credential %s not listed", credID)
	return ""
}

// assertNoLeaks fails when an issued secret shows in a log line or in the audit trail.
func (h *harness) assertNoLeaks(extra ...string) {
	h.t.Helper()
	var all strings.Builder
	events := h.auditEvents("")
	if len(events) == 0 {
		h.t.Fatal("no audit event recorded")
	}
	for _, e := range events {
		all.WriteString(e.Raw + "\n")
	}
	auditRaw := all.String()
	logs := h.logs.String()
	for _, s := range append(h.secrets, extra...) {
		if s == "" {
			continue
		}
		if strings.Contains(logs, s) {
			h.t.Errorf("a log line holds an issued secret (%s…)", s[:12])
		}
		if strings.Contains(auditRaw, s) {
			h.t.Errorf("the audit trail holds an issued secret (%s…)", s[:12])
		}
	}
	if strings.Contains(auditRaw, "h1$") || strings.Contains(logs, "h1$") {
		h.t.Error("a secret hash reached the logs or the audit trail")
	}
}

// auditEvent is one audit_events row as text (read straight from the table, in tests only:
// the audit module owns it).
type auditEvent struct {
	Action, AgentID, TargetType, TargetID string
	Details                               map[string]any
	Raw                                   string // every text column, joined
}

// auditEvents returns the audit rows about agentID (all rows when "").
func (h *harness) auditEvents(agentID string) []auditEvent {
	h.t.Helper()
	rows, err := h.db.QueryContext(context.Background(), `SELECT action, COALESCE(CAST(agent_id AS TEXT), ''),
		target_type, target_id, CAST(details AS TEXT), ip, user_agent, request_id FROM audit_events ORDER BY seq`)
	if err != nil {
		h.t.Fatal(err)
	}
	defer rows.Close()
	var out []auditEvent
	for rows.Next() {
		var e auditEvent
		var details, ip, ua, rid string
		if err := rows.Scan(&e.Action, &e.AgentID, &e.TargetType, &e.TargetID, &details, &ip, &ua, &rid); err != nil {
			h.t.Fatal(err)
		}
		if agentID != "" && e.AgentID != agentID {
			continue
		}
		if err := json.Unmarshal([]byte(details), &e.Details); err != nil {
			h.t.Fatalf("details %q: %v", details, err)
		}
		e.Raw = strings.Join([]string{e.Action, e.AgentID, e.TargetType, e.TargetID, details, ip, ua, rid}, " ")
		out = append(out, e)
	}
	if err := rows.Err(); err != nil {
		h.t.Fatal(err)
	}
	return out
}

func decode(t testing.TB, raw []byte, v any) {
	t.Helper()
	if err := json.Unmarshal(raw, v); err != nil {
		t.Fatalf("decoding %s: %v", raw, err)
	}
}
