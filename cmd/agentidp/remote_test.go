package main

import (
	"bytes"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"strings"
	"testing"

	"github.com/google/uuid"
	"go.uber.org/fx"
	"go.uber.org/fx/fxevent"
	"go.uber.org/fx/fxtest"

	"github.com/agentidp/agentidp/cmd/agentidp/app"
	"github.com/agentidp/agentidp/platform/httpserver"
	"github.com/agentidp/agentidp/platform/testenv"
)

// liveServer starts the whole server in-process on 127.0.0.1 (embedded store) with a known
// bootstrap admin, and points the CLI's environment at it.
func liveServer(t *testing.T) (base, adminID, adminSecret string) {
	t.Helper()
	cfg := testenv.Config(t)
	cfg.LogLevel = "warn"
	cfg.BootstrapClientID = uuid.NewString()
	b := make([]byte, 32)
	_, _ = rand.Read(b)
	cfg.BootstrapClientSecret = "sk_live_" + base64.RawURLEncoding.EncodeToString(b)
	var srv *httpserver.Server
	a := fxtest.New(t, app.Options(cfg, fx.Populate(&srv)),
		fx.WithLogger(func() fxevent.Logger { return fxevent.NopLogger }))
	a.RequireStart()
	t.Cleanup(a.RequireStop)
	for _, k := range []string{envURL, envID, envSecret, envToken} {
		t.Setenv(k, "")
	}
	t.Setenv(envURL, srv.URL())
	return srv.URL(), cfg.BootstrapClientID, cfg.BootstrapClientSecret
}

// cli runs the command line in-process and returns its output and exit code.
func cli(t *testing.T, args ...string) (stdout string, code int) {
	t.Helper()
	var out, errOut bytes.Buffer
	root := rootCmd()
	root.SetArgs(args)
	root.SetOut(&out)
	root.SetErr(&errOut)
	err := root.Execute()
	if err != nil {
		out.WriteString("error: " + oneLine(err) + "\n")
	}
	return out.String(), exitCode(err)
}

func mustCLI(t *testing.T, args ...string) string {
	t.Helper()
	out, code := cli(t, args...)
	if code != 0 {
		t.Fatalf("agentidp %s: exit %d\n%s", strings.Join(args, " "), code, out)
	}
	return strings.TrimSpace(out)
}

// The commands over the API manage a running server: an agent, its credential, a token
// that works, introspects active and then inactive once revoked; suspension; the audit log
// lists and exports what happened; table and JSON output; the API's errors with their
// detail and exit code 1, usage errors with exit code 2.
func TestCLIOverTheAPI(t *testing.T) {
	_, adminID, adminSecret := liveServer(t)
	t.Setenv(envID, adminID)
	t.Setenv(envSecret, adminSecret)

	agentID := mustCLI(t, "agents", "create", "--name", "cli-bot", "--allowed-scopes", "agents:read,audit:read", "--field", "agent_id")
	if _, err := uuid.Parse(agentID); err != nil {
		t.Fatalf("agents create --field agent_id: %q", agentID)
	}
	if out := mustCLI(t, "agents", "list", "--q", "cli-bot"); !strings.Contains(out, "AGENT_ID") || !strings.Contains(out, agentID) || !strings.Contains(out, "agents:read,audit:read") {
		t.Fatalf("agents list table:\n%s", out)
	}
	var page struct {
		Items      []map[string]any `json:"items"`
		NextCursor *string          `json:"next_cursor"`
	}
	if err := json.Unmarshal([]byte(mustCLI(t, "agents", "list", "-o", "json", "--limit", "1")), &page); err != nil || len(page.Items) != 1 || page.NextCursor == nil {
		t.Fatalf("agents list -o json --limit 1: %+v, %v", page, err)
	}
	if out := mustCLI(t, "agents", "update", agentID, "--owner", "team-cli", "--field", "owner"); out != "team-cli" {
		t.Fatalf("agents update: %q", out)
	}

	var cred map[string]any
	if err := json.Unmarshal([]byte(mustCLI(t, "credentials", "create", agentID, "-o", "json")), &cred); err != nil {
		t.Fatal(err)
	}
	secret, _ := cred["client_secret"].(string)
	credID, _ := cred["credential_id"].(string)
	if !strings.HasPrefix(secret, "sk_live_") || cred["client_id"] != agentID {
		t.Fatalf("credentials create: %v", cred)
	}
	if out := mustCLI(t, "credentials", "list", agentID); !strings.Contains(out, credID) || strings.Contains(out, secret) {
		t.Fatalf("credentials list:\n%s", out)
	}

	token := mustCLI(t, "token", "get", "--client-id", agentID, "--client-secret", secret, "--field", "access_token")
	if got := mustCLI(t, "agents", "get", agentID, "--token", token, "--field", "name"); got != "cli-bot" {
		t.Fatalf("agents get with the agent's own token: %q", got)
	}
	if got := mustCLI(t, "token", "introspect", token, "--field", "active"); got != "true" {
		t.Fatalf("introspect: %q", got)
	}
	mustCLI(t, "token", "revoke", token)
	if got := mustCLI(t, "token", "introspect", token, "--field", "active"); got != "false" {
		t.Fatalf("introspect after revoke: %q", got)
	}
	if out, code := cli(t, "agents", "get", agentID, "--token", token); code != 1 || !strings.Contains(out, "401") || !strings.Contains(out, "invalid_token") {
		t.Fatalf("a revoked token: exit %d\n%s", code, out)
	}

	// An agent revokes its own token with its client credentials, without any scope for it.
	own := mustCLI(t, "token", "get", "--client-id", agentID, "--client-secret", secret, "--field", "access_token")
	mustCLI(t, "token", "revoke", own, "--as-client", "--client-id", agentID, "--client-secret", secret)
	if got := mustCLI(t, "token", "introspect", own, "--field", "active"); got != "false" {
		t.Fatalf("introspect after the agent revoked its own token: %q", got)
	}

	if got := mustCLI(t, "agents", "suspend", agentID, "--field", "status"); got != "suspended" {
		t.Fatalf("suspend: %q", got)
	}
	if out, code := cli(t, "token", "get", "--client-id", agentID, "--client-secret", secret); code != 1 || !strings.Contains(out, "invalid_client") {
		t.Fatalf("token for a suspended agent: exit %d\n%s", code, out)
	}
	mustCLI(t, "credentials", "revoke", agentID, credID)
	if out := mustCLI(t, "agents", "delete", agentID); out != "agent decommissioned" {
		t.Fatalf("agents delete: %q", out)
	}

	if out := mustCLI(t, "audit", "list", "--agent-id", agentID); !strings.Contains(out, "agent.created") || !strings.Contains(out, "token.revoked") || !strings.Contains(out, "agent.decommissioned") {
		t.Fatalf("audit list:\n%s", out)
	}
	export := mustCLI(t, "audit", "export", "--agent-id", agentID, "--action", "credential.created")
	if lines := strings.Split(export, "\n"); len(lines) != 1 || !strings.Contains(lines[0], `"credential.created"`) {
		t.Fatalf("audit export:\n%s", export)
	}

	// Orgs and APIs.
	orgAdminSecret := mustCLI(t, "orgs", "create", "--name", "team-cli", "--field", "admin.client_secret")
	if !strings.HasPrefix(orgAdminSecret, "sk_live_") {
		t.Fatalf("orgs create --field admin.client_secret: %q", orgAdminSecret)
	}
	if out := mustCLI(t, "orgs", "list", "--q", "team-cli"); !strings.Contains(out, "team-cli") {
		t.Fatalf("orgs list:\n%s", out)
	}
	apiID := mustCLI(t, "apis", "create", "--identifier", "https://billing.example.com", "--name", "Billing",
		"--scope", "invoices:read=read invoices", "--scope", "invoices:write", "--field", "api_id")
	if got := mustCLI(t, "apis", "get", apiID, "--field", "scopes.0.value"); got != "invoices:read" {
		t.Fatalf("apis get scopes: %q", got)
	}
	if got := mustCLI(t, "apis", "update", apiID, "--name", "Billing 2", "--field", "name"); got != "Billing 2" {
		t.Fatalf("apis update: %q", got)
	}
	mustCLI(t, "apis", "delete", apiID)

	// Errors: the API's (exit 1, with the problem's detail and fields), usage (exit 2).
	if out, code := cli(t, "agents", "get", uuid.NewString()); code != 1 || !strings.Contains(out, "404") || !strings.Contains(out, "no agent") {
		t.Fatalf("unknown agent: exit %d\n%s", code, out)
	}
	if out, code := cli(t, "agents", "create", "--name", "x", "--allowed-scopes", "nope"); code != 1 || !strings.Contains(out, "allowed_scopes[0]") {
		t.Fatalf("bad scope: exit %d\n%s", code, out)
	}
	for _, bad := range [][]string{
		{"agents", "get"}, {"agents", "frobnicate"}, {"agents"}, {"agents", "list", "--bogus"},
		{"agents", "list", "-o", "yaml"}, {"agents", "create", "--metadata", "{"}, {"frobnicate"},
	} {
		if out, code := cli(t, bad...); code != 2 {
			t.Fatalf("agentidp %v: exit %d, want 2 (usage)\n%s", bad, code, out)
		}
	}
	t.Setenv(envID, "")
	t.Setenv(envSecret, "")
	if out, code := cli(t, "agents", "list"); code != 2 || !strings.Contains(out, "AGENTIDP_CLIENT_ID") {
		t.Fatalf("no credentials: exit %d\n%s", code, out)
	}
	if out, code := cli(t, "agents", "list", "--url", "http://127.0.0.1:1"); code != 2 && code != 1 {
		t.Fatalf("unreachable: exit %d\n%s", code, out)
	}
}
