// Package idptest runs the real AgentIdP server for the client module's tests: the binary
// is built from the repository around this module (go build ./cmd/agentidp) and started on
// the embedded default (SQLite, in-process cache) in a temporary directory, on a free
// loopback port, with a known bootstrap admin.
package idptest

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

// AdminID is the bootstrap admin of every server started here.
const AdminID = "0a0d7b5e-1f3c-4c7e-9a51-1b2c3d4e5f60"

// AdminSecret is that admin's secret: random for each test binary, so that no secret is
// written in the repository.
var AdminSecret = func() string {
	b := make([]byte, 32)
	if _, err := rand.Read(b); err != nil {
		panic(err)
	}
	return "sk_live_" + base64.RawURLEncoding.EncodeToString(b)
}()

// Server is a running agentidp serve.
type Server struct {
	Issuer string // http://127.0.0.1:<port>
	cmd    *exec.Cmd
	dir    string
	stderr *bytes.Buffer
	mu     sync.Mutex
}

// repoRoot is the repository that holds this module: three levels above this file.
func repoRoot() (string, error) {
	_, file, _, ok := runtime.Caller(0)
	if !ok {
		return "", fmt.Errorf("idptest: cannot locate the source file")
	}
	root := filepath.Join(filepath.Dir(file), "..", "..", "..")
	if _, err := os.Stat(filepath.Join(root, "cmd", "agentidp")); err != nil {
		return "", fmt.Errorf("idptest: the server's source is not at %s: %w", root, err)
	}
	return root, nil
}

// Start builds the server and starts it in a fresh directory with extra environment
// variables ("NAME=value"); Stop ends it.
func Start(env ...string) (*Server, error) {
	root, err := repoRoot()
	if err != nil {
		return nil, err
	}
	dir, err := os.MkdirTemp("", "agentidp-client-test-")
	if err != nil {
		return nil, err
	}
	bin := filepath.Join(dir, "agentidp")
	build := exec.Command("go", "build", "-o", bin, "./cmd/agentidp")
	build.Dir = root
	if out, err := build.CombinedOutput(); err != nil {
		os.RemoveAll(dir)
		return nil, fmt.Errorf("idptest: building the server: %v\n%s", err, out)
	}
	addr, err := freeAddr()
	if err != nil {
		return nil, err
	}
	s := &Server{Issuer: "http://" + addr, dir: dir, stderr: &bytes.Buffer{}}
	s.cmd = exec.Command(bin, "serve")
	s.cmd.Dir = dir
	s.cmd.Env = append([]string{
		"PATH=" + os.Getenv("PATH"), "HOME=" + os.Getenv("HOME"),
		"AGENTIDP_HTTP_ADDR=" + addr,
		"AGENTIDP_ISSUER=" + s.Issuer,
		"AGENTIDP_DATA_DIR=" + filepath.Join(dir, "data"),
		"AGENTIDP_BOOTSTRAP_CLIENT_ID=" + AdminID,
		"AGENTIDP_BOOTSTRAP_CLIENT_SECRET=" + AdminSecret,
		"AGENTIDP_KEY_PUBLISH_DELAY=1s",
		"AGENTIDP_LOG_LEVEL=warn",
	}, env...)
	s.cmd.Stdout = io.Discard
	s.cmd.Stderr = &lockedWriter{w: s.stderr, mu: &s.mu}
	if err := s.cmd.Start(); err != nil {
		os.RemoveAll(dir)
		return nil, err
	}
	deadline := time.Now().Add(90 * time.Second)
	for time.Now().Before(deadline) {
		if resp, err := http.Get(s.Issuer + "/readyz"); err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return s, nil
			}
		}
		time.Sleep(100 * time.Millisecond)
	}
	s.Stop()
	return nil, fmt.Errorf("idptest: the server did not become ready; stderr:\n%s", s.Stderr())
}

// Stop kills the server and removes its directory.
func (s *Server) Stop() {
	_ = s.cmd.Process.Kill()
	_ = s.cmd.Wait()
	os.RemoveAll(s.dir)
}

// Stderr is the server's log so far.
func (s *Server) Stderr() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.stderr.String()
}

type lockedWriter struct {
	w  io.Writer
	mu *sync.Mutex
}

func (l *lockedWriter) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.w.Write(p)
}

func freeAddr() (string, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", err
	}
	defer ln.Close()
	return "127.0.0.1:" + strconv.Itoa(ln.Addr().(*net.TCPAddr).Port), nil
}

var (
	shared     *Server
	sharedErr  error
	sharedOnce sync.Once
)

// Shared is one server for a whole test binary, started on first use; Main stops it.
func Shared(t testing.TB) *Server {
	t.Helper()
	sharedOnce.Do(func() { shared, sharedErr = Start() })
	if sharedErr != nil {
		t.Fatal(sharedErr)
	}
	return shared
}

// Main runs the tests and stops the shared server: call it from TestMain.
func Main(m *testing.M) {
	code := m.Run()
	if shared != nil {
		shared.Stop()
	}
	os.Exit(code)
}

// Token gets a token with a client secret (Basic) and extra form fields.
func (s *Server) Token(t testing.TB, clientID, secret string, form url.Values) string {
	t.Helper()
	if form == nil {
		form = url.Values{}
	}
	form.Set("grant_type", "client_credentials")
	req, _ := http.NewRequest(http.MethodPost, s.Issuer+"/api/v1/token", strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.SetBasicAuth(url.QueryEscape(clientID), url.QueryEscape(secret))
	var out struct {
		AccessToken string `json:"access_token"`
	}
	s.do(t, req, http.StatusOK, &out)
	return out.AccessToken
}

// AdminToken is a token of the bootstrap admin (every scope).
func (s *Server) AdminToken(t testing.TB) string {
	t.Helper()
	return s.Token(t, AdminID, AdminSecret, nil)
}

// Call sends a JSON request with the admin's token and decodes the answer into out (if
// not nil), wanting status.
func (s *Server) Call(t testing.TB, method, path string, body any, status int, out any) {
	t.Helper()
	var rd io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			t.Fatal(err)
		}
		rd = bytes.NewReader(b)
	}
	req, _ := http.NewRequest(method, s.Issuer+path, rd)
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Authorization", "Bearer "+s.AdminToken(t))
	s.do(t, req, status, out)
}

func (s *Server) do(t testing.TB, req *http.Request, status int, out any) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	resp, err := http.DefaultClient.Do(req.WithContext(ctx))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != status {
		t.Fatalf("%s %s: %d, want %d: %s", req.Method, req.URL.Path, resp.StatusCode, status, b)
	}
	if out != nil {
		if err := json.Unmarshal(b, out); err != nil {
			t.Fatalf("%s %s: %v: %s", req.Method, req.URL.Path, err, b)
		}
	}
}

// Agent is an agent made for a test, with one secret credential.
type Agent struct {
	ID, Secret string
}

// NewAgent creates an agent with fields (name is added) and a secret credential for it.
func (s *Server) NewAgent(t testing.TB, fields map[string]any) Agent {
	t.Helper()
	body := map[string]any{"name": fmt.Sprintf("client-test-%d", time.Now().UnixNano())}
	for k, v := range fields {
		body[k] = v
	}
	var a struct {
		AgentID string `json:"agent_id"`
	}
	s.Call(t, http.MethodPost, "/api/v1/agents", body, http.StatusCreated, &a)
	var c struct {
		ClientSecret string `json:"client_secret"`
	}
	s.Call(t, http.MethodPost, "/api/v1/agents/"+a.AgentID+"/credentials", map[string]any{}, http.StatusCreated, &c)
	return Agent{ID: a.AgentID, Secret: c.ClientSecret}
}

// NewAPI registers an API with identifier and scopes.
func (s *Server) NewAPI(t testing.TB, identifier string, scopes ...string) {
	t.Helper()
	sc := make([]map[string]string, len(scopes))
	for i, v := range scopes {
		sc[i] = map[string]string{"value": v, "description": v}
	}
	s.Call(t, http.MethodPost, "/api/v1/apis", map[string]any{"identifier": identifier, "name": identifier, "scopes": sc}, http.StatusCreated, nil)
}

// Metadata is the server's discovery document as a map.
func (s *Server) Metadata(t testing.TB) map[string]any {
	t.Helper()
	req, _ := http.NewRequest(http.MethodGet, s.Issuer+"/.well-known/oauth-authorization-server", nil)
	var m map[string]any
	s.do(t, req, http.StatusOK, &m)
	return m
}

// Advertises reports whether the discovery document's member holds value (or, with value
// "", is present at all).
func (s *Server) Advertises(t testing.TB, member, value string) bool {
	t.Helper()
	v, ok := s.Metadata(t)[member]
	if !ok || value == "" {
		return ok
	}
	list, _ := v.([]any)
	for _, x := range list {
		if x == value {
			return true
		}
	}
	return false
}

// RequireFeature fails t when the server's discovery document does not advertise the
// feature the test exercises: a server that lost it fails here, naming what is missing.
func (s *Server) RequireFeature(t testing.TB, member, value, what string) {
	t.Helper()
	if s.Advertises(t, member, value) {
		return
	}
	if value == "" {
		t.Fatalf("the server does not advertise %s (no %s in its discovery document)", what, member)
	}
	t.Fatalf("the server does not advertise %s (%s lacks %q)", what, member, value)
}
