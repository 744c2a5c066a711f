package app_test

import (
	"context"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"golang.org/x/oauth2/clientcredentials"

	"github.com/agentidp/agentidp/platform/testenv"
)

// viaProxy rewrites rawURL's host to go through a test proxy.
func viaProxy(t *testing.T, rawURL string) (string, *testenv.Proxy) {
	t.Helper()
	u, err := url.Parse(rawURL)
	if err != nil {
		t.Fatal(err)
	}
	p := testenv.NewProxy(t, u.Host)
	u.Host = p.Addr()
	return u.String(), p
}

func status(t *testing.T, method, u, bearer, body string) int {
	t.Helper()
	req, _ := http.NewRequest(method, u, strings.NewReader(body))
	if bearer != "" {
		req.Header.Set("Authorization", "Bearer "+bearer)
	}
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := testenv.Client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	return resp.StatusCode
}

func tokenStatus(t *testing.T, base, id, secret string) int {
	t.Helper()
	code, _ := form(t, base, "/api/v1/token", url.Values{"grant_type": {"client_credentials"}}, id, secret, "")
	return code
}

// eventually polls fn until it reports true or the limit passes.
func eventually(t *testing.T, limit time.Duration, what string, fn func() bool) {
	t.Helper()
	deadline := time.Now().Add(limit)
	for time.Now().Before(deadline) {
		if fn() {
			return
		}
		time.Sleep(200 * time.Millisecond)
	}
	t.Fatalf("not recovered within %s: %s", limit, what)
}

// TestIntegrationLostServices takes Redis and then PostgreSQL away from a running server:
// it must answer 503 where it needs them, never accept a revoked token, report not ready,
// and recover by itself when they come back.
func TestIntegrationLostServices(t *testing.T) {
	cfg := testenv.Config(t)
	var redisProxy, pgProxy *testenv.Proxy
	cfg.DatabaseURL, pgProxy = viaProxy(t, testenv.PostgresURL(t))
	_, prefix := testenv.RedisClient(t)
	cfg.RedisURL, redisProxy = viaProxy(t, testenv.RedisURL())
	cfg.RedisKeyPrefix = prefix
	base, boot, logs := fullApp(t, cfg)
	t.Cleanup(func() {
		if t.Failed() {
			for _, l := range strings.Split(logs.String(), "\n") {
				if strings.Contains(l, `"level":"error"`) {
					t.Log(l)
				}
			}
		}
	})

	cc := clientcredentials.Config{ClientID: boot.ClientID, ClientSecret: boot.ClientSecret, TokenURL: base + "/api/v1/token"}
	tok, err := cc.Token(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	admin := api{t: t, base: base, token: tok.AccessToken}
	id := admin.do("POST", "/api/v1/agents", `{"name":"faults","allowed_scopes":["agents:read"]}`, 201)["agent_id"].(string)
	secret := admin.do("POST", "/api/v1/agents/"+id+"/credentials", ``, 201)["client_secret"].(string)
	_, issued := form(t, base, "/api/v1/token", url.Values{"grant_type": {"client_credentials"}}, id, secret, "")
	revoked := issued["access_token"].(string)
	if code, _ := form(t, base, "/api/v1/token/revoke", url.Values{"token": {revoked}}, id, secret, ""); code != 200 {
		t.Fatalf("revoke: %d", code)
	}

	// --- Redis goes away.
	redisProxy.Cut()
	if code := tokenStatus(t, base, id, secret); code != http.StatusServiceUnavailable {
		t.Errorf("token endpoint without Redis: %d, want 503", code)
	}
	if code := status(t, "GET", base+"/api/v1/agents/"+id, revoked, ""); code != http.StatusUnauthorized {
		t.Errorf("revoked token without Redis: %d, want 401", code)
	}
	if code := status(t, "GET", base+"/api/v1/agents/"+id, admin.token, ""); code != 200 && code != 503 {
		t.Errorf("valid token without Redis: %d, want 200 or 503", code)
	}
	if code := status(t, "GET", base+"/readyz", "", ""); code != 503 {
		t.Errorf("readyz without Redis: %d", code)
	}
	redisProxy.Restore()
	eventually(t, 15*time.Second, "token endpoint after Redis came back", func() bool { return tokenStatus(t, base, id, secret) == 200 })
	eventually(t, 15*time.Second, "readyz after Redis came back", func() bool { return status(t, "GET", base+"/readyz", "", "") == 200 })
	if code := status(t, "GET", base+"/api/v1/agents/"+id, revoked, ""); code != http.StatusUnauthorized {
		t.Errorf("revoked token after Redis came back: %d", code)
	}

	// --- PostgreSQL goes away.
	pgProxy.Cut()
	if code := status(t, "POST", base+"/api/v1/agents", admin.token, `{"name":"during-outage"}`); code != http.StatusServiceUnavailable {
		t.Errorf("create without PostgreSQL: %d, want 503", code)
	}
	if code := tokenStatus(t, base, id, secret); code != http.StatusServiceUnavailable {
		t.Errorf("token endpoint without PostgreSQL (audit cannot commit): %d, want 503", code)
	}
	if code := status(t, "GET", base+"/readyz", "", ""); code != 503 {
		t.Errorf("readyz without PostgreSQL: %d", code)
	}
	pgProxy.Restore()
	eventually(t, 20*time.Second, "create after PostgreSQL came back", func() bool {
		return status(t, "POST", base+"/api/v1/agents", admin.token, `{"name":"after-outage"}`) == 201
	})
	eventually(t, 20*time.Second, "token endpoint after PostgreSQL came back", func() bool { return tokenStatus(t, base, id, secret) == 200 })
	if v := admin.do("GET", "/api/v1/audit/verify", ``, 200); v["ok"] != true {
		t.Fatalf("audit chain after the outages: %v", v)
	}
}
