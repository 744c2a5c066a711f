package audit

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/uptrace/bun"
	"go.uber.org/fx/fxtest"
	"go.uber.org/zap"

	"github.com/agentidp/agentidp/platform/audittrail"
	"github.com/agentidp/agentidp/platform/testenv"
)

// With no checkpoint tick to create partitions, a burst of events far larger than a
// partition's span still goes in: every group-commit batch that finds no partition for
// its rows creates the partitions it needs and is written again; a RecordTx that finds
// none fails with its transaction and leaves the partitions created behind it.
func TestIntegrationAppendsCreateTheMissingPartitions(t *testing.T) {
	b := testenv.PostgresBackend(t)
	ctx := context.Background()
	smallPartitions(t, b.DB, 4) // partitions up to seq 60; nothing creates more but the writers
	lc := fxtest.NewLifecycle(t)
	w := newGroupWriter(lc, b.DB, zap.NewNop(), newWriterMetrics(prometheus.NewRegistry()), newFollowHub(nil))
	lc.RequireStart()
	t.Cleanup(lc.RequireStop)
	rec := &recorder{writer: w, now: time.Now}

	const burst = 300 // five times the partitions there are, in batches of up to 256
	errs := make([]error, burst)
	var wg sync.WaitGroup
	for i := range burst {
		wg.Add(1)
		go func() {
			defer wg.Done()
			errs[i] = rec.Record(ctx, audittrail.Event{Action: "token.issued", TargetType: audittrail.TargetToken, TargetID: fmt.Sprint(i)})
		}()
	}
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			t.Fatalf("event %d: %v", i, err)
		}
	}
	if rep, err := newVerifier(b.DB).VerifyChain(ctx); err != nil || !rep.OK || rep.HeadSeq != burst {
		t.Fatalf("chain after the burst: %+v %v", rep, err)
	}

	// RecordTx at the end of the partitions: the first fails, the next finds the partitions.
	var hi int64
	if err := b.DB.NewSelect().Table("audit_partitions").ColumnExpr("max(hi)").Scan(ctx, &hi); err != nil {
		t.Fatal(err)
	}
	for seq := int64(burst); seq < hi-1; seq++ {
		if err := rec.Record(ctx, audittrail.Event{Action: "token.issued"}); err != nil {
			t.Fatal(err)
		}
	}
	recordTx := func() error {
		return b.DB.RunInTx(ctx, nil, func(ctx context.Context, tx bun.Tx) error {
			return rec.RecordTx(ctx, tx, audittrail.Event{Action: "agent.updated"})
		})
	}
	if err := recordTx(); !isNoPartition(err) {
		t.Fatalf("RecordTx past the partitions' end: %v, want no partition", err)
	}
	for deadline := time.Now().Add(30 * time.Second); ; time.Sleep(10 * time.Millisecond) {
		var now int64
		if err := b.DB.NewSelect().Table("audit_partitions").ColumnExpr("max(hi)").Scan(ctx, &now); err != nil {
			t.Fatal(err)
		}
		if now > hi {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("no partition created after the failed RecordTx")
		}
	}
	if err := recordTx(); err != nil {
		t.Fatalf("RecordTx after the partitions were created: %v", err)
	}
	if rep, err := newVerifier(b.DB).VerifyChain(ctx); err != nil || !rep.OK {
		t.Fatalf("chain at the end: %+v %v", rep, err)
	}
}
