package audit

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"go.uber.org/fx/fxtest"
	"go.uber.org/zap"

	"github.com/agentidp/agentidp/platform/audittrail"
	"github.com/agentidp/agentidp/platform/testenv"
)

// An archive run while the group-commit writer appends without pause: dropping a partition
// locks audit_events whole, and an INSERT holding its table lock while it waits for the
// chain lock would deadlock with an archive holding the chain lock while it waits for the
// table. Neither side may fail: the archive takes the table lock before the chain lock and
// retries when it cannot get them quickly.
func TestIntegrationArchiveUnderAppendLoad(t *testing.T) {
	b := testenv.PostgresBackend(t)
	ctx := context.Background()
	smallPartitions(t, b.DB, 10)
	lc := fxtest.NewLifecycle(t)
	w := newGroupWriter(lc, b.DB, zap.NewNop(), newWriterMetrics(prometheus.NewRegistry()), newFollowHub(nil))
	lc.RequireStart()
	t.Cleanup(lc.RequireStop)
	rec := &recorder{writer: w, now: time.Now}
	c := newTestCheckpointer(t, b.DB)
	for i := range 25 {
		if err := rec.Record(ctx, audittrail.Event{Action: "token.issued", TargetType: audittrail.TargetToken, TargetID: fmt.Sprint(i)}); err != nil {
			t.Fatal(err)
		}
	}
	if err := ensurePartitions(ctx, b.DB, 1000); err != nil {
		t.Fatal(err)
	}
	before := time.Now()

	stop := make(chan struct{})
	var wg sync.WaitGroup
	var appended atomic.Int64
	errs := make(chan error, 8)
	for range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				select {
				case <-stop:
					return
				default:
				}
				if err := rec.Record(ctx, audittrail.Event{Action: "token.issued", TargetType: audittrail.TargetToken, TargetID: "x"}); err != nil {
					errs <- err
					return
				}
				appended.Add(1)
			}
		}()
	}
	time.Sleep(100 * time.Millisecond) // the writers are busy
	rep, err := newArchiver(b.DB, c, rec).Archive(ctx, before, filepath.Join(t.TempDir(), "archive"))
	time.Sleep(100 * time.Millisecond)
	close(stop)
	wg.Wait()
	close(errs)
	if err != nil {
		t.Fatalf("archive under load: %v", err)
	}
	for err := range errs {
		t.Fatalf("an append failed during the archive: %v", err)
	}
	if rep.ThroughSeq != 20 || appended.Load() == 0 {
		t.Fatalf("archived through %d with %d appends during it", rep.ThroughSeq, appended.Load())
	}
	if vr, err := newVerifier(b.DB).VerifyChain(ctx); err != nil || !vr.OK {
		t.Fatalf("chain after the archive: %+v %v", vr, err)
	}
	if errors.Is(err, ErrNothingToArchive) {
		t.Fatal("nothing archived")
	}
}
