package main

import (
	"context"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// measureServed starts the server on the database and runs the proofs and follow parts.
func measureServed(ctx context.Context, o auditScaleOptions, secrets benchSecrets, bin string) error {
	adminID, adminSecret, err := adminCredential(o.secretsDir)
	if err != nil {
		return err
	}
	env := serverEnv{bin: bin, databaseURL: o.databaseURL, redisURL: o.redisURL, redisPrefix: "agentidp-audit-scale:" + randHex(4) + ":",
		alg: "EdDSA", adminID: adminID, adminSecret: adminSecret, masterKey: secrets.masterKey, pepper: secrets.pepper}
	t0 := time.Now()
	p, err := startServer(ctx, env)
	if err != nil {
		return err
	}
	defer p.stop()
	fmt.Printf("server ready in %s\n", time.Since(t0).Round(time.Millisecond))
	base := "http://" + p.addr
	m := &meter{pid: p.pid(), db: dbName(o.databaseURL)}
	if o.parts["proofs"] {
		if err := measureProofs(ctx, o, base, adminID, adminSecret, m); err != nil {
			return fmt.Errorf("proofs: %w", err)
		}
	}
	if o.parts["follow"] {
		if err := measureFollow(ctx, o, base, adminID, adminSecret, m); err != nil {
			return fmt.Errorf("follow: %w", err)
		}
	}
	fmt.Printf("server peak RSS %.0f MiB\n", p.peakRSS())
	return nil
}

// latestCheckpointSize asks the server for its latest checkpoint and returns its size.
func latestCheckpointSize(base, admin string) (int64, error) {
	req, _ := http.NewRequest(http.MethodGet, base+"/api/v1/audit/checkpoint", nil)
	req.Header.Set("Authorization", "Bearer "+admin)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return 0, err
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != 200 {
		return 0, fmt.Errorf("GET /api/v1/audit/checkpoint: %s: %.200s", resp.Status, body)
	}
	return strconv.ParseInt(checkpointSize(string(body)), 10, 64)
}

// measureProofs sends o.proofs inclusion then consistency proof requests, with one client
// and with o.clients, and prints their latencies and CPU cost.
func measureProofs(ctx context.Context, o auditScaleOptions, base, adminID, adminSecret string, m *meter) error {
	admin, err := getToken(base, adminID, adminSecret, "")
	if err != nil {
		return fmt.Errorf("admin token: %w", err)
	}
	size, err := latestCheckpointSize(base, admin)
	if err != nil {
		return err
	}
	fmt.Printf("\nproofs against the latest checkpoint, tree size %d (%s)\n", size, machineState())
	fmt.Printf("| proof | clients | requests | errors | proofs/s | p50 | p90 | p99 | max | server CPU µs/proof | PostgreSQL CPU µs/proof (bench db backends) |\n")
	fmt.Println("| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |")
	kinds := []struct {
		name string
		url  func(rng *rand.Rand) string
	}{
		{"inclusion", func(rng *rand.Rand) string {
			return fmt.Sprintf("%s/api/v1/audit/proof/inclusion?seq=%d&tree_size=%d", base, 1+rng.Int64N(size), size)
		}},
		{"consistency", func(rng *rand.Rand) string {
			to := 2 + rng.Int64N(size-1)
			return fmt.Sprintf("%s/api/v1/audit/proof/consistency?from=%d&to=%d", base, 1+rng.Int64N(to-1), to)
		}},
	}
	for _, k := range kinds {
		for _, clients := range []int{1, o.clients} {
			r := proofRun(ctx, o.proofs, clients, admin, m, k.url)
			fmt.Printf("| %s | %d | %d | %d | %.0f | %s | %s | %s | %s | %s | %s |\n", k.name, clients, r.n, r.errors,
				float64(r.n)/r.wall.Seconds(), round(r.pct(50)), round(r.pct(90)), round(r.pct(99)), round(r.pct(100)),
				micros(perRequest(r.cpu.Server, int64(r.n))), micros(perRequest(r.cpu.PostgresDB, int64(r.n))))
			if r.firstErr != "" {
				fmt.Printf("|   first error: %s | | | | | | | | | | |\n", r.firstErr)
			}
		}
	}
	return nil
}

// proofResult is one run of proof requests.
type proofResult struct {
	n, errors int
	firstErr  string
	lat       []time.Duration // sorted, successful requests
	wall      time.Duration
	cpu       cpuUsage
}

func (r proofResult) pct(p int) time.Duration {
	if len(r.lat) == 0 {
		return 0
	}
	i := min(len(r.lat)*p/100, len(r.lat)-1)
	return r.lat[i]
}

// proofRun sends n GET requests made by mk over clients keep-alive connections, back to back.
func proofRun(ctx context.Context, n, clients int, admin string, m *meter, mk func(*rand.Rand) string) proofResult {
	tr := &http.Transport{MaxIdleConnsPerHost: clients, MaxConnsPerHost: clients}
	defer tr.CloseIdleConnections()
	client := &http.Client{Transport: tr, Timeout: 10 * time.Second}
	var next atomic.Int64
	var mu sync.Mutex
	var r proofResult
	var wg sync.WaitGroup
	before := m.sample(ctx, time.Now())
	start := time.Now()
	for c := range clients {
		wg.Go(func() {
			rng := rand.New(rand.NewPCG(uint64(c), 0x9e3779b9))
			var lat []time.Duration
			var errs int
			var firstErr string
			for next.Add(1) <= int64(n) && ctx.Err() == nil {
				req, _ := http.NewRequestWithContext(ctx, http.MethodGet, mk(rng), nil)
				req.Header.Set("Authorization", "Bearer "+admin)
				t0 := time.Now()
				resp, err := client.Do(req)
				var body []byte
				if err == nil {
					body, _ = io.ReadAll(resp.Body)
					_ = resp.Body.Close()
				}
				d := time.Since(t0)
				switch {
				case err != nil:
					errs++
					firstErr = err.Error()
				case resp.StatusCode != 200 || !strings.Contains(string(body), `"hashes"`):
					errs++
					firstErr = fmt.Sprintf("%s: %.200s", resp.Status, body)
				default:
					lat = append(lat, d)
				}
			}
			mu.Lock()
			r.lat = append(r.lat, lat...)
			r.errors += errs
			if r.firstErr == "" {
				r.firstErr = firstErr
			}
			mu.Unlock()
		})
	}
	wg.Wait()
	r.wall = time.Since(start)
	r.cpu = usage(before, m.sample(ctx, time.Now()))
	slices.Sort(r.lat)
	r.n = len(r.lat)
	return r
}
