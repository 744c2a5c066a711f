package main

import (
	"bufio"
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/google/uuid"
	_ "github.com/jackc/pgx/v5/stdlib"
)

// process is a child process the benchmark started and must stop.
type process struct {
	cmd  *exec.Cmd
	addr string
}

func (p *process) stop() {
	if p == nil || p.cmd.Process == nil {
		return
	}
	_ = p.cmd.Process.Signal(os.Interrupt)
	done := make(chan struct{})
	go func() { _ = p.cmd.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(20 * time.Second):
		_ = p.cmd.Process.Kill()
	}
}

func (p *process) pid() int {
	if p == nil || p.cmd.Process == nil {
		return 0
	}
	return p.cmd.Process.Pid
}

// peakRSS is the process's high-water resident set (VmHWM), in MiB.
func (p *process) peakRSS() float64 {
	raw, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", p.cmd.Process.Pid))
	if err != nil {
		return 0
	}
	for _, line := range strings.Split(string(raw), "\n") {
		if v, ok := strings.CutPrefix(line, "VmHWM:"); ok {
			kb, _ := strconv.Atoi(strings.TrimSuffix(strings.TrimSpace(v), " kB"))
			return float64(kb) / 1024
		}
	}
	return 0
}

// build is one server binary to measure; label names it in the tables.
type build struct{ label, path string }

// parseBuilds parses -binary: comma-separated paths, each optionally label=path; a path's
// label is its file name. Labels must differ.
func parseBuilds(v string) ([]build, error) {
	var out []build
	seen := map[string]bool{}
	for _, item := range list(v) {
		label, path, ok := strings.Cut(item, "=")
		if !ok {
			label, path = filepath.Base(item), item
		}
		label, path = strings.TrimSpace(label), strings.TrimSpace(path)
		if label == "" || path == "" {
			return nil, fmt.Errorf("-binary %q: want path or label=path", item)
		}
		if seen[label] {
			return nil, fmt.Errorf("-binary: two binaries labelled %q (name them: label=path)", label)
		}
		seen[label] = true
		out = append(out, build{label: label, path: path})
	}
	return out, nil
}

// buildServers returns the binaries of -binary, checked to exist, or compiles the server
// into dir when none was given.
func buildServers(ctx context.Context, o options, dir string) ([]build, error) {
	if len(o.builds) > 0 {
		for _, b := range o.builds {
			if _, err := exec.LookPath(b.path); err != nil {
				return nil, fmt.Errorf("-binary %s: %w", b.label, err)
			}
		}
		return o.builds, nil
	}
	bin := filepath.Join(dir, "agentidp")
	cmd := exec.CommandContext(ctx, "go", "build", "-o", bin, "./cmd/agentidp")
	cmd.Stdout, cmd.Stderr = os.Stderr, os.Stderr
	return []build{{label: "agentidp", path: bin}}, cmd.Run()
}

// benchDatabase creates a fresh PostgreSQL database and returns its URL and a dropper.
func benchDatabase(ctx context.Context, adminURL string) (string, func(), error) {
	admin, err := sql.Open("pgx", adminURL)
	if err != nil {
		return "", nil, err
	}
	name := "agentidp_bench_" + randHex(6)
	if _, err := admin.ExecContext(ctx, "CREATE DATABASE "+name); err != nil {
		admin.Close()
		return "", nil, fmt.Errorf("creating bench database: %w", err)
	}
	u, _ := url.Parse(adminURL)
	u.Path = "/" + name
	drop := func() {
		_, _ = admin.Exec("DROP DATABASE IF EXISTS " + name + " WITH (FORCE)")
		admin.Close()
	}
	return u.String(), drop, nil
}

// seedRevocations writes n revocations of unknown tokens, unexpired for an hour, into the
// server's database, and waits until the server has had time to load them.
func seedRevocations(ctx context.Context, dbURL string, n int) error {
	db, err := sql.Open("pgx", dbURL)
	if err != nil {
		return err
	}
	defer db.Close()
	if _, err := db.ExecContext(ctx, `INSERT INTO token_revocations (jti, agent_id, expires_at, revoked_at)
		SELECT gen_random_uuid(), gen_random_uuid(), now() + interval '1 hour', now()
		FROM generate_series(1, $1)`, n); err != nil {
		return fmt.Errorf("seeding revocations: %w", err)
	}
	time.Sleep(3 * time.Second)
	return nil
}

// serverEnv is the environment of one benchmarked server.
type serverEnv struct {
	bin, databaseURL, redisURL, redisPrefix, alg string
	adminID, adminSecret                         string
	masterKey, pepper                            string
	pprofAddr                                    string
}

func startServer(ctx context.Context, e serverEnv) (*process, error) {
	port, err := freePort()
	if err != nil {
		return nil, err
	}
	addr := "127.0.0.1:" + strconv.Itoa(port)
	cmd := exec.CommandContext(ctx, e.bin, "serve")
	cmd.Env = append(os.Environ(),
		"AGENTIDP_HTTP_ADDR="+addr,
		"AGENTIDP_ISSUER=http://"+addr,
		"AGENTIDP_DATABASE_URL="+e.databaseURL,
		"AGENTIDP_REDIS_URL="+e.redisURL,
		"AGENTIDP_REDIS_KEY_PREFIX="+e.redisPrefix,
		"AGENTIDP_MASTER_KEY="+e.masterKey,
		"AGENTIDP_SECRET_PEPPER="+e.pepper,
		"AGENTIDP_SIGNING_ALG="+e.alg,
		"AGENTIDP_KEY_PUBLISH_DELAY=0s",
		"AGENTIDP_BOOTSTRAP_CLIENT_ID="+e.adminID,
		"AGENTIDP_BOOTSTRAP_CLIENT_SECRET="+e.adminSecret,
		"AGENTIDP_TOKEN_RATE_LIMIT=1000000",
		"AGENTIDP_TOKEN_RATE_BURST=1000000",
		"AGENTIDP_FREE_TIER_MONTHLY_TOKENS=1000000000",
		"AGENTIDP_FREE_TIER_MAX_AGENTS=100000",
		"AGENTIDP_LOG_LEVEL=warn",
		"AGENTIDP_DB_MAX_OPEN_CONNS=20",
	)
	if e.pprofAddr != "" {
		cmd.Env = append(cmd.Env, "AGENTIDP_PPROF_ADDR="+e.pprofAddr)
	}
	cmd.Stdout = os.Stderr
	cmd.Stderr = os.Stderr
	if err := cmd.Start(); err != nil {
		return nil, err
	}
	p := &process{cmd: cmd, addr: addr}
	if err := waitReady("http://"+addr+"/readyz", 60*time.Second); err != nil {
		p.stop()
		return nil, err
	}
	return p, nil
}

func startCeiling(ctx context.Context, alg string) (*process, error) {
	self, err := os.Executable()
	if err != nil {
		return nil, err
	}
	cmd := exec.CommandContext(ctx, self, "ceiling", "-alg", alg)
	out, err := cmd.StdoutPipe()
	if err != nil {
		return nil, err
	}
	cmd.Stderr = os.Stderr
	if err := cmd.Start(); err != nil {
		return nil, err
	}
	line, err := bufio.NewReader(out).ReadString('\n')
	if err != nil {
		_ = cmd.Process.Kill()
		return nil, fmt.Errorf("ceiling server: %w", err)
	}
	return &process{cmd: cmd, addr: strings.TrimSpace(line)}, nil
}

func waitReady(u string, limit time.Duration) error {
	deadline := time.Now().Add(limit)
	for time.Now().Before(deadline) {
		resp, err := http.Get(u)
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == 200 {
				return nil
			}
		}
		time.Sleep(200 * time.Millisecond)
	}
	return fmt.Errorf("server not ready at %s after %s", u, limit)
}

func freePort() (int, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port, nil
}

func randHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

func randKey() string {
	b := make([]byte, 32)
	_, _ = rand.Read(b)
	return base64.StdEncoding.EncodeToString(b)
}

func newSecret() string {
	b := make([]byte, 32)
	_, _ = rand.Read(b)
	return "sk_live_" + base64.RawURLEncoding.EncodeToString(b)
}

func newUUID() string { return uuid.NewString() }
