package app_test

import (
	"bufio"
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"
	"go.uber.org/fx"
	"go.uber.org/fx/fxevent"
	"go.uber.org/fx/fxtest"
	"golang.org/x/oauth2/clientcredentials"

	"github.com/agentidp/agentidp/cmd/agentidp/app"
	"github.com/agentidp/agentidp/modules/credentials"
	"github.com/agentidp/agentidp/platform/config"
	"github.com/agentidp/agentidp/platform/httpserver"
	"github.com/agentidp/agentidp/platform/testenv"
)

// fullApp starts the whole server (every module) on the configured stores.
func fullApp(t *testing.T, cfg *config.Config) (base string, boot *credentials.BootstrapResult, logs *testenv.Logs) {
	t.Helper()
	logs = &testenv.Logs{}
	var srv *httpserver.Server
	// AutoBootstrap (part of the serving app) creates the admin from these on start.
	cfg.BootstrapClientID = uuid.NewString()
	cfg.BootstrapClientSecret = newSecret()
	a := fxtest.New(t,
		app.Options(cfg,
			fx.Decorate(logs.Logger), // deliberately unredacted
			fx.Populate(&srv),
		),
		fx.WithLogger(func() fxevent.Logger { return fxevent.NopLogger }),
	)
	a.RequireStart()
	t.Cleanup(a.RequireStop)
	boot = &credentials.BootstrapResult{ClientID: cfg.BootstrapClientID, ClientSecret: cfg.BootstrapClientSecret}
	return srv.URL(), boot, logs
}

func newSecret() string {
	b := make([]byte, 32)
	_, _ = rand.Read(b)
	return "sk_live_" + base64.RawURLEncoding.EncodeToString(b)
}

type api struct {
	t     *testing.T
	base  string
	token string
}

func (a api) do(method, path, body string, want int) map[string]any {
	a.t.Helper()
	req, _ := http.NewRequest(method, a.base+path, strings.NewReader(body))
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	req.Header.Set("Authorization", "Bearer "+a.token)
	resp, err := testenv.Client.Do(req)
	if err != nil {
		a.t.Fatal(err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != want {
		a.t.Fatalf("%s %s: %d, want %d: %s", method, path, resp.StatusCode, want, raw)
	}
	out := map[string]any{}
	_ = json.Unmarshal(raw, &out)
	return out
}

func form(t *testing.T, base, path string, vals url.Values, user, pass, bearer string) (int, map[string]any) {
	t.Helper()
	req, _ := http.NewRequest(http.MethodPost, base+path, strings.NewReader(vals.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	if user != "" {
		req.SetBasicAuth(url.QueryEscape(user), url.QueryEscape(pass))
	}
	if bearer != "" {
		req.Header.Set("Authorization", "Bearer "+bearer)
	}
	resp, err := testenv.Client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	out := map[string]any{}
	_ = json.NewDecoder(resp.Body).Decode(&out)
	return resp.StatusCode, out
}

// TestIntegrationScenarioLeaksNothing drives a whole agent's life through the public API
// with a stock OAuth client, on both stores, then scans every audit event (the NDJSON
// export) and every log line for the secrets and tokens the scenario handled. It also
// checks the audit chain verifies and the expected actions were recorded.
func TestIntegrationScenarioLeaksNothing(t *testing.T) {
	for _, backend := range []string{"postgres", "sqlite"} {
		t.Run(backend, func(t *testing.T) {
			cfg := testenv.Config(t)
			if backend == "postgres" {
				cfg.DatabaseURL = testenv.PostgresURL(t)
				_, prefix := testenv.RedisClient(t)
				cfg.RedisURL, cfg.RedisKeyPrefix = testenv.RedisURL(), prefix
			}
			cfg.AutoMigrate = true
			base, boot, logs := fullApp(t, cfg)
			var secrets []string
			secrets = append(secrets, boot.ClientSecret)

			// A stock OAuth client gets the admin a token.
			cc := clientcredentials.Config{ClientID: boot.ClientID, ClientSecret: boot.ClientSecret, TokenURL: base + "/api/v1/token"}
			tok, err := cc.Token(context.Background())
			if err != nil {
				t.Fatalf("x/oauth2 client credentials: %v", err)
			}
			secrets = append(secrets, tok.AccessToken)
			admin := api{t: t, base: base, token: tok.AccessToken}

			agent := admin.do("POST", "/api/v1/agents", `{"name":"scenario","allowed_scopes":["agents:read","tokens:revoke"],"allowed_audiences":["https://api.example.com"]}`, 201)
			id := agent["agent_id"].(string)
			cred := admin.do("POST", "/api/v1/agents/"+id+"/credentials", ``, 201)
			secret := cred["client_secret"].(string)
			secrets = append(secrets, secret)

			// A token for an allowed audience without a registered API: it carries no scope.
			code, issued := form(t, base, "/api/v1/token", url.Values{"grant_type": {"client_credentials"}, "resource": {"https://api.example.com"}}, id, secret, "")
			if code != 200 || issued["scope"] != "" {
				t.Fatalf("agent token: %d %v", code, issued)
			}
			agentTok := issued["access_token"].(string)
			secrets = append(secrets, agentTok)
			if code, _ := form(t, base, "/api/v1/token", url.Values{"grant_type": {"client_credentials"}}, id, secret+"x", ""); code != 401 {
				t.Fatalf("wrong secret: %d", code)
			}
			code, intro := form(t, base, "/api/v1/token/introspect", url.Values{"token": {agentTok}}, "", "", admin.token)
			if code != 200 || intro["active"] != true {
				t.Fatalf("introspect: %d %v", code, intro)
			}
			if code, _ := form(t, base, "/api/v1/token/revoke", url.Values{"token": {agentTok}}, id, secret, ""); code != 200 {
				t.Fatalf("revoke: %d", code)
			}
			if _, intro := form(t, base, "/api/v1/token/introspect", url.Values{"token": {agentTok}}, "", "", admin.token); intro["active"] != false {
				t.Fatalf("revoked token still active: %v", intro)
			}
			rotated := admin.do("POST", "/api/v1/agents/"+id+"/credentials/"+cred["credential_id"].(string)+"/rotate", `{"grace_period_seconds":0}`, 201)
			secrets = append(secrets, rotated["client_secret"].(string))
			admin.do("POST", "/api/v1/agents/"+id+"/suspend", ``, 200)
			admin.do("POST", "/api/v1/agents/"+id+"/reactivate", ``, 200)
			admin.do("POST", "/api/v1/keys/rotate", ``, 200)
			admin.do("DELETE", "/api/v1/agents/"+id, ``, 204)

			// Group-commit events are durable before their response; read them back.
			req, _ := http.NewRequest("GET", base+"/api/v1/audit/export", nil)
			req.Header.Set("Authorization", "Bearer "+admin.token)
			resp, err := testenv.Client.Do(req)
			if err != nil || resp.StatusCode != 200 {
				t.Fatalf("export: %v %v", err, resp)
			}
			defer resp.Body.Close()
			actions := map[string]int{}
			sc := bufio.NewScanner(resp.Body)
			sc.Buffer(make([]byte, 1<<20), 1<<20)
			var exported strings.Builder
			for sc.Scan() {
				exported.WriteString(sc.Text())
				var ev struct {
					Action string `json:"action"`
				}
				if err := json.Unmarshal(sc.Bytes(), &ev); err != nil {
					t.Fatalf("bad NDJSON line %q", sc.Text())
				}
				actions[ev.Action]++
			}
			for _, want := range []string{"agent.created", "credential.created", "token.issued", "token.denied", "token.revoked",
				"credential.rotated", "agent.suspended", "agent.reactivated", "key.rotated", "agent.decommissioned"} {
				if actions[want] == 0 {
					t.Errorf("no %s event; got %v", want, actions)
				}
			}
			time.Sleep(100 * time.Millisecond) // let access-log lines of the last requests land
			haystacks := map[string]string{"audit events": exported.String(), "logs": logs.String()}
			for where, text := range haystacks {
				if len(text) < 1000 {
					t.Fatalf("%s are nearly empty (%d bytes): the scan would prove nothing", where, len(text))
				}
				for _, s := range secrets {
					if strings.Contains(text, s) {
						t.Errorf("%s contain a secret or token (%.12s…)", where, s)
					}
				}
			}
			if v := admin.do("GET", "/api/v1/audit/verify", ``, 200); v["ok"] != true {
				t.Fatalf("audit chain: %v", v)
			}
		})
	}
}
