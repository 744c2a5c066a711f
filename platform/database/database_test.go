package database_test

import (
	"context"
	"errors"
	"path/filepath"
	"strings"
	"testing"

	"github.com/uptrace/bun"

	"github.com/agentidp/agentidp/platform/database"
	"github.com/agentidp/agentidp/platform/testenv"
)

func eachDialect(t *testing.T, fn func(t *testing.T, db *bun.DB)) {
	t.Run("postgres", func(t *testing.T) { fn(t, testenv.Postgres(t)) })
	t.Run("sqlite", func(t *testing.T) { fn(t, testenv.SQLite(t)) })
}

// The test databases come migrated: every embedded migration is applied, none pending, and
// a second MigrateUp applies nothing.
func TestMigrationsApplyOnBothDialects(t *testing.T) {
	eachDialect(t, func(t *testing.T, db *bun.DB) {
		ctx := context.Background()
		st, err := database.Status(ctx, db)
		if err != nil {
			t.Fatal(err)
		}
		for _, s := range st {
			if !s.Applied {
				t.Errorf("migration %s not applied", s.Name)
			}
		}
		if n, err := database.Pending(ctx, db); err != nil || n != 0 {
			t.Fatalf("pending %d, %v", n, err)
		}
		again, err := database.MigrateUp(ctx, db)
		if err != nil || len(again) != 0 {
			t.Fatalf("second MigrateUp applied %v, %v", again, err)
		}
	})
}

// Both dialects carry the same migration versions, so neither store lags behind.
func TestDialectsHaveTheSameMigrations(t *testing.T) {
	pg, lite := testenv.Postgres(t), testenv.SQLite(t)
	a, err := database.Status(context.Background(), pg)
	if err != nil {
		t.Fatal(err)
	}
	b, err := database.Status(context.Background(), lite)
	if err != nil {
		t.Fatal(err)
	}
	if len(a) != len(b) {
		t.Fatalf("postgres has %d migrations, sqlite %d", len(a), len(b))
	}
	for i := range a {
		if a[i].Name != b[i].Name {
			t.Errorf("migration %d: %s vs %s", i, a[i].Name, b[i].Name)
		}
	}
}

func TestTranslate(t *testing.T) {
	eachDialect(t, func(t *testing.T, db *bun.DB) {
		ctx := context.Background()
		if _, err := db.ExecContext(ctx, `CREATE TABLE translate_probe (id TEXT PRIMARY KEY)`); err != nil {
			t.Fatal(err)
		}
		if _, err := db.ExecContext(ctx, `INSERT INTO translate_probe (id) VALUES ('a')`); err != nil {
			t.Fatal(err)
		}
		_, err := db.ExecContext(ctx, `INSERT INTO translate_probe (id) VALUES ('a')`)
		if !errors.Is(database.Translate(err), database.ErrAlreadyExists) {
			t.Fatalf("duplicate key: %v", err)
		}
		var id string
		err = db.NewSelect().Table("translate_probe").Column("id").Where("id = ?", "zz").Scan(ctx, &id)
		if !errors.Is(database.Translate(err), database.ErrNotFound) {
			t.Fatalf("no rows: %v", err)
		}
		if database.Translate(nil) != nil {
			t.Fatal("nil must stay nil")
		}
	})
}

func TestUnreachablePostgresIsUnavailable(t *testing.T) {
	_, err := database.OpenPostgres(context.Background(), "postgres://u:hunter2@127.0.0.1:1/x?connect_timeout=1", 1, 1, 0)
	if err == nil || strings.Contains(err.Error(), "hunter2") || !strings.HasPrefix(err.Error(), "AGENTIDP_DATABASE_URL:") {
		t.Fatalf("got %v", err)
	}
}

func TestSQLiteFileCreatedInDataDir(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "nested", "data")
	db, err := database.OpenSQLite(context.Background(), filepath.Join(dir, database.SQLiteFile))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if database.IsPostgres(db) {
		t.Fatal("dialect")
	}
	var mode string
	if err := db.QueryRowContext(context.Background(), "PRAGMA journal_mode").Scan(&mode); err != nil || mode != "wal" {
		t.Fatalf("journal_mode %q %v", mode, err)
	}
}
