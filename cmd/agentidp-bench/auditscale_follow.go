package main

import (
	"bufio"
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"time"
)

// follower is one client of GET /api/v1/audit/export?follow=true: what it received.
type follower struct {
	mu    sync.Mutex
	count int64
	last  int64 // the last seq received
	gap   string
	err   error
}

func (f *follower) state() (count, last int64, gap string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.count, f.last, f.gap
}

// follow reads the stream after seq head until ctx ends, checking that the seqs follow each
// other. connected is closed once the response's headers arrived (or it failed).
func (f *follower) follow(ctx context.Context, base, admin string, head int64, connected chan<- struct{}) {
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet,
		fmt.Sprintf("%s/api/v1/audit/export?follow=true&after_seq=%d", base, head), nil)
	req.Header.Set("Authorization", "Bearer "+admin)
	resp, err := (&http.Client{Transport: &http.Transport{}}).Do(req)
	close(connected)
	if err != nil {
		f.mu.Lock()
		f.err = err
		f.mu.Unlock()
		return
	}
	defer resp.Body.Close()
	if resp.StatusCode != 200 {
		f.mu.Lock()
		f.err = fmt.Errorf("follow: %s", resp.Status)
		f.mu.Unlock()
		return
	}
	sc := bufio.NewScanner(resp.Body)
	sc.Buffer(make([]byte, 0, 256<<10), 1<<20)
	for sc.Scan() {
		var ev struct {
			Seq int64 `json:"seq"`
		}
		if err := json.Unmarshal(sc.Bytes(), &ev); err != nil {
			f.mu.Lock()
			f.err = fmt.Errorf("follow: a line that is not an event: %w", err)
			f.mu.Unlock()
			return
		}
		f.mu.Lock()
		if ev.Seq != f.last+1 && f.gap == "" {
			f.gap = fmt.Sprintf("seq %d after %d", ev.Seq, f.last)
		}
		f.count++
		f.last = ev.Seq
		f.mu.Unlock()
	}
}

// logHead is the database's last seq.
func logHead(ctx context.Context, db *sql.DB) (int64, error) {
	var head int64
	err := db.QueryRowContext(ctx, "SELECT coalesce(max(seq), 0) FROM audit_events").Scan(&head)
	return head, err
}

// measureFollow alternates token load windows with 0 and o.followers followers.
func measureFollow(ctx context.Context, o auditScaleOptions, base, adminID, adminSecret string, m *meter) error {
	db, err := sql.Open("pgx", o.databaseURL)
	if err != nil {
		return err
	}
	defer db.Close()
	admin, err := getToken(base, adminID, adminSecret, "")
	if err != nil {
		return fmt.Errorf("admin token: %w", err)
	}
	agents := make([]agentCred, o.agents)
	offset := int(time.Now().Unix()%1_000_000) * 1000 // names unique across runs on one database
	for i := range agents {
		if agents[i], err = createAgent(base, admin, offset+i); err != nil {
			return err
		}
	}
	tokenReq := secretTokenRequest(base+"/api/v1/token", agents)
	fmt.Printf("\nfollow: POST /api/v1/token, %d connections, %d agents, %s measured per window after 2 s of warm-up (%s)\n",
		o.conns, o.agents, o.followWindow, machineState())
	fmt.Println("| round | followers | tokens | tokens/s | p50 | p99 | errors | server CPU µs/token | PostgreSQL CPU µs/token (bench db backends) | events after the head | each follower received | in order | idle |")
	fmt.Println("| ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | --- | --- | ---: |")
	for rnd := 1; rnd <= o.rounds; rnd++ {
		for _, n := range []int{0, o.followers} {
			// A fresh admin token per window: the followers authenticate when they connect.
			if admin, err = getToken(base, adminID, adminSecret, ""); err != nil {
				return fmt.Errorf("admin token: %w", err)
			}
			head, err := logHead(ctx, db)
			if err != nil {
				return err
			}
			fctx, stop := context.WithCancel(ctx)
			fs := make([]*follower, n)
			var wg sync.WaitGroup
			for i := range fs {
				fs[i] = &follower{last: head}
				connected := make(chan struct{})
				wg.Go(func() { fs[i].follow(fctx, base, admin, head, connected) })
				select {
				case <-connected:
				case <-time.After(10 * time.Second):
				}
			}
			r := drive(ctx, "token", o.conns, 2*time.Second, o.followWindow, m, tokenReq)
			time.Sleep(500 * time.Millisecond) // requests cut off at the window's end finish
			end, err := logHead(ctx, db)
			if err != nil {
				stop()
				return err
			}
			// Every follower must reach the head; give them up to 30 s.
			received, inOrder := "-", "-"
			if n > 0 {
				deadline := time.Now().Add(30 * time.Second)
				for time.Now().Before(deadline) {
					behind := false
					for _, f := range fs {
						if _, last, _ := f.state(); last < end {
							behind = true
						}
					}
					if !behind {
						break
					}
					time.Sleep(100 * time.Millisecond)
				}
				var counts []string
				inOrder = "yes"
				for _, f := range fs {
					c, _, gap := f.state()
					counts = append(counts, fmt.Sprint(c))
					if gap != "" {
						inOrder = "no: " + gap
					}
					f.mu.Lock()
					if f.err != nil {
						inOrder = "error: " + f.err.Error()
					}
					f.mu.Unlock()
				}
				received = summarizeCounts(counts)
			}
			stop()
			wg.Wait()
			idle := "-"
			if r.CPU.Idle == r.CPU.Idle {
				idle = fmt.Sprintf("%.0f %%", 100*r.CPU.Idle)
			}
			fmt.Printf("| %d | %d | %d | %.0f | %s | %s | %d | %s | %s | %d | %s | %s | %s |\n", rnd, n, r.Requests, r.PerSecond,
				round(r.P50), round(r.P99), r.Errors, micros(r.perRequest(r.CPU.Server)), micros(r.perRequest(r.CPU.PostgresDB)),
				end-head, received, inOrder, idle)
			if r.FirstErr != "" {
				fmt.Printf("|   first error: %s | | | | | | | | | | | | |\n", r.FirstErr)
			}
		}
	}
	return nil
}

// summarizeCounts is "N (all)" when every count is N, else the counts.
func summarizeCounts(counts []string) string {
	for _, c := range counts[1:] {
		if c != counts[0] {
			return strings.Join(counts, ", ")
		}
	}
	return fmt.Sprintf("%s (all %d)", counts[0], len(counts))
}
