package audit

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/jackc/pgx/v5/pgconn"
	"github.com/transparency-dev/merkle/compact"
	"github.com/uptrace/bun"

	"github.com/agentidp/agentidp/platform/audittrail"
	"github.com/agentidp/agentidp/platform/database"
)

// Files of an archive directory.
const (
	archiveEvents     = "events.ndjson"
	archiveCheckpoint = "checkpoint.txt"
	archiveFrontier   = "frontier.json"
)

// ErrNothingToArchive: no whole prefix of the log lies before the date.
var ErrNothingToArchive = errors.New("audit: no events to archive before that date (on PostgreSQL whole partitions go, and never the one holding the newest event)")

// archiveRow is one row of audit_archives.
type archiveRow struct {
	bun.BaseModel `bun:"table:audit_archives"`

	ThroughSeq int64     `bun:"through_seq,pk"`
	LastHash   string    `bun:"last_hash"`
	Frontier   []byte    `bun:"frontier"` // Left, concatenated
	Before     time.Time `bun:"before"`
	ArchivedAt time.Time `bun:"archived_at"`
}

// archiver implements Archiver.
type archiver struct {
	db  *bun.DB
	cp  *checkpointer
	rec *recorder
}

func newArchiver(db *bun.DB, cp *checkpointer, rec *recorder) *archiver {
	return &archiver{db: db, cp: cp, rec: rec}
}

// lastArchive is the latest archive's row, or nil.
func lastArchive(ctx context.Context, db bun.IDB) (*archiveRow, error) {
	var row archiveRow
	err := db.NewSelect().Model(&row).OrderExpr("through_seq DESC").Limit(1).Scan(ctx)
	switch {
	case errors.Is(err, sql.ErrNoRows):
		return nil, nil
	case err != nil:
		return nil, fmt.Errorf("audit: reading the archives: %w", database.Translate(err))
	}
	return &row, nil
}

// Archive writes the events before `before` (a whole prefix of the log: on PostgreSQL whole
// partitions, never the newest event) to dir with a checkpoint covering them and the
// frontier, then removes them (PostgreSQL: the partitions are dropped; SQLite: the rows are
// deleted with the append-only triggers lifted for that transaction alone) and records
// audit.archived, in one transaction. dir must not exist or be empty.
func (a *archiver) Archive(ctx context.Context, before time.Time, dir string) (ArchiveReport, error) {
	prev, err := lastArchive(ctx, a.db)
	if err != nil {
		return ArchiveReport{}, err
	}
	first, prevHash := int64(1), genesisHash
	if prev != nil {
		first, prevHash = prev.ThroughSeq+1, prev.LastHash
	}
	cut, parts, err := a.cut(ctx, before, first)
	if err != nil {
		return ArchiveReport{}, err
	}
	if _, err := a.cp.sign(ctx); err != nil {
		return ArchiveReport{}, err
	}
	key := a.cp.currentKey()
	cp, err := latestCheckpoint(ctx, a.db, key.origin)
	if err != nil {
		return ArchiveReport{}, err
	}
	fr, err := a.frontier(ctx, key.origin, first, cut, cp.TreeSize)
	if err != nil {
		return ArchiveReport{}, err
	}
	fr.PrevHash = prevHash
	n, err := a.writeDir(ctx, dir, fr, cp.Note)
	if err != nil {
		return ArchiveReport{}, err
	}
	row := &archiveRow{ThroughSeq: cut, LastHash: fr.LastHash, Frontier: joinHashes(fr.Left),
		Before: before.UTC(), ArchivedAt: time.Now().UTC()}
	err = a.commitArchive(ctx, func(ctx context.Context, tx bun.Tx) error {
		if err := removeEvents(ctx, tx, cut, parts); err != nil {
			return err
		}
		if _, err := tx.NewInsert().Model(row).Exec(ctx); err != nil {
			return fmt.Errorf("audit: recording the archive: %w", database.Translate(err))
		}
		return a.rec.RecordTx(ctx, tx, audittrail.Event{Action: "audit.archived", TargetType: "audit_log",
			TargetID: fmt.Sprintf("%d-%d", first, cut),
			Details: map[string]any{"before": before.UTC().Format(time.RFC3339), "first_seq": first,
				"through_seq": cut, "events": n, "checkpoint_tree_size": cp.TreeSize}})
	})
	if err != nil {
		return ArchiveReport{}, err
	}
	return ArchiveReport{FirstSeq: first, ThroughSeq: cut, Events: n, TreeSize: cp.TreeSize, Dir: dir}, nil
}

// Bounds of the archive's wait for its locks on PostgreSQL (commitArchive).
const (
	archiveLockTimeout = "200ms"
	archiveAttempts    = 50
)

// commitArchive runs fn in a transaction holding audit_events' table lock and the chain
// lock, in that order. Dropping a partition locks audit_events whole; taking the chain lock
// first would deadlock with a group-commit INSERT, which holds its table lock while its
// statement trigger waits for the chain lock. Taken table lock first, an INSERT simply waits
// for the archive. A RecordTx transaction holding the chain lock while it waits for the table
// could still close a cycle, so both waits are bounded (lock_timeout): when a lock is not had
// in time the archive gives way, rolls back, and tries again, up to archiveAttempts times.
// SQLite's write transaction is exclusive already.
func (a *archiver) commitArchive(ctx context.Context, fn func(context.Context, bun.Tx) error) error {
	if !database.IsPostgres(a.db) {
		return a.db.RunInTx(ctx, nil, fn)
	}
	for attempt := 1; ; attempt++ {
		err := a.db.RunInTx(ctx, nil, func(ctx context.Context, tx bun.Tx) error {
			for _, q := range []struct {
				sql  string
				args []any
			}{
				{"SET LOCAL lock_timeout = '" + archiveLockTimeout + "'", nil},
				{"LOCK TABLE audit_events IN ACCESS EXCLUSIVE MODE", nil},
				{"SELECT pg_advisory_xact_lock(?)", []any{chainLockKey}},
			} {
				if _, err := tx.ExecContext(ctx, q.sql, q.args...); err != nil {
					return fmt.Errorf("audit: locking the log for the archive: %w", err)
				}
			}
			return fn(ctx, tx)
		})
		if !isLockTimeout(err) || attempt == archiveAttempts {
			return database.Translate(err)
		}
		select {
		case <-time.After(time.Duration(attempt) * 20 * time.Millisecond):
		case <-ctx.Done():
			return ctx.Err()
		}
	}
}

// isLockTimeout reports a PostgreSQL lock_timeout (SQLSTATE 55P03, lock_not_available).
func isLockTimeout(err error) bool {
	var pgErr *pgconn.PgError
	return errors.As(err, &pgErr) && pgErr.Code == "55P03"
}

// cut is the seq of the last event to archive and, on PostgreSQL, the partitions that go.
func (a *archiver) cut(ctx context.Context, before time.Time, first int64) (int64, []partitionRow, error) {
	var head int64
	if err := a.db.NewSelect().Table("audit_events").ColumnExpr("COALESCE(max(seq), 0)").Scan(ctx, &head); err != nil {
		return 0, nil, fmt.Errorf("audit: reading the head: %w", database.Translate(err))
	}
	if !database.IsPostgres(a.db) {
		var firstAfter sql.NullInt64
		err := a.db.NewSelect().Table("audit_events").ColumnExpr("min(seq)").
			Where("occurred_at >= ?", before.UTC()).Scan(ctx, &firstAfter)
		if err != nil {
			return 0, nil, fmt.Errorf("audit: reading the log: %w", database.Translate(err))
		}
		cut := head - 1 // never the newest event
		if firstAfter.Valid && firstAfter.Int64-1 < cut {
			cut = firstAfter.Int64 - 1
		}
		if cut < first {
			return 0, nil, ErrNothingToArchive
		}
		return cut, nil, nil
	}
	var parts []partitionRow
	if err := a.db.NewSelect().Model(&parts).OrderExpr("lo ASC").Scan(ctx); err != nil {
		return 0, nil, fmt.Errorf("audit: reading the partitions: %w", database.Translate(err))
	}
	cut := first - 1
	var gone []partitionRow
	for _, p := range parts {
		if p.Hi > head { // holds the newest event, or is ahead of it
			break
		}
		var last struct {
			Seq sql.NullInt64 `bun:"seq"`
			At  sql.NullTime  `bun:"at"`
		}
		err := a.db.NewSelect().TableExpr("?", bun.Ident(p.Name)).
			ColumnExpr("max(seq) AS seq, max(occurred_at) AS at").Scan(ctx, &last)
		if err != nil {
			return 0, nil, fmt.Errorf("audit: reading partition %s: %w", p.Name, database.Translate(err))
		}
		if last.At.Valid && !last.At.Time.Before(before) {
			break
		}
		if last.Seq.Valid {
			cut = last.Seq.Int64
		}
		gone = append(gone, p)
	}
	if cut < first {
		return 0, nil, ErrNothingToArchive
	}
	return cut, gone, nil
}

// frontier reads the compact ranges and hashes the archive and the remaining log need.
func (a *archiver) frontier(ctx context.Context, origin string, first, cut, size int64) (*Frontier, error) {
	fr := &Frontier{Origin: origin, FirstSeq: first, ThroughSeq: cut, TreeSize: size}
	var err error
	if fr.Before, err = readNodes(ctx, a.db, compact.RangeNodes(0, uint64(first-1), nil)); err != nil {
		return nil, err
	}
	if fr.Left, err = readNodes(ctx, a.db, compact.RangeNodes(0, uint64(cut), nil)); err != nil {
		return nil, err
	}
	if fr.Right, err = readNodes(ctx, a.db, compact.RangeNodes(uint64(cut), uint64(size), nil)); err != nil {
		return nil, err
	}
	err = a.db.NewSelect().Table("audit_events").Column("hash").Where("seq = ?", cut).Scan(ctx, &fr.LastHash)
	if err != nil {
		return nil, fmt.Errorf("audit: reading event %d: %w", cut, database.Translate(err))
	}
	return fr, nil
}

// writeDir writes the events first..through, the checkpoint and the frontier into dir,
// each file synced, and returns the number of events.
func (a *archiver) writeDir(ctx context.Context, dir string, fr *Frontier, note string) (int64, error) {
	if err := os.MkdirAll(dir, 0o750); err != nil {
		return 0, err
	}
	if entries, err := os.ReadDir(dir); err != nil || len(entries) > 0 {
		return 0, fmt.Errorf("audit: archive directory %s must be empty", dir)
	}
	f, err := os.OpenFile(filepath.Join(dir, archiveEvents), os.O_CREATE|os.O_EXCL|os.O_WRONLY, 0o640)
	if err != nil {
		return 0, err
	}
	defer f.Close()
	enc := json.NewEncoder(f)
	enc.SetEscapeHTML(false)
	var n int64
	after := fr.FirstSeq - 1
	for after < fr.ThroughSeq {
		var rows []eventRow
		err := a.db.NewSelect().Model(&rows).Where("seq > ?", after).Where("seq <= ?", fr.ThroughSeq).
			OrderExpr("seq ASC").Limit(exportPageSize).Scan(ctx)
		if err != nil {
			return 0, fmt.Errorf("audit: reading events to archive: %w", database.Translate(err))
		}
		if len(rows) == 0 {
			return 0, fmt.Errorf("audit: event %d to archive is missing", after+1)
		}
		for i := range rows {
			if err := enc.Encode(toEvent(&rows[i])); err != nil {
				return 0, err
			}
			after, n = rows[i].Seq, n+1
		}
	}
	if err := f.Sync(); err != nil {
		return 0, err
	}
	frJSON, err := json.MarshalIndent(fr, "", "  ")
	if err != nil {
		return 0, err
	}
	for name, body := range map[string][]byte{archiveCheckpoint: []byte(note), archiveFrontier: frJSON} {
		if err := writeSynced(filepath.Join(dir, name), body); err != nil {
			return 0, err
		}
	}
	return n, nil
}

func writeSynced(path string, body []byte) error {
	f, err := os.OpenFile(path, os.O_CREATE|os.O_EXCL|os.O_WRONLY, 0o640)
	if err != nil {
		return err
	}
	defer f.Close()
	if _, err := f.Write(body); err != nil {
		return err
	}
	return f.Sync()
}

// removeEvents takes the archived events out of audit_events, inside tx: PostgreSQL drops
// the archived partitions (detached first); SQLite deletes the rows, lifting its
// append-only triggers for this transaction only.
func removeEvents(ctx context.Context, tx bun.Tx, cut int64, parts []partitionRow) error {
	if database.IsPostgres(tx) {
		for _, p := range parts {
			for _, s := range []string{"ALTER TABLE audit_events DETACH PARTITION ?", "DROP TABLE ?"} {
				if _, err := tx.ExecContext(ctx, s, bun.Ident(p.Name)); err != nil {
					return fmt.Errorf("audit: dropping partition %s: %w", p.Name, database.Translate(err))
				}
			}
			if _, err := tx.NewDelete().Model((*partitionRow)(nil)).Where("lo = ?", p.Lo).Exec(ctx); err != nil {
				return fmt.Errorf("audit: forgetting partition %s: %w", p.Name, database.Translate(err))
			}
		}
		return nil
	}
	stmts := []string{
		"DROP TRIGGER audit_events_no_delete",
		fmt.Sprintf("DELETE FROM audit_events WHERE seq <= %d", cut),
		`CREATE TRIGGER audit_events_no_delete BEFORE DELETE ON audit_events
BEGIN
    SELECT RAISE(ABORT, 'audit_events is append-only: DELETE refused');
END`,
	}
	for _, s := range stmts {
		if _, err := tx.ExecContext(ctx, s); err != nil {
			return fmt.Errorf("audit: removing archived events: %w", database.Translate(err))
		}
	}
	return nil
}

// joinHashes concatenates 32-byte hashes; splitHashes undoes it.
func joinHashes(hs [][]byte) []byte {
	out := make([]byte, 0, 32*len(hs))
	for _, h := range hs {
		out = append(out, h...)
	}
	return out
}

func splitHashes(b []byte) [][]byte {
	var out [][]byte
	for len(b) >= 32 {
		out = append(out, b[:32:32])
		b = b[32:]
	}
	return out
}
