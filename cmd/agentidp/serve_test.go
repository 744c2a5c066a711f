package main_test

import (
	"bufio"
	"bytes"
	"encoding/base64"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// binary builds the agentidp binary once for this package's tests.
var binary = sync.OnceValues(func() (string, error) {
	dir, err := os.MkdirTemp("", "agentidp-bin-")
	if err != nil {
		return "", err
	}
	bin := filepath.Join(dir, "agentidp")
	out, err := exec.Command("go", "build", "-o", bin, ".").CombinedOutput()
	if err != nil {
		return "", &buildError{out: string(out), err: err}
	}
	return bin, nil
})

type buildError struct {
	out string
	err error
}

func (e *buildError) Error() string { return e.err.Error() + ": " + e.out }

func build(t *testing.T) string {
	t.Helper()
	bin, err := binary()
	if err != nil {
		t.Fatal(err)
	}
	return bin
}

func freeAddr(t *testing.T) string {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return "127.0.0.1:" + strconv.Itoa(ln.Addr().(*net.TCPAddr).Port)
}

// server is a running `agentidp serve`, started in dir with only the given environment
// (plus PATH/HOME), as a newcomer would run it.
type server struct {
	cmd    *exec.Cmd
	stdout *lockedBuffer
	stderr *lockedBuffer
	base   string
}

type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}
func (l *lockedBuffer) String() string { l.mu.Lock(); defer l.mu.Unlock(); return l.b.String() }

func start(t *testing.T, dir string, env ...string) *server {
	t.Helper()
	addr := freeAddr(t)
	cmd := exec.Command(build(t), "serve")
	cmd.Dir = dir
	cmd.Env = append([]string{"PATH=" + os.Getenv("PATH"), "HOME=" + os.Getenv("HOME"), "AGENTIDP_HTTP_ADDR=" + addr}, env...)
	s := &server{cmd: cmd, stdout: &lockedBuffer{}, stderr: &lockedBuffer{}, base: "http://" + addr}
	cmd.Stdout, cmd.Stderr = s.stdout, s.stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = cmd.Process.Kill(); _ = cmd.Wait() })
	deadline := time.Now().Add(60 * time.Second)
	for time.Now().Before(deadline) {
		if resp, err := http.Get(s.base + "/readyz"); err == nil {
			resp.Body.Close()
			if resp.StatusCode == 200 {
				return s
			}
		}
		if cmd.ProcessState != nil {
			break
		}
		time.Sleep(100 * time.Millisecond)
	}
	t.Fatalf("server not ready; stderr:\n%s", s.stderr)
	return nil
}

// stop sends SIGINT (Ctrl-C) and wants a clean exit within 5 s.
func (s *server) stop(t *testing.T) {
	t.Helper()
	if err := s.cmd.Process.Signal(syscall.SIGINT); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- s.cmd.Wait() }()
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("exit after SIGINT: %v\n%s", err, s.stderr)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("server did not stop within 5 s of SIGINT")
	}
}

func get(t *testing.T, url string) (int, string) {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

var bootstrapLine = regexp.MustCompile(`(?m)^bootstrap admin: client_id=[0-9a-f-]{36} client_secret=sk_live_[A-Za-z0-9_-]{43}$`)

// The README's first command: no environment at all → ./data created, migrations applied,
// bootstrap admin printed once, health/ready/metrics answered, Ctrl-C stops it in < 5 s.
// A second start on the same data prints no bootstrap line.
func TestServeEmbeddedDefault(t *testing.T) {
	dir := t.TempDir()
	s := start(t, dir)
	if _, err := os.Stat(filepath.Join(dir, "data", "agentidp.db")); err != nil {
		t.Fatalf("./data not created: %v", err)
	}
	for _, path := range []string{"/healthz", "/readyz", "/metrics"} {
		if code, body := get(t, s.base+path); code != 200 {
			t.Fatalf("%s: %d %s", path, code, body)
		}
	}
	if _, body := get(t, s.base+"/metrics"); !strings.Contains(body, "agentidp_http_requests_total") || !strings.Contains(body, "go_goroutines") {
		t.Fatalf("metrics missing families")
	}
	s.stop(t)
	if n := len(bootstrapLine.FindAllString(s.stdout.String(), -1)); n != 1 {
		t.Fatalf("want one bootstrap line on stdout, got %d:\n%s", n, s.stdout)
	}
	if strings.Contains(s.stderr.String(), "sk_live_") {
		t.Fatal("the bootstrap secret reached the log")
	}

	if !strings.Contains(s.stderr.String(), "AGENTIDP_ISSUER is not set") {
		t.Fatalf("listening on another port than 8080 without AGENTIDP_ISSUER: no warning\n%s", s.stderr)
	}

	again := start(t, dir)
	again.stop(t)
	if strings.Contains(again.stdout.String(), "bootstrap admin") {
		t.Fatalf("second start bootstrapped again:\n%s", again.stdout)
	}
}

// A bad value stops the start with one clear line naming the variable.
func TestServeBadConfigOneLine(t *testing.T) {
	cases := map[string]string{
		"AGENTIDP_REDIS_URL":    "redis://127.0.0.1:1/0",
		"AGENTIDP_DATABASE_URL": "mysql://nope",
		"AGENTIDP_TOKEN_TTL":    "forever",
	}
	for name, val := range cases {
		t.Run(name, func(t *testing.T) {
			cmd := exec.Command(build(t), "serve")
			cmd.Dir = t.TempDir()
			cmd.Env = []string{"PATH=" + os.Getenv("PATH"), "AGENTIDP_HTTP_ADDR=" + freeAddr(t), name + "=" + val}
			if name == "AGENTIDP_REDIS_URL" {
				// A parsable URL to a dead Redis is not a configuration error: the server
				// starts and /readyz reports the cache. Only an unparsable one stops it.
				cmd.Env[len(cmd.Env)-1] = name + "=http://not-redis"
			}
			var stderr bytes.Buffer
			cmd.Stderr = &stderr
			err := cmd.Run()
			if err == nil {
				t.Fatal("start succeeded")
			}
			lines := nonEmptyLines(stderr.String())
			if len(lines) != 1 || !strings.Contains(lines[0], name) {
				t.Fatalf("want one line naming %s, got:\n%s", name, stderr.String())
			}
		})
	}
}

// A start that fails inside the application (a store that cannot be reached, a taken port,
// a pepper that is not the store's) prints one line naming the variable, and no
// dependency-injection trace.
func TestServeFailedStartOneLine(t *testing.T) {
	dir := t.TempDir()
	first := start(t, dir)
	first.stop(t)
	taken, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer taken.Close()
	key := func(b byte) string { return base64.StdEncoding.EncodeToString(bytes.Repeat([]byte{b}, 32)) }
	cases := []struct {
		name string
		env  []string
	}{
		{"AGENTIDP_SECRET_PEPPER", []string{"AGENTIDP_SECRET_PEPPER=" + key(3)}},
		{"AGENTIDP_HTTP_ADDR", []string{"AGENTIDP_HTTP_ADDR=" + taken.Addr().String()}},
		{"AGENTIDP_DATABASE_URL", []string{"AGENTIDP_DATABASE_URL=postgres://postgres@127.0.0.1:1/none?connect_timeout=2",
			"AGENTIDP_MASTER_KEY=" + key(1), "AGENTIDP_SECRET_PEPPER=" + key(2)}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			cmd := exec.Command(build(t), "serve")
			cmd.Dir = dir // the store set up by the first start
			cmd.Env = append([]string{"PATH=" + os.Getenv("PATH"), "AGENTIDP_HTTP_ADDR=" + freeAddr(t)}, c.env...)
			var stderr bytes.Buffer
			cmd.Stderr = &stderr
			if err := cmd.Run(); err == nil {
				t.Fatal("start succeeded")
			}
			var errLines []string
			for _, l := range nonEmptyLines(stderr.String()) {
				if !strings.Contains(l, `"level":"info"`) && !strings.Contains(l, `"level":"warn"`) {
					errLines = append(errLines, l)
				}
			}
			if len(errLines) != 1 || !strings.HasPrefix(errLines[0], "agentidp: "+c.name) {
				t.Fatalf("want one line naming %s, got:\n%s", c.name, stderr.String())
			}
		})
	}
}

func nonEmptyLines(s string) []string {
	var out []string
	sc := bufio.NewScanner(strings.NewReader(s))
	for sc.Scan() {
		if strings.TrimSpace(sc.Text()) != "" {
			out = append(out, sc.Text())
		}
	}
	return out
}

// `migrate status` and `migrate up` work on the embedded store; `--help` explains commands.
func TestMigrateAndHelp(t *testing.T) {
	dir := t.TempDir()
	env := []string{"PATH=" + os.Getenv("PATH")}
	run := func(args ...string) (string, error) {
		cmd := exec.Command(build(t), args...)
		cmd.Dir = dir
		cmd.Env = env
		out, err := cmd.CombinedOutput()
		return string(out), err
	}
	// With nothing configured and no ./data, a command that opens the store refuses in one
	// line and creates nothing.
	for _, args := range [][]string{{"migrate", "status"}, {"migrate", "up"}, {"bootstrap"}, {"audit", "verify"}, {"keys", "rotate"}} {
		out, err := run(args...)
		if err == nil || len(nonEmptyLines(out)) != 1 || !strings.Contains(out, "AGENTIDP_DATABASE_URL") {
			t.Fatalf("%v without configuration: %v\n%s", args, err, out)
		}
		if _, err := os.Stat(filepath.Join(dir, "data")); err == nil {
			t.Fatalf("%v without configuration created ./data", args)
		}
	}
	env = append(env, "AGENTIDP_DATA_DIR=data")
	if out, err := run("migrate", "status"); err == nil || !strings.Contains(out, "pending") {
		t.Fatalf("status on an empty store should list pending migrations and fail: %v\n%s", err, out)
	}
	if out, err := run("migrate", "up"); err != nil || !strings.Contains(out, "applied") {
		t.Fatalf("up: %v\n%s", err, out)
	}
	if out, err := run("migrate", "status"); err != nil || strings.Contains(out, "pending") {
		t.Fatalf("status after up: %v\n%s", err, out)
	}
	// Once ./data holds a store, the default finds it without configuration.
	env = env[:1]
	if out, err := run("migrate", "status"); err != nil || strings.Contains(out, "pending") {
		t.Fatalf("status in the directory holding ./data: %v\n%s", err, out)
	}
	if out, err := run("--help"); err != nil || !strings.Contains(out, "serve") || !strings.Contains(out, "migrate") {
		t.Fatalf("help: %v\n%s", err, out)
	}
	if out, err := run("version"); err != nil || !strings.HasPrefix(out, "agentidp ") {
		t.Fatalf("version: %v\n%s", err, out)
	}
}
