package testenv

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"database/sql"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgconn"
	"github.com/uptrace/bun"

	"github.com/agentidp/agentidp/migrations"
	"github.com/agentidp/agentidp/platform/database"
)

// AdminURL is the PostgreSQL server URL tests create their databases through.
func AdminURL() string {
	return envOr("AGENTIDP_TEST_DATABASE_URL", "postgres://postgres@127.0.0.1:5432/postgres?sslmode=disable")
}

var (
	templateOnce sync.Once
	templateName string
	templateErr  error
)

// PostgresURL creates a fresh, migrated database for t (dropped at cleanup) and returns its
// URL.
func PostgresURL(t testing.TB) string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	admin, err := sql.Open("pgx", AdminURL())
	if err == nil {
		err = admin.PingContext(ctx)
	}
	if err != nil {
		Unavailable(t, "PostgreSQL", err)
	}
	defer admin.Close()

	templateOnce.Do(func() { templateName, templateErr = ensureTemplate(ctx, admin) })
	if templateErr != nil {
		t.Fatalf("testenv: preparing the migrated template database: %v", templateErr)
	}
	name := "agentidp_test_" + randomHex(8)
	if err := createFrom(ctx, admin, name, templateName); err != nil {
		t.Fatalf("testenv: creating test database: %v", err)
	}
	t.Cleanup(func() {
		c, err := sql.Open("pgx", AdminURL())
		if err != nil {
			return
		}
		defer c.Close()
		_, _ = c.Exec(`DROP DATABASE IF EXISTS ` + name + ` WITH (FORCE)`)
	})
	return withDatabase(AdminURL(), name)
}

// Postgres opens a fresh, migrated database for t, closed and dropped at cleanup.
func Postgres(t testing.TB) *bun.DB {
	t.Helper()
	db, err := database.OpenPostgres(context.Background(), PostgresURL(t), 10, 5, time.Minute)
	if err != nil {
		t.Fatalf("testenv: %v", err)
	}
	t.Cleanup(func() { _ = db.Close() })
	return db
}

// ensureTemplate makes (once per migration set, under an advisory lock shared by every test
// process) a database migrated to the current set, to clone test databases from.
func ensureTemplate(ctx context.Context, admin *sql.DB) (string, error) {
	sum, err := migrationsDigest()
	if err != nil {
		return "", err
	}
	name := "agentidp_tmpl_" + sum[:16]
	conn, err := admin.Conn(ctx)
	if err != nil {
		return "", err
	}
	defer conn.Close()
	lockKey := int64(binary.BigEndian.Uint64([]byte("agidptpl")))
	if _, err := conn.ExecContext(ctx, `SELECT pg_advisory_lock($1)`, lockKey); err != nil {
		return "", err
	}
	defer conn.ExecContext(context.WithoutCancel(ctx), `SELECT pg_advisory_unlock($1)`, lockKey) //nolint:errcheck

	var exists bool
	if err := conn.QueryRowContext(ctx, `SELECT EXISTS (SELECT 1 FROM pg_database WHERE datname = $1)`, name).Scan(&exists); err != nil {
		return "", err
	}
	if exists {
		return name, nil
	}
	building := name + "_wip"
	_, _ = conn.ExecContext(ctx, `DROP DATABASE IF EXISTS `+building+` WITH (FORCE)`)
	if _, err := conn.ExecContext(ctx, `CREATE DATABASE `+building); err != nil {
		return "", err
	}
	db, err := database.OpenPostgres(ctx, withDatabase(AdminURL(), building), 2, 1, time.Minute)
	if err != nil {
		return "", err
	}
	_, err = database.MigrateUp(ctx, db)
	_ = db.Close()
	if err != nil {
		return "", fmt.Errorf("migrating template: %w", err)
	}
	// Renamed only once complete, so a crash half-way never leaves a usable broken template.
	if _, err := conn.ExecContext(ctx, `ALTER DATABASE `+building+` RENAME TO `+name); err != nil {
		return "", err
	}
	return name, nil
}

// createFrom clones template, retrying while another session briefly holds it.
func createFrom(ctx context.Context, admin *sql.DB, name, template string) error {
	for {
		_, err := admin.ExecContext(ctx, `CREATE DATABASE `+name+` TEMPLATE `+template)
		var pgErr *pgconn.PgError
		if err == nil || !errors.As(err, &pgErr) || pgErr.Code != "55006" {
			return err
		}
		select {
		case <-ctx.Done():
			return err
		case <-time.After(50 * time.Millisecond):
		}
	}
}

func migrationsDigest() (string, error) {
	h := sha256.New()
	err := fs.WalkDir(migrations.Postgres(), ".", func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := fs.ReadFile(migrations.Postgres(), path)
		h.Write([]byte(path))
		h.Write(b)
		return err
	})
	return hex.EncodeToString(h.Sum(nil)), err
}

func withDatabase(raw, name string) string {
	u, err := url.Parse(raw)
	if err != nil {
		return raw
	}
	u.Path = "/" + name
	return u.String()
}

func randomHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return strings.ToLower(hex.EncodeToString(b))
}

// EmptyPostgres opens a fresh database with no table at all (for upgrade tests: migrate it
// with database.MigrateThrough), closed and dropped at cleanup.
func EmptyPostgres(t testing.TB) *bun.DB {
	t.Helper()
	ctx := context.Background()
	admin, err := sql.Open("pgx", AdminURL())
	if err == nil {
		err = admin.PingContext(ctx)
	}
	if err != nil {
		Unavailable(t, "PostgreSQL", err)
	}
	defer admin.Close()
	name := "agentidp_test_" + randomHex(8)
	if _, err := admin.ExecContext(ctx, `CREATE DATABASE `+name); err != nil {
		t.Fatalf("testenv: creating an empty database: %v", err)
	}
	t.Cleanup(func() {
		c, err := sql.Open("pgx", AdminURL())
		if err != nil {
			return
		}
		defer c.Close()
		_, _ = c.Exec(`DROP DATABASE IF EXISTS ` + name + ` WITH (FORCE)`)
	})
	db, err := database.OpenPostgres(ctx, withDatabase(AdminURL(), name), 10, 5, time.Minute)
	if err != nil {
		t.Fatalf("testenv: %v", err)
	}
	t.Cleanup(func() { _ = db.Close() })
	return db
}
