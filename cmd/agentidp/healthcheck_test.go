package main_test

import (
	"bytes"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"strings"
	"testing"
)

// healthcheck runs `agentidp healthcheck` with AGENTIDP_HTTP_ADDR=addr and returns its exit
// code, standard output and standard error.
func healthcheck(t *testing.T, addr string) (int, string, string) {
	t.Helper()
	cmd := exec.Command(build(t), "healthcheck", "--timeout", "5s")
	cmd.Dir = t.TempDir()
	cmd.Env = []string{"PATH=" + os.Getenv("PATH"), "AGENTIDP_HTTP_ADDR=" + addr}
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	code := 0
	if ee, ok := err.(*exec.ExitError); ok {
		code = ee.ExitCode()
	} else if err != nil {
		t.Fatal(err)
	}
	if entries, _ := os.ReadDir(cmd.Dir); len(entries) > 0 {
		t.Errorf("healthcheck wrote %d entries into its working directory (a store?)", len(entries))
	}
	return code, stdout.String(), stderr.String()
}

// The container image's health check against a real server: ready → 0; the server's port
// listening on every interface (":port") is asked over loopback.
func TestHealthcheckReadyServer(t *testing.T) {
	s := start(t, t.TempDir())
	_, port, _ := net.SplitHostPort(strings.TrimPrefix(s.base, "http://"))
	for _, addr := range []string{"127.0.0.1:" + port, ":" + port} {
		if code, out, errOut := healthcheck(t, addr); code != 0 || strings.TrimSpace(out) != "ready" {
			t.Errorf("%s: exit %d, stdout %q, stderr %q", addr, code, out, errOut)
		}
	}
}

// Not ready (503 naming the failing check), nothing listening, or a bad address → exit 1
// with one line on standard error.
func TestHealthcheckFailures(t *testing.T) {
	notReady := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/readyz" {
			t.Errorf("asked %s", r.URL.Path)
		}
		w.WriteHeader(http.StatusServiceUnavailable)
		_, _ = w.Write([]byte(`{"status":"unavailable","checks":{"cache":{"status":"fail"}}}`))
	}))
	defer notReady.Close()
	dead := freeAddr(t)
	cases := map[string]struct{ addr, want string }{
		"not ready":      {strings.TrimPrefix(notReady.URL, "http://"), "503"},
		"no server":      {dead, "no answer"},
		"bad address":    {"8080", "AGENTIDP_HTTP_ADDR"},
		"cache in error": {strings.TrimPrefix(notReady.URL, "http://"), "cache"},
	}
	for name, c := range cases {
		t.Run(name, func(t *testing.T) {
			code, out, errOut := healthcheck(t, c.addr)
			lines := nonEmptyLines(errOut)
			if code != 1 || out != "" || len(lines) != 1 || !strings.Contains(lines[0], c.want) {
				t.Fatalf("exit %d, stdout %q, stderr %q; want exit 1 and one line with %q", code, out, errOut, c.want)
			}
		})
	}
}
