package testenv

import (
	"context"
	"path/filepath"
	"testing"

	"github.com/uptrace/bun"

	"github.com/agentidp/agentidp/platform/database"
)

// SQLite opens a migrated embedded-mode database in a temp dir for t.
func SQLite(t testing.TB) *bun.DB {
	t.Helper()
	ctx := context.Background()
	db, err := database.OpenSQLite(ctx, filepath.Join(t.TempDir(), database.SQLiteFile))
	if err != nil {
		t.Fatalf("testenv: %v", err)
	}
	t.Cleanup(func() { _ = db.Close() })
	if _, err := database.MigrateUp(ctx, db); err != nil {
		t.Fatalf("testenv: migrating SQLite: %v", err)
	}
	return db
}

// EmptySQLite opens an embedded-mode database with no table at all (for upgrade tests).
func EmptySQLite(t testing.TB) *bun.DB {
	t.Helper()
	db, err := database.OpenSQLite(context.Background(), filepath.Join(t.TempDir(), database.SQLiteFile))
	if err != nil {
		t.Fatalf("testenv: %v", err)
	}
	t.Cleanup(func() { _ = db.Close() })
	return db
}
