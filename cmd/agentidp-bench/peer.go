package main

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/redis/go-redis/v9"
)

// peerDir holds the peers' setups, relative to the repository root (the bench runs from it,
// like `go build ./cmd/agentidp`).
const peerDir = "cmd/agentidp-bench/peers"

// measurePeer measures another OAuth server's token endpoint on this machine with the same
// load as the server's: client credentials, client_secret_basic, scope agents:read. Peers:
//   - "oidc-provider": node-oidc-provider (peers/oidc-provider; needs Node, runs `npm ci`
//     there the first time), one process, in-memory storage, RS256 or EdDSA JWTs;
//   - "hydra": Ory Hydra v2 (-hydra-bin), on its own fresh PostgreSQL database, JWT access
//     tokens (RS256 only: the EdDSA run skips it), its default settings otherwise.
//
// It returns ok false when the peer has nothing to measure for alg.
func measurePeer(ctx context.Context, o options, name, alg string, ceiling float64, rdb *redis.Client) (row, bool, error) {
	var (
		pe  *peerEndpoint
		err error
	)
	switch name {
	case "oidc-provider":
		pe, err = startOIDCProvider(ctx, alg)
	case "hydra":
		if alg != "RS256" {
			return row{}, false, nil
		}
		pe, err = startHydra(ctx, o)
	default:
		return row{}, false, fmt.Errorf("unknown peer %q (known: oidc-provider, hydra)", name)
	}
	if err != nil {
		return row{}, false, fmt.Errorf("peer %s: %w", name, err)
	}
	defer pe.stop()
	r := drive(ctx, "peer: "+pe.label+" ("+alg+")", o.conns, o.warmup, o.duration, &meter{pid: pe.proc.pid(), db: pe.db, rdb: rdb}, func(int) (*http.Request, error) {
		req, err := http.NewRequest(http.MethodPost, pe.tokenURL, strings.NewReader("grant_type=client_credentials&scope=agents%3Aread"))
		if err != nil {
			return nil, err
		}
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		req.SetBasicAuth(url.QueryEscape(pe.clientID), url.QueryEscape(pe.secret))
		return req, nil
	})
	return row{result: r, ceiling: ceiling, rssMiB: pe.proc.peakRSS(), group: r.Name}, true, nil
}

// peerEndpoint is a started peer: its process, token endpoint and client.
type peerEndpoint struct {
	label, tokenURL, clientID, secret string
	db                                string // its PostgreSQL database, if any
	proc                              *process
	cleanup                           func()
}

func (p *peerEndpoint) stop() {
	p.proc.stop()
	if p.cleanup != nil {
		p.cleanup()
	}
}

func startOIDCProvider(ctx context.Context, alg string) (*peerEndpoint, error) {
	dir := filepath.Join(peerDir, "oidc-provider")
	if _, err := os.Stat(filepath.Join(dir, "node_modules")); err != nil {
		npm := exec.CommandContext(ctx, "npm", "ci", "--no-audit", "--no-fund", "--loglevel=error")
		npm.Dir, npm.Stdout, npm.Stderr = dir, os.Stderr, os.Stderr
		if err := npm.Run(); err != nil {
			return nil, fmt.Errorf("npm ci: %w", err)
		}
	}
	port, err := freePort()
	if err != nil {
		return nil, err
	}
	id, secret := "bench-"+randHex(4), newSecret()
	cmd := exec.CommandContext(ctx, "node", "server.mjs", strconv.Itoa(port), id, secret, alg)
	cmd.Dir, cmd.Stderr = dir, os.Stderr
	out, err := cmd.StdoutPipe()
	if err != nil {
		return nil, err
	}
	if err := cmd.Start(); err != nil {
		return nil, err
	}
	p := &process{cmd: cmd, addr: "127.0.0.1:" + strconv.Itoa(port)}
	ready := make(chan error, 1)
	go func() {
		line, err := bufio.NewReader(out).ReadString('\n')
		if err == nil && strings.TrimSpace(line) != "listening" {
			err = fmt.Errorf("unexpected first line %q", line)
		}
		ready <- err
	}()
	select {
	case err := <-ready:
		if err != nil {
			p.stop()
			return nil, fmt.Errorf("did not start: %w", err)
		}
	case <-time.After(30 * time.Second):
		p.stop()
		return nil, fmt.Errorf("did not start within 30 s")
	}
	return &peerEndpoint{label: "node-oidc-provider POST /token", tokenURL: "http://" + p.addr + "/token",
		clientID: id, secret: secret, proc: p}, nil
}

func startHydra(ctx context.Context, o options) (*peerEndpoint, error) {
	if o.hydraBin == "" {
		return nil, fmt.Errorf("-hydra-bin is required (build: see docs/performance.md)")
	}
	dsn, drop, err := benchDatabase(ctx, o.databaseURL)
	if err != nil {
		return nil, err
	}
	// Hydra's default pool is too small for 32 concurrent token requests (they time out
	// waiting for a connection); give it more than our server's 20.
	dsn += "&max_conns=40&max_idle_conns=20"
	ports := make([]int, 2)
	for i := range ports {
		if ports[i], err = freePort(); err != nil {
			drop()
			return nil, err
		}
	}
	public := "127.0.0.1:" + strconv.Itoa(ports[0])
	env := append(os.Environ(), "DSN="+dsn, "SECRETS_SYSTEM="+randHex(16), "URLS_SELF_ISSUER=http://"+public,
		"STRATEGIES_ACCESS_TOKEN=jwt", "LOG_LEVEL=warn",
		"SERVE_PUBLIC_HOST=127.0.0.1", "SERVE_PUBLIC_PORT="+strconv.Itoa(ports[0]),
		"SERVE_ADMIN_HOST=127.0.0.1", "SERVE_ADMIN_PORT="+strconv.Itoa(ports[1]))
	migrate := exec.CommandContext(ctx, o.hydraBin, "migrate", "sql", "up", "-e", "--yes")
	migrate.Env, migrate.Stdout, migrate.Stderr = env, os.Stderr, os.Stderr
	if err := migrate.Run(); err != nil {
		drop()
		return nil, fmt.Errorf("hydra migrate: %w", err)
	}
	cmd := exec.CommandContext(ctx, o.hydraBin, "serve", "all", "--dev")
	cmd.Env, cmd.Stdout, cmd.Stderr = env, io.Discard, os.Stderr
	if err := cmd.Start(); err != nil {
		drop()
		return nil, err
	}
	p := &process{cmd: cmd, addr: public}
	admin := "http://127.0.0.1:" + strconv.Itoa(ports[1])
	fail := func(err error) (*peerEndpoint, error) { p.stop(); drop(); return nil, err }
	if err := waitReady(admin+"/health/ready", 60*time.Second); err != nil {
		return fail(err)
	}
	id, secret := "bench-"+randHex(4), newSecret()
	body := fmt.Sprintf(`{"client_id":%q,"client_secret":%q,"grant_types":["client_credentials"],`+
		`"token_endpoint_auth_method":"client_secret_basic","scope":"agents:read"}`, id, secret)
	resp, err := http.Post(admin+"/admin/clients", "application/json", strings.NewReader(body))
	if err != nil {
		return fail(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusCreated {
		return fail(fmt.Errorf("creating the hydra client: %s", resp.Status))
	}
	pe := &peerEndpoint{label: "Ory Hydra POST /oauth2/token", tokenURL: "http://" + public + "/oauth2/token",
		clientID: id, secret: secret, db: dbName(dsn), proc: p, cleanup: drop}
	// Hydra makes its signing key at the first token request; concurrent first requests
	// race to create it and fail, so one request goes first.
	if err := firstToken(pe); err != nil {
		return fail(err)
	}
	return pe, nil
}

// firstToken asks pe for one token, retrying for up to 10 s.
func firstToken(pe *peerEndpoint) error {
	var last string
	for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); time.Sleep(200 * time.Millisecond) {
		req, _ := http.NewRequest(http.MethodPost, pe.tokenURL, strings.NewReader("grant_type=client_credentials&scope=agents%3Aread"))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		req.SetBasicAuth(url.QueryEscape(pe.clientID), url.QueryEscape(pe.secret))
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			last = err.Error()
			continue
		}
		_, _ = io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		if resp.StatusCode == http.StatusOK {
			return nil
		}
		last = resp.Status
	}
	return fmt.Errorf("no token from %s: %s", pe.tokenURL, last)
}
