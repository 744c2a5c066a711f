package httpserver_test

import (
	"encoding/base64"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/agentidp/agentidp/platform/config"
	"github.com/agentidp/agentidp/platform/httpserver"
	"github.com/agentidp/agentidp/platform/testenv"
)

// The access log redacts a JWT or a client secret in the path before it cuts the path to
// 256 bytes: cut first, a token split at the cut no longer looks like one and its first
// part is logged. The log is captured before any redaction the logger itself would add.
func TestAccessLogRedactsPathBeforeCutting(t *testing.T) {
	logs := &testenv.Logs{}
	f := newFixture(t, func(_ *config.Config, p *httpserver.Params) { p.Log = logs.Logger() })
	srv := httptest.NewServer(f.handler)
	defer srv.Close()

	seg := func(s string) string { return base64.RawURLEncoding.EncodeToString([]byte(s)) }
	jwt := seg(`{"alg":"RS256","kid":"k1","typ":"at+jwt"}`) + "." +
		seg(`{"sub":"0191f0a4-1c2d-4e3f-8a4b-5c6d7e8f9a01","scope":"agents:read agents:write","aud":"https://idp.example.com","exp":1796357861,"iat":1796354261,"jti":"990f3554-396d-4ed2-b605-541bb7994682"}`) +
		"." + seg(strings.Repeat("signature", 28))
	secret := "sk_live_" + strings.Repeat("Q", 43)
	pad := func(prefix string, at int) string { return prefix + strings.Repeat("a", at-len(prefix)) }
	paths := []string{
		"/api/v1/agents/" + jwt,                             // the cut falls in the payload
		pad("/audit/", 256-len("eyJ")-20) + "/" + jwt,       // ... in the header
		pad("/audit/", 256-len("sk_live_")-4) + secret,      // four characters of the secret before the cut
		"/api/v1/agents/" + strings.Repeat("b", 300) + "/x", // nothing secret: cut as before
	}
	for _, p := range paths {
		resp, err := http.Get(srv.URL + p)
		if err != nil {
			t.Fatal(err)
		}
		_ = resp.Body.Close()
	}

	var logged []string
	for _, line := range strings.Split(strings.TrimSpace(logs.String()), "\n") {
		var entry struct {
			Msg  string `json:"msg"`
			Path string `json:"path"`
		}
		if err := json.Unmarshal([]byte(line), &entry); err != nil {
			t.Fatalf("log line %q: %v", line, err)
		}
		if entry.Msg == "request" {
			logged = append(logged, entry.Path)
		}
	}
	if len(logged) != len(paths) {
		t.Fatalf("%d access log lines, want %d:\n%s", len(logged), len(paths), logs.String())
	}
	for i, p := range logged[:3] {
		if len(p) > 256 || !strings.Contains(p, "[REDACTED]") || strings.Contains(p, "eyJ") || strings.Contains(p, "sk_live_") {
			t.Errorf("path %d logged as %q", i, p)
		}
	}
	if want := paths[3][:256]; logged[3] != want {
		t.Errorf("an ordinary long path logged as %q, want its first 256 bytes", logged[3])
	}
}
