package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"time"

	"github.com/redis/go-redis/v9"
)

// run measures -rounds rounds; each measures, for each algorithm of -algs, its ceiling, then
// every binary of -binary in turn on the scenarios of -scenarios (introspection and the read
// with the first algorithm only), and the peers (-peers). It prints each round's rows, and
// with several rounds or binaries a summary of all of them.
func run(ctx context.Context, o options) error {
	dir, err := os.MkdirTemp("", "agentidp-bench-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	builds, err := buildServers(ctx, o, dir)
	if err != nil {
		return fmt.Errorf("building the server: %w", err)
	}
	rdb := redisClient(o.redisURL)
	if rdb != nil {
		defer rdb.Close()
	}
	fmt.Printf("agentidp-bench: %d connections, %s per scenario (+%s warm-up), %d agents, %d CPUs, %s\n",
		o.conns, o.duration, o.warmup, o.agents, runtime.NumCPU(), runtime.Version())
	multi := len(builds) > 1
	if multi || o.rounds > 1 {
		var names []string
		for _, b := range builds {
			names = append(names, b.label+"="+b.path)
		}
		fmt.Printf("%d round(s), each per algorithm: its ceiling, then %s\n", o.rounds, strings.Join(names, ", "))
	}
	fmt.Printf("CPU time per successful request over the measured window (%.0f clock ticks/s; Redis from INFO cpu)\n\n", clkTck())

	var all []row
	for round := 1; round <= o.rounds; round++ {
		var rows []row
		for i, alg := range o.algs {
			ceiling, err := measureCeiling(ctx, o, alg, rdb)
			if err != nil {
				return err
			}
			rows = append(rows, row{result: ceiling, ceiling: ceiling.PerSecond, group: ceiling.Name})
			for _, b := range builds {
				sr := serverRun{build: b, multi: multi, round: round, alg: alg, ceiling: ceiling.PerSecond, reads: i == 0, rdb: rdb}
				server, err := measureServer(ctx, o, sr)
				if err != nil {
					return err
				}
				rows = append(rows, server...)
			}
			for _, name := range o.peers {
				peer, ok, err := measurePeer(ctx, o, name, alg, ceiling.PerSecond, rdb)
				if err != nil {
					return err
				}
				if ok {
					rows = append(rows, peer)
				}
			}
		}
		if o.rounds > 1 {
			fmt.Printf("Round %d of %d:\n\n", round, o.rounds)
		}
		printTable(rows)
		fmt.Println()
		all = append(all, rows...)
	}
	if multi || o.rounds > 1 {
		fmt.Printf("Summary over %d round(s): median (min–max)\n\n", o.rounds)
		printSummary(summarize(all))
	}
	return nil
}

// redisClient is a client of -redis-url for INFO cpu, or nil (no Redis column) if it does
// not parse.
func redisClient(u string) *redis.Client {
	opt, err := redis.ParseURL(u)
	if err != nil {
		fmt.Fprintln(os.Stderr, "agentidp-bench: no Redis CPU column:", err)
		return nil
	}
	opt.PoolSize = 1
	return redis.NewClient(opt)
}

type row struct {
	result
	ceiling float64 // the ceiling this figure is compared with
	rssMiB  float64
	group   string // the scenario, the same for every binary: rows of a group and build are summarized together
	build   string // the binary's label, "" for ceilings and peers
}

func measureCeiling(ctx context.Context, o options, alg string, rdb *redis.Client) (result, error) {
	p, err := startCeiling(ctx, alg)
	if err != nil {
		return result{}, err
	}
	defer p.stop()
	u := "http://" + p.addr + "/token"
	r := drive(ctx, "ceiling: bare handler signing "+alg, o.conns, o.warmup, o.duration, &meter{pid: p.pid(), rdb: rdb}, func(int) (*http.Request, error) {
		return http.NewRequest(http.MethodPost, u, strings.NewReader("grant_type=client_credentials"))
	})
	return r, nil
}

type agentCred struct{ id, secret, token string }

// secretTokenRequest builds the w-th connection's client_credentials request to tokenURL,
// authenticated by an agent's secret (HTTP Basic), the agents taken in turn.
func secretTokenRequest(tokenURL string, agents []agentCred) func(w int) (*http.Request, error) {
	return func(w int) (*http.Request, error) {
		a := agents[w%len(agents)]
		req, err := http.NewRequest(http.MethodPost, tokenURL, strings.NewReader("grant_type=client_credentials"))
		if err != nil {
			return nil, err
		}
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		req.SetBasicAuth(url.QueryEscape(a.id), url.QueryEscape(a.secret))
		return req, nil
	}
}

// serverRun is one run of a binary on one algorithm's scenarios.
type serverRun struct {
	build
	multi   bool // several binaries: their label names the rows
	round   int
	alg     string
	ceiling float64
	reads   bool // introspection and the read too
	rdb     *redis.Client
}

func measureServer(ctx context.Context, o options, sr serverRun) ([]row, error) {
	alg, ceiling := sr.alg, sr.ceiling
	dbURL, drop, err := benchDatabase(ctx, o.databaseURL)
	if err != nil {
		return nil, err
	}
	defer drop()
	env := serverEnv{bin: sr.path, databaseURL: dbURL, redisURL: o.redisURL, redisPrefix: "agentidp-bench:" + randHex(4) + ":",
		alg: alg, adminID: newUUID(), adminSecret: newSecret(), masterKey: randKey(), pepper: randKey()}
	if o.pprofDir != "" {
		port, err := freePort()
		if err != nil {
			return nil, err
		}
		env.pprofAddr = fmt.Sprintf("127.0.0.1:%d", port)
	}
	p, err := startServer(ctx, env)
	if err != nil {
		return nil, err
	}
	defer p.stop()
	base := "http://" + p.addr

	// Builds before 2026-12-04 listened before their bootstrap admin existed: the first
	// token request could meet a 401; retry it for a few seconds.
	admin, err := getToken(base, env.adminID, env.adminSecret, "")
	for deadline := time.Now().Add(5 * time.Second); err != nil && time.Now().Before(deadline); {
		time.Sleep(100 * time.Millisecond)
		admin, err = getToken(base, env.adminID, env.adminSecret, "")
	}
	if err != nil {
		return nil, fmt.Errorf("admin token: %w", err)
	}
	agents := make([]agentCred, o.agents)
	for i := range agents {
		if agents[i], err = createAgent(base, admin, i); err != nil {
			return nil, err
		}
	}
	if o.revocations > 0 {
		if err := seedRevocations(ctx, dbURL, o.revocations); err != nil {
			return nil, err
		}
	}
	m := &meter{pid: p.pid(), db: dbName(dbURL), rdb: sr.rdb}
	prefix := "server"
	if sr.multi {
		prefix += " " + sr.label
	}
	// scenario drives one scenario, profiled with -pprof-dir, into a row.
	scenario := func(file, what string, mk request) row {
		if sr.multi || o.rounds > 1 {
			file = fmt.Sprintf("%s-r%d-%s", sr.label, sr.round, file)
		}
		var done <-chan struct{}
		if env.pprofAddr != "" {
			done = profile(ctx, env.pprofAddr, o.warmup, o.duration, filepath.Join(o.pprofDir, slug(file)+".pprof"))
		}
		r := drive(ctx, prefix+": "+what, o.conns, o.warmup, o.duration, m, mk)
		if done != nil {
			<-done
		}
		return row{result: r, ceiling: ceiling, group: "server: " + what, build: sr.label}
	}
	tokenURL := base + "/api/v1/token"
	var rows []row
	if o.wants("token") {
		rows = append(rows, scenario("token-"+alg, "POST /api/v1/token ("+alg+")", secretTokenRequest(tokenURL, agents)))
		if a, err := scrapeAudit(base); err == nil {
			fmt.Fprintf(os.Stderr, "audit group commit (%s %s run, whole server life): %.0f batches, mean %.1f events, mean write %.2f ms\n",
				sr.label, alg, a.batches, a.meanSize(), a.meanWriteMillis())
		}
	}
	if o.wants("token-pkjwt") {
		mk, err := assertionRequests(base, admin, tokenURL, agents)
		if err != nil {
			return nil, err
		}
		rows = append(rows, scenario("token-pkjwt-"+alg, "POST /api/v1/token, private_key_jwt ES256 ("+alg+")", mk))
	}
	if o.wants("token-dpop") {
		mk, err := dpopRequests(tokenURL, agents)
		if err != nil {
			return nil, err
		}
		rows = append(rows, scenario("token-dpop-"+alg, "POST /api/v1/token, secret + DPoP ES256 ("+alg+")", mk))
	}
	if sr.reads && o.wants("introspect") {
		introspectURL := base + "/api/v1/token/introspect"
		rows = append(rows, scenario("introspect", "POST /api/v1/token/introspect", func(w int) (*http.Request, error) {
			body := "token=" + url.QueryEscape(agents[w%len(agents)].token)
			req, err := http.NewRequest(http.MethodPost, introspectURL, strings.NewReader(body))
			if err != nil {
				return nil, err
			}
			req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
			req.Header.Set("Authorization", "Bearer "+admin)
			return req, nil
		}))
	}
	if sr.reads && o.wants("get") {
		rows = append(rows, scenario("get-agent", "GET /api/v1/agents/{agent_id}", func(w int) (*http.Request, error) {
			a := agents[w%len(agents)]
			req, err := http.NewRequest(http.MethodGet, base+"/api/v1/agents/"+a.id, nil)
			if err != nil {
				return nil, err
			}
			req.Header.Set("Authorization", "Bearer "+admin)
			return req, nil
		}))
	}
	if o.wants("idle") {
		r := idle(ctx, prefix+": idle, CPU µs per second (no requests)", o.warmup, o.duration, m)
		rows = append(rows, row{result: r, ceiling: 0, group: "server: idle, CPU µs per second", build: sr.label})
	}
	if len(rows) > 0 {
		rows[len(rows)-1].rssMiB = p.peakRSS()
	}
	return rows, nil
}

// profile fetches a CPU profile of the measured part of a scenario into file.
func profile(ctx context.Context, addr string, warmup, duration time.Duration, file string) <-chan struct{} {
	done := make(chan struct{})
	go func() {
		defer close(done)
		select {
		case <-ctx.Done():
			return
		case <-time.After(warmup):
		}
		secs := max(int(duration.Seconds())-1, 1)
		resp, err := http.Get(fmt.Sprintf("http://%s/debug/pprof/profile?seconds=%d", addr, secs))
		if err != nil {
			fmt.Fprintln(os.Stderr, "pprof:", err)
			return
		}
		defer resp.Body.Close()
		if err := os.MkdirAll(filepath.Dir(file), 0o755); err != nil {
			return
		}
		f, err := os.Create(file)
		if err != nil {
			return
		}
		defer f.Close()
		_, _ = io.Copy(f, resp.Body)
	}()
	return done
}

func slug(s string) string {
	return strings.Map(func(r rune) rune {
		if r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '-' {
			return r
		}
		return '-'
	}, s)
}

func getToken(base, id, secret, scope string) (string, error) {
	form := url.Values{"grant_type": {"client_credentials"}}
	if scope != "" {
		form.Set("scope", scope)
	}
	req, _ := http.NewRequest(http.MethodPost, base+"/api/v1/token", strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.SetBasicAuth(url.QueryEscape(id), url.QueryEscape(secret))
	var out struct {
		AccessToken string `json:"access_token"`
	}
	if err := call(req, 200, &out); err != nil {
		return "", err
	}
	return out.AccessToken, nil
}

func createAgent(base, admin string, i int) (agentCred, error) {
	body := fmt.Sprintf(`{"name":"bench-%d","plan":"unlimited","allowed_scopes":["agents:read"]}`, i)
	req, _ := http.NewRequest(http.MethodPost, base+"/api/v1/agents", strings.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Authorization", "Bearer "+admin)
	var agent struct {
		ID string `json:"agent_id"`
	}
	if err := call(req, 201, &agent); err != nil {
		return agentCred{}, fmt.Errorf("creating agent: %w", err)
	}
	req, _ = http.NewRequest(http.MethodPost, base+"/api/v1/agents/"+agent.ID+"/credentials", nil)
	req.Header.Set("Authorization", "Bearer "+admin)
	var cred struct {
		Secret string `json:"client_secret"`
	}
	if err := call(req, 201, &cred); err != nil {
		return agentCred{}, fmt.Errorf("issuing credential: %w", err)
	}
	tok, err := getToken(base, agent.ID, cred.Secret, "")
	return agentCred{id: agent.ID, secret: cred.Secret, token: tok}, err
}

func call(req *http.Request, want int, out any) error {
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != want {
		return fmt.Errorf("%s %s: %s: %.300s", req.Method, req.URL.Path, resp.Status, body)
	}
	return json.Unmarshal(body, out)
}

func printTable(rows []row) {
	fmt.Println("| scenario | requests | req/s | p50 | p99 | errors | × ceiling | server µs/req | PostgreSQL µs/req | (bench db) | Redis µs/req | total µs/req | load gen µs/req | idle | peak RSS |")
	fmt.Println("| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |")
	for _, r := range rows {
		ratio := "-"
		if r.ceiling > 0 {
			ratio = fmt.Sprintf("%.2f", r.PerSecond/r.ceiling)
		}
		rss := ""
		if r.rssMiB > 0 {
			rss = fmt.Sprintf("%.0f MiB", r.rssMiB)
		}
		idle := "-"
		if !math.IsNaN(r.CPU.Idle) {
			idle = fmt.Sprintf("%.0f %%", 100*r.CPU.Idle)
		}
		fmt.Printf("| %s | %d | %.0f | %s | %s | %d | %s | %s | %s | %s | %s | %s | %s | %s | %s |\n", r.Name, r.Requests, r.PerSecond,
			round(r.P50), round(r.P99), r.Errors, ratio,
			micros(r.perRequest(r.CPU.Server)), micros(r.perRequest(r.CPU.Postgres)), micros(r.perRequest(r.CPU.PostgresDB)),
			micros(r.perRequest(r.CPU.Redis)),
			micros(r.perRequest(r.CPU.total())), micros(r.perRequest(r.CPU.Bench)), idle, rss)
		if r.FirstErr != "" {
			fmt.Printf("|   first error: %s | | | | | | | | | | | | | | |\n", r.FirstErr)
		}
	}
}

// dbName is the database of a PostgreSQL URL.
func dbName(databaseURL string) string {
	u, err := url.Parse(databaseURL)
	if err != nil {
		return ""
	}
	return strings.TrimPrefix(u.Path, "/")
}

// micros formats a CPU time per request in µs, "-" when unknown.
func micros(v float64) string {
	if math.IsNaN(v) || math.IsInf(v, 0) {
		return "-"
	}
	return fmt.Sprintf("%.1f", v)
}

func round(d time.Duration) string {
	switch {
	case d >= time.Millisecond:
		return fmt.Sprintf("%.2f ms", float64(d)/float64(time.Millisecond))
	default:
		return fmt.Sprintf("%.0f µs", float64(d)/float64(time.Microsecond))
	}
}

// auditStats are the server's group-commit histograms, summed over its whole life.
type auditStats struct{ batches, events, writeSeconds float64 }

func (a auditStats) meanSize() float64        { return a.events / max(a.batches, 1) }
func (a auditStats) meanWriteMillis() float64 { return 1000 * a.writeSeconds / max(a.batches, 1) }

// scrapeAudit reads the audit writer's batch histograms from the server's /metrics.
func scrapeAudit(base string) (auditStats, error) {
	resp, err := http.Get(base + "/metrics")
	if err != nil {
		return auditStats{}, err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		return auditStats{}, err
	}
	var a auditStats
	for _, line := range strings.Split(string(body), "\n") {
		name, value, ok := strings.Cut(line, " ")
		if !ok {
			continue
		}
		v, err := strconv.ParseFloat(strings.TrimSpace(value), 64)
		if err != nil {
			continue
		}
		switch name {
		case "agentidp_audit_batch_size_count":
			a.batches = v
		case "agentidp_audit_batch_size_sum":
			a.events = v
		case "agentidp_audit_write_duration_seconds_sum":
			a.writeSeconds = v
		}
	}
	return a, nil
}
