package main

import (
	"bufio"
	"context"
	"fmt"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"time"
)

// peerDir holds the peers' setups, relative to the repository root (the bench runs from it,
// like `go build ./cmd/agentidp`).
const peerDir = "cmd/agentidp-bench/peers"

// measurePeer measures another OAuth server's token endpoint on this machine with the same
// load as the server's: client credentials, client_secret_basic, 32 connections. Only
// "oidc-provider" (node-oidc-provider, peers/oidc-provider) is set up; it needs Node and runs
// `npm ci` in its folder the first time.
func measurePeer(ctx context.Context, o options, name, alg string, ceiling float64) (row, error) {
	if name != "oidc-provider" {
		return row{}, fmt.Errorf("unknown peer %q (known: oidc-provider)", name)
	}
	dir := filepath.Join(peerDir, name)
	if _, err := os.Stat(filepath.Join(dir, "node_modules")); err != nil {
		npm := exec.CommandContext(ctx, "npm", "ci", "--no-audit", "--no-fund", "--loglevel=error")
		npm.Dir, npm.Stdout, npm.Stderr = dir, os.Stderr, os.Stderr
		if err := npm.Run(); err != nil {
			return row{}, fmt.Errorf("peer %s: npm ci: %w", name, err)
		}
	}
	port, err := freePort()
	if err != nil {
		return row{}, err
	}
	id, secret := "bench-"+randHex(4), newSecret()
	cmd := exec.CommandContext(ctx, "node", "server.mjs", strconv.Itoa(port), id, secret, alg)
	cmd.Dir, cmd.Stderr = dir, os.Stderr
	out, err := cmd.StdoutPipe()
	if err != nil {
		return row{}, err
	}
	if err := cmd.Start(); err != nil {
		return row{}, fmt.Errorf("peer %s: %w", name, err)
	}
	p := &process{cmd: cmd, addr: "127.0.0.1:" + strconv.Itoa(port)}
	defer p.stop()
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
			return row{}, fmt.Errorf("peer %s did not start: %w", name, err)
		}
	case <-time.After(30 * time.Second):
		return row{}, fmt.Errorf("peer %s did not start within 30 s", name)
	}
	tokenURL := "http://" + p.addr + "/token"
	r := drive(ctx, "peer: node-oidc-provider POST /token ("+alg+")", o.conns, o.warmup, o.duration, func(int) (*http.Request, error) {
		req, err := http.NewRequest(http.MethodPost, tokenURL, strings.NewReader("grant_type=client_credentials&scope=agents%3Aread"))
		if err != nil {
			return nil, err
		}
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		req.SetBasicAuth(url.QueryEscape(id), url.QueryEscape(secret))
		return req, nil
	})
	return row{result: r, ceiling: ceiling, rssMiB: p.peakRSS()}, nil
}
