package audit_test

import (
	"context"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/uptrace/bun"
	"go.uber.org/fx"

	"github.com/agentidp/agentidp/modules/audit"
	"github.com/agentidp/agentidp/platform/audittrail"
	"github.com/agentidp/agentidp/platform/testenv"
)

// BenchmarkGroupCommit measures Record under many concurrent callers on PostgreSQL: events
// per second, and each caller's added latency (Record's wall time: queueing, the batch's
// lock, insert and commit) at p50 and p99.
//
//	go test -run xxx -bench GroupCommit -benchtime 5s ./modules/audit/
func BenchmarkGroupCommit(b *testing.B) {
	benchRecord(b, func(ctx context.Context, rec audittrail.Recorder, _ *bun.DB, ev audittrail.Event) error {
		return rec.Record(ctx, ev)
	})
}

// BenchmarkRecordTxPerEvent is the baseline: the same callers each committing their own
// transaction with RecordTx (one chain lock, insert and commit per event).
func BenchmarkRecordTxPerEvent(b *testing.B) {
	benchRecord(b, func(ctx context.Context, rec audittrail.Recorder, db *bun.DB, ev audittrail.Event) error {
		return db.RunInTx(ctx, nil, func(ctx context.Context, tx bun.Tx) error { return rec.RecordTx(ctx, tx, ev) })
	})
}

func benchRecord(b *testing.B, write func(context.Context, audittrail.Recorder, *bun.DB, audittrail.Event) error) {
	be := testenv.PostgresBackend(b)
	var rec audittrail.Recorder
	var reg *prometheus.Registry
	testenv.NewApp(b, testenv.Config(b), be, audit.Module, testenv.NewBearers().Option(), fx.Populate(&rec, &reg))
	ev := audittrail.Event{Action: "token.issued", AgentID: agentA, TargetType: audittrail.TargetToken,
		TargetID: "0191f0a4-1c2d-7e3f-8a4b-5c6d7e8f9a0b", Details: map[string]any{"scope": "agents:read", "aud": "https://api"}}
	ctx := context.Background()

	var mu sync.Mutex
	var lat []time.Duration
	b.SetParallelism(16)
	b.ResetTimer()
	start := time.Now()
	b.RunParallel(func(pb *testing.PB) {
		var mine []time.Duration
		for pb.Next() {
			t0 := time.Now()
			if err := write(ctx, rec, be.DB, ev); err != nil {
				b.Error(err)
				return
			}
			mine = append(mine, time.Since(t0))
		}
		mu.Lock()
		lat = append(lat, mine...)
		mu.Unlock()
	})
	elapsed := time.Since(start)
	b.StopTimer()
	if len(lat) == 0 {
		return
	}
	slices.Sort(lat)
	b.ReportMetric(float64(len(lat))/elapsed.Seconds(), "events/s")
	b.ReportMetric(float64(lat[len(lat)/2].Microseconds())/1000, "p50-ms")
	b.ReportMetric(float64(lat[len(lat)*99/100].Microseconds())/1000, "p99-ms")
	if batches, events := histogramTB(b, reg, batchSize); batches > 0 {
		b.ReportMetric(events/float64(batches), "events/batch")
		n, secs := histogramTB(b, reg, writeTime)
		b.ReportMetric(secs/float64(n)*1000, "ms/batch")
	}
}

// BenchmarkVerifyChain measures the chain verification behind `agentidp audit verify` and
// GET /api/v1/audit/verify on PostgreSQL: rows checked per second over a chain of 50,000
// events (written first, through group commit).
//
//	go test -run xxx -bench VerifyChain -benchtime 3x ./modules/audit/
func BenchmarkVerifyChain(b *testing.B) {
	const rows = 50_000
	be := testenv.PostgresBackend(b)
	var rec audittrail.Recorder
	var verifier audit.ChainVerifier
	testenv.NewApp(b, testenv.Config(b), be, audit.Module, testenv.NewBearers().Option(), fx.Populate(&rec, &verifier))
	ctx := context.Background()
	ev := audittrail.Event{Action: "token.issued", AgentID: agentA, TargetType: audittrail.TargetToken,
		TargetID: "0191f0a4-1c2d-7e3f-8a4b-5c6d7e8f9a0b", Details: map[string]any{"scope": "agents:read", "aud": "https://api"}}
	var wg sync.WaitGroup
	for range 64 {
		wg.Go(func() {
			for range rows / 64 {
				if err := rec.Record(ctx, ev); err != nil {
					b.Error(err)
					return
				}
			}
		})
	}
	wg.Wait()
	b.ResetTimer()
	var checked int64
	for b.Loop() {
		rep, err := verifier.VerifyChain(ctx)
		if err != nil || !rep.OK {
			b.Fatalf("%+v %v", rep, err)
		}
		checked += rep.Checked
	}
	b.ReportMetric(float64(checked)/b.Elapsed().Seconds(), "rows/s")
}
