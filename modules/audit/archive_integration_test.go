package audit

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/transparency-dev/merkle/proof"
	"github.com/uptrace/bun"

	"github.com/agentidp/agentidp/platform/audittrail"
	"github.com/agentidp/agentidp/platform/testenv"
)

// smallPartitions replaces the (empty) first partitions of a fresh PostgreSQL database by
// partitions of span seqs up to seq 60, so that a test fills several with a few events.
func smallPartitions(t *testing.T, db *bun.DB, span int64) {
	t.Helper()
	ctx := context.Background()
	var parts []partitionRow
	if err := db.NewSelect().Model(&parts).Scan(ctx); err != nil {
		t.Fatal(err)
	}
	for _, p := range parts {
		for _, s := range []string{"ALTER TABLE audit_events DETACH PARTITION ?", "DROP TABLE ?"} {
			if _, err := db.ExecContext(ctx, s, bun.Ident(p.Name)); err != nil {
				t.Fatal(err)
			}
		}
	}
	if _, err := db.ExecContext(ctx, "DELETE FROM audit_partitions"); err != nil {
		t.Fatal(err)
	}
	for lo := int64(1); lo < 60; lo += span {
		name := fmt.Sprintf("audit_events_p%d", lo)
		if _, err := db.ExecContext(ctx, fmt.Sprintf("CREATE TABLE %s PARTITION OF audit_events FOR VALUES FROM (%d) TO (%d)", name, lo, lo+span)); err != nil {
			t.Fatal(err)
		}
		if _, err := db.NewInsert().Model(&partitionRow{Lo: lo, Hi: lo + span, Name: name}).Exec(ctx); err != nil {
			t.Fatal(err)
		}
	}
	old := partitionSpan
	partitionSpan = span
	t.Cleanup(func() { partitionSpan = old })
}

// The archive takes a whole old prefix of the log out of the database (on PostgreSQL, whole
// partitions), writes it with a checkpoint and the frontier, and records audit.archived.
// Both the archive and the log that remains verify against checkpoints from before and
// after, proofs still answer (the tree's nodes stay), and an edited archive is caught.
func TestIntegrationArchive(t *testing.T) {
	testenv.ForEachBackend(t, func(t *testing.T, b testenv.Backend) {
		ctx := context.Background()
		if b.Name == "postgres" {
			smallPartitions(t, b.DB, 10)
		}
		c, oldNote, vkey := checkpointed(t, b.DB, 25)
		if err := ensurePartitions(ctx, b.DB, 0); err != nil {
			t.Fatal(err)
		}
		a := newArchiver(b.DB, c, &recorder{now: time.Now})
		if _, err := a.Archive(ctx, time.Date(2000, 1, 1, 0, 0, 0, 0, time.UTC), t.TempDir()); !errors.Is(err, ErrNothingToArchive) {
			t.Fatalf("archive before 2000: %v", err)
		}
		dir := filepath.Join(t.TempDir(), "archive")
		rep, err := a.Archive(ctx, time.Now().Add(time.Hour), dir)
		if err != nil {
			t.Fatal(err)
		}
		want := int64(24) // every event but the newest
		if b.Name == "postgres" {
			want = 20 // the partitions [1,11) and [11,21); [21,31) holds the newest
		}
		if rep.FirstSeq != 1 || rep.ThroughSeq != want || rep.Events != want || rep.TreeSize != 25 {
			t.Fatalf("report %+v, want through %d", rep, want)
		}
		left := allRows(t, b.DB)
		if left[0].Seq != want+1 || left[len(left)-1].Action != "audit.archived" || left[len(left)-1].Seq != 26 {
			t.Fatalf("rows left: first %d, last %d %s", left[0].Seq, left[len(left)-1].Seq, left[len(left)-1].Action)
		}

		// The chain and the log that remains verify, from the archived frontier.
		v := newVerifier(b.DB)
		if chain, err := v.VerifyChain(ctx); err != nil || !chain.OK || chain.HeadSeq != 26 {
			t.Fatalf("chain after the archive: %+v %v", chain, err)
		}
		cp, err := c.sign(ctx)
		if err != nil || cp == nil || cp.TreeSize != 26 {
			t.Fatalf("checkpoint after the archive: %+v %v", cp, err)
		}
		for name, note := range map[string][]byte{"before": oldNote, "after": []byte(cp.Note)} {
			if lr, err := v.VerifyLog(ctx, note, vkey); err != nil || !lr.OK {
				t.Fatalf("the log left, against the checkpoint from %s: %+v %v", name, lr, err)
			}
		}
		// Proofs that need archived nodes still answer.
		hashes, err := consistencyProof(ctx, b.DB, 3, 26)
		if err != nil {
			t.Fatal(err)
		}
		if err := proof.VerifyConsistency(hasher, 3, 26, hashes, mustRoot(t, b.DB, 3), cp.RootHash); err != nil {
			t.Fatalf("consistency 3→26 after the archive: %v", err)
		}

		// The archive's own files verify with no database; the remaining export too.
		var fr Frontier
		raw, _ := os.ReadFile(filepath.Join(dir, archiveFrontier))
		if err := json.Unmarshal(raw, &fr); err != nil {
			t.Fatal(err)
		}
		events, _ := os.ReadFile(filepath.Join(dir, archiveEvents))
		arcNote, _ := os.ReadFile(filepath.Join(dir, archiveCheckpoint))
		if n := bytes.Count(events, []byte("\n")); int64(n) != want {
			t.Fatalf("%d archived lines, want %d", n, want)
		}
		if lr, err := VerifyExport(bytes.NewReader(events), arcNote, vkey, &fr); err != nil || !lr.OK || lr.Checked != want {
			t.Fatalf("the archive: %+v %v", lr, err)
		}
		if lr, err := VerifyExport(bytes.NewReader(exportOf(t, b.DB)), []byte(cp.Note), vkey, &fr); err != nil || !lr.OK {
			t.Fatalf("the export left, with the frontier: %+v %v", lr, err)
		}
		edited := bytes.Replace(events, []byte(`"target_id":"7"`), []byte(`"target_id":"8"`), 1)
		if lr, err := VerifyExport(bytes.NewReader(edited), arcNote, vkey, &fr); err != nil || lr.OK {
			t.Fatalf("an edited archive: %+v %v", lr, err)
		}
		// The archived event names what went.
		var details map[string]any
		_ = json.Unmarshal([]byte(left[len(left)-1].Details), &details)
		if details["through_seq"] != float64(want) || details["events"] != float64(want) {
			t.Fatalf("audit.archived details %v", details)
		}
		// Deleting stays refused on every other path.
		if _, err := b.DB.ExecContext(ctx, "DELETE FROM audit_events WHERE seq = ?", want+1); err == nil {
			t.Fatal("a DELETE went through after the archive")
		}
		// A second archive continues from the first one's frontier.
		for range 3 {
			recordOne(t, b.DB)
		}
		if err := ensurePartitions(ctx, b.DB, 0); err != nil {
			t.Fatal(err)
		}
		dir2 := filepath.Join(t.TempDir(), "archive2")
		rep2, err := a.Archive(ctx, time.Now().Add(time.Hour), dir2)
		if b.Name == "postgres" {
			if !errors.Is(err, ErrNothingToArchive) { // [21,31) still holds the newest event
				t.Fatalf("second archive on PostgreSQL: %+v %v", rep2, err)
			}
			return
		}
		if err != nil || rep2.FirstSeq != want+1 {
			t.Fatalf("second archive: %+v %v", rep2, err)
		}
		raw, _ = os.ReadFile(filepath.Join(dir2, archiveFrontier))
		var fr2 Frontier
		_ = json.Unmarshal(raw, &fr2)
		events2, _ := os.ReadFile(filepath.Join(dir2, archiveEvents))
		note2, _ := os.ReadFile(filepath.Join(dir2, archiveCheckpoint))
		if lr, err := VerifyExport(bytes.NewReader(events2), note2, vkey, &fr2); err != nil || !lr.OK {
			t.Fatalf("the second archive: %+v %v", lr, err)
		}
		if chain, err := v.VerifyChain(ctx); err != nil || !chain.OK {
			t.Fatalf("chain after the second archive: %+v %v", chain, err)
		}
		sc := bufio.NewScanner(bytes.NewReader(events2))
		sc.Scan()
		if !strings.Contains(sc.Text(), fmt.Sprintf(`"seq":%d`, want+1)) {
			t.Fatalf("second archive starts with %s", sc.Text())
		}
	})
}

func recordOne(t *testing.T, db *bun.DB) {
	t.Helper()
	rec := &recorder{now: time.Now}
	err := db.RunInTx(context.Background(), nil, func(ctx context.Context, tx bun.Tx) error {
		return rec.RecordTx(ctx, tx, audittrail.Event{Action: "x.more"})
	})
	if err != nil {
		t.Fatal(err)
	}
}
