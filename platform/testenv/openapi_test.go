package testenv_test

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/agentidp/agentidp/platform/testenv"
)

// The common test client refuses an answer that breaks the OpenAPI document (a wrong body
// shape, an undocumented Content-Type) and lets through a conforming one, and requests to
// undocumented paths.
func TestClientValidatesAgainstOpenAPI(t *testing.T) {
	answers := map[string]struct {
		ctype, body string
		status      int
	}{
		"/api/v1/agents/bad-body":    {"application/json", `{"agent_id": 5}`, 200},
		"/api/v1/agents/bad-ctype":   {"text/html", `<p>hi</p>`, 200},
		"/api/v1/agents/bad-problem": {"application/problem+json", `{"detail": "no code"}`, 404},
		"/api/v1/agents/problem":     {"application/problem+json", `{"type":"urn:agentidp:problem:not_found","title":"Not Found","status":404,"code":"not_found","detail":"x"}`, 404},
		"/not/documented":            {"text/plain", `anything`, 200},
	}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		a := answers[r.URL.Path]
		w.Header().Set("Content-Type", a.ctype)
		w.WriteHeader(a.status)
		_, _ = w.Write([]byte(a.body))
	}))
	defer srv.Close()
	for path := range answers {
		resp, err := testenv.Client.Get(srv.URL + path)
		if err == nil {
			resp.Body.Close()
		}
		wantErr := strings.Contains(path, "bad-")
		if (err != nil) != wantErr {
			t.Errorf("GET %s: error %v, want an error: %v", path, err, wantErr)
		}
		if err != nil && !strings.Contains(err.Error(), "openapi:") {
			t.Errorf("GET %s: %v", path, err)
		}
	}
}
