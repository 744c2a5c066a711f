package audit

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/uptrace/bun"
	"go.uber.org/zap"

	"github.com/agentidp/agentidp/platform/audittrail"
	"github.com/agentidp/agentidp/platform/testenv"
	"github.com/agentidp/agentidp/platform/vault"
)

// checkpointed writes n events, signs a checkpoint of them and returns the checkpointer,
// the note and the verifier key.
func checkpointed(t *testing.T, db *bun.DB, n int) (*checkpointer, []byte, string) {
	t.Helper()
	ctx := context.Background()
	rec := &recorder{now: time.Now}
	for i := range n {
		err := db.RunInTx(ctx, nil, func(ctx context.Context, tx bun.Tx) error {
			return rec.RecordTx(ctx, tx, audittrail.Event{Action: "agent.created", AgentID: "0191f0a4-1c2d-7e3f-8a4b-5c6d7e8f9a0b",
				TargetType: "agent", TargetID: fmt.Sprint(i), Details: map[string]any{"i": i, "html": "<b>&</b>"}})
		})
		if err != nil {
			t.Fatal(err)
		}
	}
	c := newTestCheckpointer(t, db)
	cp, err := c.sign(ctx)
	if err != nil || cp == nil || cp.TreeSize != int64(n) {
		t.Fatalf("sign: %+v %v", cp, err)
	}
	return c, []byte(cp.Note), c.currentKey().verifierKey
}

func newTestCheckpointer(t *testing.T, db *bun.DB) *checkpointer {
	t.Helper()
	cfg := testenv.Config(t)
	log := zap.NewNop()
	c := &checkpointer{db: db, keys: &keyStore{db: db, cfg: cfg, kv: vault.Disabled{}, log: log}, log: log,
		pub: &publisher{}, now: time.Now}
	if err := c.start(context.Background()); err != nil {
		t.Fatal(err)
	}
	return c
}

// superuser runs fn as someone who holds the database: triggers off (PostgreSQL:
// session_replication_role = replica; SQLite: the triggers dropped).
func superuser(t *testing.T, b testenv.Backend, fn func(ctx context.Context, tx bun.Tx) error) {
	t.Helper()
	ctx := context.Background()
	err := b.DB.RunInTx(ctx, nil, func(ctx context.Context, tx bun.Tx) error {
		if b.Name == "postgres" {
			if _, err := tx.ExecContext(ctx, "SET LOCAL session_replication_role = replica"); err != nil {
				return err
			}
		} else {
			for _, trg := range []string{"audit_events_no_update", "audit_events_no_delete", "audit_tree_nodes_no_delete"} {
				if _, err := tx.ExecContext(ctx, "DROP TRIGGER IF EXISTS "+trg); err != nil {
					return err
				}
			}
		}
		return fn(ctx, tx)
	})
	if err != nil {
		t.Fatalf("tampering: %v", err)
	}
}

// rebuild replaces every event by rows, re-chained from the genesis with freshly computed
// hashes: a chain that verifies, as someone who can write the table would leave it.
func rebuild(ctx context.Context, tx bun.Tx, rows []eventRow) error {
	if _, err := tx.ExecContext(ctx, "DELETE FROM audit_events"); err != nil {
		return err
	}
	ptrs := make([]*eventRow, len(rows))
	for i := range rows {
		ptrs[i] = &rows[i]
	}
	if _, _, _, err := link(ptrs, head{hash: genesisHash, tree: emptyTree()}, nil); err != nil {
		return err
	}
	_, err := tx.NewInsert().Model(&ptrs).Exec(ctx)
	return err
}

func allRows(t *testing.T, db bun.IDB) []eventRow {
	t.Helper()
	var rows []eventRow
	if err := db.NewSelect().Model(&rows).OrderExpr("seq ASC").Scan(context.Background()); err != nil {
		t.Fatal(err)
	}
	return rows
}

// exportOf is the database's events as the NDJSON export writes them.
func exportOf(t *testing.T, db bun.IDB) []byte {
	t.Helper()
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	for _, r := range allRows(t, db) {
		if err := enc.Encode(toEvent(&r)); err != nil {
			t.Fatal(err)
		}
	}
	return buf.Bytes()
}

// Someone holding the database rewrites the log in each way the issue names; the log
// checked against a checkpoint signed before (from the database, and from an export with
// no database) tells, naming what it found. The last ones leave a hash chain that verifies:
// only the checkpoint catches them.
func TestIntegrationTamperingIsCaughtByTheCheckpoint(t *testing.T) {
	cases := []struct {
		name       string
		do         func(ctx context.Context, tx bun.Tx, rows []eventRow) error
		chainValid bool   // the hash chain alone does not see it
		reason     string // the LogReport's reason starts so
	}{
		{"alter a row", func(ctx context.Context, tx bun.Tx, _ []eventRow) error {
			_, err := tx.ExecContext(ctx, "UPDATE audit_events SET action = 'agent.deleted' WHERE seq = 5")
			return err
		}, false, "altered"},
		{"delete the newest rows", func(ctx context.Context, tx bun.Tx, _ []eventRow) error {
			_, err := tx.ExecContext(ctx, "DELETE FROM audit_events WHERE seq > 9")
			return err
		}, true, "truncated"},
		{"reorder, chain recomputed", func(ctx context.Context, tx bun.Tx, rows []eventRow) error {
			rows[3], rows[4] = rows[4], rows[3]
			return rebuild(ctx, tx, rows)
		}, true, "rewritten"},
		{"reorder, seqs swapped", func(ctx context.Context, tx bun.Tx, _ []eventRow) error {
			for _, s := range []string{"UPDATE audit_events SET seq = -1 WHERE seq = 3",
				"UPDATE audit_events SET seq = 3 WHERE seq = 4", "UPDATE audit_events SET seq = 4 WHERE seq = -1"} {
				if _, err := tx.ExecContext(ctx, s); err != nil {
					return err
				}
			}
			return nil
		}, false, "altered"},
		{"insert a row, chain recomputed", func(ctx context.Context, tx bun.Tx, rows []eventRow) error {
			forged := rows[6]
			forged.EventID, forged.TargetID = uuid.NewString(), "forged"
			return rebuild(ctx, tx, append(rows[:6:6], append([]eventRow{forged}, rows[6:]...)...))
		}, true, "rewritten"},
		{"truncate and rebuild the table, chain recomputed", func(ctx context.Context, tx bun.Tx, rows []eventRow) error {
			rows[2].Details = `{"i":2,"html":"nothing to see"}`
			return rebuild(ctx, tx, rows)
		}, true, "rewritten"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			testenv.ForEachBackend(t, func(t *testing.T, b testenv.Backend) {
				ctx := context.Background()
				_, note, vkey := checkpointed(t, b.DB, 12)
				v := newVerifier(b.DB)
				if rep, err := v.VerifyLog(ctx, note, vkey); err != nil || !rep.OK || rep.Checked != 12 {
					t.Fatalf("before tampering: %+v %v", rep, err)
				}
				if rep, err := VerifyExport(bytes.NewReader(exportOf(t, b.DB)), note, vkey, nil); err != nil || !rep.OK {
					t.Fatalf("export before tampering: %+v %v", rep, err)
				}

				superuser(t, b, func(ctx context.Context, tx bun.Tx) error { return tc.do(ctx, tx, allRows(t, b.DB)) })

				chain, err := v.VerifyChain(ctx)
				if err != nil || chain.OK != tc.chainValid {
					t.Fatalf("the hash chain alone: %+v %v, want ok=%v", chain, err, tc.chainValid)
				}
				rep, err := v.VerifyLog(ctx, note, vkey)
				if err != nil || rep.OK || !strings.HasPrefix(rep.Reason, tc.reason) {
					t.Fatalf("against the checkpoint: %+v %v, want %q", rep, err, tc.reason)
				}
				rep, err = VerifyExport(bytes.NewReader(exportOf(t, b.DB)), note, vkey, nil)
				if err != nil || rep.OK || !strings.HasPrefix(rep.Reason, tc.reason) {
					t.Fatalf("the export against the checkpoint: %+v %v, want %q", rep, err, tc.reason)
				}
			})
		})
	}
}

// A checkpoint that does not verify under the key, or a key of another log, is refused
// before any event is read.
func TestVerifyExportRefusesAForeignCheckpoint(t *testing.T) {
	testenv.ForEachBackend(t, func(t *testing.T, b testenv.Backend) {
		_, note, vkey := checkpointed(t, b.DB, 3)
		export := exportOf(t, b.DB)
		other := newTestCheckpointer(t, testenv.SQLiteBackend(t).DB).currentKey().verifierKey
		forged := bytes.Replace(note, []byte("\n3\n"), []byte("\n2\n"), 1)
		for name, try := range map[string]func() error{
			"other key":     func() error { _, err := VerifyExport(bytes.NewReader(export), note, other, nil); return err },
			"edited body":   func() error { _, err := VerifyExport(bytes.NewReader(export), forged, vkey, nil); return err },
			"not a key":     func() error { _, err := VerifyExport(bytes.NewReader(export), note, "nonsense", nil); return err },
			"not an export": func() error { _, err := VerifyExport(strings.NewReader("{oops\n"), note, vkey, nil); return err },
			"not a signature": func() error {
				_, err := VerifyExport(bytes.NewReader(export), []byte("x\n3\nAAAA\n"), vkey, nil)
				return err
			},
		} {
			if err := try(); err == nil {
				t.Errorf("%s: accepted", name)
			}
		}
	})
}

// The checkpointer signs only when the tree grew, extends its last checkpoint, and halts
// (saying so to /readyz) when the stored tree no longer matches it.
func TestIntegrationCheckpointerHaltsOnAnInconsistentTree(t *testing.T) {
	testenv.ForEachBackend(t, func(t *testing.T, b testenv.Backend) {
		ctx := context.Background()
		c, _, _ := checkpointed(t, b.DB, 5)
		if cp, err := c.sign(ctx); cp != nil || err != nil {
			t.Fatalf("nothing new: %+v %v", cp, err)
		}
		rows := allRows(t, b.DB)
		if got, want := mustRoot(t, b.DB, 5), independentRoot(t, rows); !bytes.Equal(got, want) {
			t.Fatalf("stored root %x, independent %x", got, want)
		}
		superuser(t, b, func(ctx context.Context, tx bun.Tx) error {
			_, err := tx.ExecContext(ctx, "DELETE FROM audit_tree_nodes WHERE level = 0 AND idx = 4")
			return err
		})
		if _, err := c.sign(ctx); !errors.Is(err, errInconsistent) {
			t.Fatalf("sign after the tree lost a node: %v", err)
		}
		if err := c.healthy(ctx); !errors.Is(err, errInconsistent) {
			t.Fatalf("readiness: %v", err)
		}
	})
}

// The audit key is created once, sealed under the master key: another master key cannot
// open it, and a second start finds the same key.
func TestIntegrationAuditKeySealedAndStable(t *testing.T) {
	testenv.ForEachBackend(t, func(t *testing.T, b testenv.Backend) {
		ctx := context.Background()
		cfg := testenv.Config(t)
		ks := &keyStore{db: b.DB, cfg: cfg, kv: vault.Disabled{}, log: zap.NewNop()}
		k1, err := ks.current(ctx)
		if err != nil {
			t.Fatal(err)
		}
		k2, err := ks.current(ctx)
		if err != nil || k2.verifierKey != k1.verifierKey {
			t.Fatalf("second load: %v %v", k2, err)
		}
		if want, _ := originFor(cfg.Issuer); k1.origin != want || !strings.HasPrefix(k1.verifierKey, want+"+") {
			t.Fatalf("origin %q key %q, want origin %q", k1.origin, k1.verifierKey, want)
		}
		var row auditKeyRow
		if err := b.DB.NewSelect().Model(&row).Scan(ctx); err != nil {
			t.Fatal(err)
		}
		if row.KeyWrap != "a256gcm" || bytes.Contains(row.PrivateKey, []byte("PRIVATE+KEY")) {
			t.Fatalf("stored key wrap %q, sealed %d bytes", row.KeyWrap, len(row.PrivateKey))
		}
		other := *cfg
		other.MasterKey = bytes.Repeat([]byte{9}, 32)
		if _, err := (&keyStore{db: b.DB, cfg: &other, kv: vault.Disabled{}, log: zap.NewNop()}).current(ctx); err == nil {
			t.Fatal("another master key opened the audit key")
		}
	})
}
