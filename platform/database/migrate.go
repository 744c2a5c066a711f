package database

import (
	"context"
	"fmt"
	"io/fs"
	"slices"
	"strings"
	"time"

	"github.com/uptrace/bun"
	"github.com/uptrace/bun/migrate"

	"github.com/agentidp/agentidp/migrations"
)

const (
	migrationsTable = "agentidp_migrations"
	locksTable      = "agentidp_migration_locks"
)

// MigrationFS is the embedded migration set for db's dialect.
func MigrationFS(db bun.IDB) fs.FS {
	if IsPostgres(db) {
		return migrations.Postgres()
	}
	return migrations.SQLite()
}

func newMigrator(db *bun.DB) (*migrate.Migrator, error) {
	return newMigratorOf(db, MigrationFS(db))
}

func newMigratorOf(db *bun.DB, set fs.FS) (*migrate.Migrator, error) {
	ms := migrate.NewMigrations()
	if err := ms.Discover(set); err != nil {
		return nil, fmt.Errorf("reading embedded migrations: %w", err)
	}
	return migrate.NewMigrator(db, ms,
		migrate.WithTableName(migrationsTable),
		migrate.WithLocksTableName(locksTable),
		migrate.WithMarkAppliedOnSuccess(true),
	), nil
}

// MigrateUp applies every pending migration under the migration lock, so that replicas
// starting together apply each migration once. It returns the names applied.
func MigrateUp(ctx context.Context, db *bun.DB) ([]string, error) {
	m, err := newMigrator(db)
	if err != nil {
		return nil, err
	}
	return migrateWith(ctx, m)
}

// MigrateOnly applies the pending migrations named in names (e.g. "20261128050000_metering"),
// and no other: the database as an older release left it, for upgrade tests. (A module's
// later migration may have an earlier version than another module's older one.)
func MigrateOnly(ctx context.Context, db *bun.DB, names []string) ([]string, error) {
	m, err := newMigratorOf(db, only{MigrationFS(db), names})
	if err != nil {
		return nil, err
	}
	return migrateWith(ctx, m)
}

// only is a migration set holding the files of the named migrations alone.
type only struct {
	fs.FS
	names []string
}

func (o only) ReadDir(name string) ([]fs.DirEntry, error) {
	all, err := fs.ReadDir(o.FS, name)
	var kept []fs.DirEntry
	for _, e := range all {
		if slices.Contains(o.names, strings.TrimSuffix(strings.TrimSuffix(e.Name(), ".up.sql"), ".down.sql")) {
			kept = append(kept, e)
		}
	}
	return kept, err
}

func migrateWith(ctx context.Context, m *migrate.Migrator) ([]string, error) {
	if err := m.Init(ctx); err != nil {
		return nil, fmt.Errorf("creating migration tables: %w", err)
	}
	if st, err := m.MigrationsWithStatus(ctx); err != nil {
		return nil, err
	} else if len(st.Unapplied()) == 0 {
		return nil, nil
	}
	if err := lockMigrations(ctx, m); err != nil {
		return nil, err
	}
	defer m.Unlock(context.WithoutCancel(ctx)) //nolint:errcheck // best effort; a stale lock row is reported by the next Lock
	group, err := m.Migrate(ctx)
	if err != nil {
		return nil, fmt.Errorf("applying migrations: %w", err)
	}
	var names []string
	for _, mig := range group.Migrations {
		names = append(names, mig.String())
	}
	return names, nil
}

// lockMigrations takes bun's lock row, waiting for another replica's migration to finish.
func lockMigrations(ctx context.Context, m *migrate.Migrator) error {
	for {
		err := m.Lock(ctx)
		if err == nil {
			return nil
		}
		if !IsUniqueViolation(err) {
			return fmt.Errorf("taking the migration lock: %w", err)
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("waiting for the migration lock held by another process: %w", ctx.Err())
		case <-time.After(200 * time.Millisecond):
		}
	}
}

// MigrationStatus is one migration and whether it has been applied.
type MigrationStatus struct {
	Name    string
	Applied bool
}

// Status lists every embedded migration and whether it is applied.
func Status(ctx context.Context, db *bun.DB) ([]MigrationStatus, error) {
	m, err := newMigrator(db)
	if err != nil {
		return nil, err
	}
	ms, err := m.MigrationsWithStatus(ctx)
	if err != nil {
		// A store never migrated has no migrations table yet: create it (idempotent) so
		// that every migration is listed as pending.
		if initErr := m.Init(ctx); initErr != nil {
			return nil, err
		}
		if ms, err = m.MigrationsWithStatus(ctx); err != nil {
			return nil, err
		}
	}
	out := make([]MigrationStatus, len(ms))
	for i, mig := range ms {
		out[i] = MigrationStatus{Name: mig.String(), Applied: mig.IsApplied()}
	}
	return out, nil
}

// Pending counts the migrations not yet applied (readiness: "migrations current").
func Pending(ctx context.Context, db *bun.DB) (int, error) {
	st, err := Status(ctx, db)
	if err != nil {
		return 0, err
	}
	n := 0
	for _, s := range st {
		if !s.Applied {
			n++
		}
	}
	return n, nil
}
