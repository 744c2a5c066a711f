package audit_test

import (
	"bufio"
	"context"
	"fmt"
	"net/http"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"go.uber.org/fx"

	"github.com/agentidp/agentidp/modules/audit"
	"github.com/agentidp/agentidp/platform/audittrail"
	"github.com/agentidp/agentidp/platform/testenv"
)

// BenchmarkExportFollow measures what export followers (follow=true, no filter) cost the
// server on PostgreSQL: the process's CPU time (user + system, getrusage) per event while 16
// callers write events through group commit and each follower reads every one, with 0 and
// with 10 followers. The difference, divided by 10, is the CPU per event and follower (the
// followers' reading is in it too: it runs in the same process, scanning lines only).
//
//	go test -run xxx -bench ExportFollow -benchtime 4x ./modules/audit/
func BenchmarkExportFollow(b *testing.B) {
	for _, followers := range []int{0, 10} {
		b.Run(fmt.Sprintf("followers=%d", followers), func(b *testing.B) { benchFollow(b, followers) })
	}
}

func benchFollow(b *testing.B, followers int) {
	const writers, perWriter = 16, 64
	const events = writers * perWriter
	be := testenv.PostgresBackend(b)
	bearers := testenv.NewBearers()
	var rec audittrail.Recorder
	app := testenv.NewApp(b, testenv.Config(b), be, audit.Module, bearers.Option(), fx.Populate(&rec))
	token := bearers.Issue(agentA, "audit:read", "orgs:admin")
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	received := make([]atomic.Int64, followers)
	var ended atomic.Bool
	for i := range followers {
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, app.URL+"/api/v1/audit/export?follow=true&after_seq=0", nil)
		if err != nil {
			b.Fatal(err)
		}
		req.Header.Set("Authorization", "Bearer "+token)
		resp, err := testenv.Client.Do(req)
		if err != nil || resp.StatusCode != http.StatusOK {
			b.Fatalf("follow: %v %v", resp, err)
		}
		go func() {
			defer ended.Store(true)
			defer resp.Body.Close()
			sc := bufio.NewScanner(resp.Body)
			for sc.Scan() {
				received[i].Add(1)
			}
		}()
	}
	ev := audittrail.Event{Action: "token.issued", AgentID: agentA, TargetType: audittrail.TargetToken,
		TargetID: "0191f0a4-1c2d-7e3f-8a4b-5c6d7e8f9a0b", Details: map[string]any{"scope": "agents:read", "aud": "https://api"}}
	var cpu time.Duration
	total := int64(0)
	for b.Loop() {
		c0 := processCPU(b)
		var wg sync.WaitGroup
		for range writers {
			wg.Go(func() {
				for range perWriter {
					if err := rec.Record(ctx, ev); err != nil {
						b.Error(err)
						return
					}
				}
			})
		}
		wg.Wait()
		total += events
		for i := range received {
			for received[i].Load() < total {
				if ended.Load() {
					b.Fatalf("a follower ended (the server's ReadTimeout ends a stream after 30 s: keep the run short); follower %d has %d of %d", i, received[i].Load(), total)
				}
				time.Sleep(time.Millisecond)
			}
		}
		cpu += processCPU(b) - c0
	}
	b.ReportMetric(float64(cpu.Microseconds())/float64(total), "cpu-µs/event")
}

// processCPU is the process's user and system CPU time so far.
func processCPU(b *testing.B) time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		b.Fatal(err)
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
