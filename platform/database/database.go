// Package database opens the relational store: PostgreSQL through pgx when
// AGENTIDP_DATABASE_URL is set, otherwise SQLite in AGENTIDP_DATA_DIR through a pure-Go
// driver (no cgo), both behind bun. It embeds and applies the migrations and translates
// driver errors into the shared sentinels below, so repositories stay dialect-neutral.
package database

import (
	"context"
	"database/sql"
	"fmt"
	"os"
	"path/filepath"
	"time"

	_ "github.com/jackc/pgx/v5/stdlib" // registers the "pgx" driver
	"github.com/uptrace/bun"
	"github.com/uptrace/bun/dialect"
	"github.com/uptrace/bun/dialect/pgdialect"
	"github.com/uptrace/bun/dialect/sqlitedialect"
	"go.uber.org/fx"
	"go.uber.org/zap"
	_ "modernc.org/sqlite" // registers the "sqlite" driver

	"github.com/agentidp/agentidp/platform/config"
	"github.com/agentidp/agentidp/platform/tracing"
)

// SQLiteFile is the database file's name inside AGENTIDP_DATA_DIR.
const SQLiteFile = "agentidp.db"

// Open opens the configured store and checks it answers. It does not migrate.
func Open(ctx context.Context, cfg *config.Config) (*bun.DB, error) {
	if cfg.Embedded() {
		return OpenSQLite(ctx, filepath.Join(cfg.DataDir, SQLiteFile))
	}
	return OpenPostgres(ctx, cfg.DatabaseURL, cfg.DBMaxOpenConns, cfg.DBMaxIdleConns, cfg.DBConnMaxLife)
}

// OpenPostgres opens a pgx-backed pool with the given sizes.
func OpenPostgres(ctx context.Context, url string, maxOpen, maxIdle int, maxLife time.Duration) (*bun.DB, error) {
	sqldb, err := sql.Open("pgx", url)
	if err != nil {
		return nil, fmt.Errorf("AGENTIDP_DATABASE_URL: %v", redactURL(err))
	}
	sqldb.SetMaxOpenConns(maxOpen)
	sqldb.SetMaxIdleConns(maxIdle)
	sqldb.SetConnMaxLifetime(maxLife)
	db := bun.NewDB(sqldb, pgdialect.New())
	if err := ping(ctx, db); err != nil {
		_ = db.Close()
		return nil, fmt.Errorf("AGENTIDP_DATABASE_URL: cannot reach PostgreSQL: %v", redactURL(err))
	}
	return db, nil
}

// OpenSQLite opens (creating if needed) the SQLite file at path in WAL mode. Write
// transactions take the write lock up front (_txlock=immediate) so that two of them wait
// for each other (busy_timeout) instead of failing on a lock upgrade.
func OpenSQLite(ctx context.Context, path string) (*bun.DB, error) {
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return nil, fmt.Errorf("AGENTIDP_DATA_DIR: %v", err)
	}
	dsn := "file:" + path + "?_txlock=immediate" +
		"&_pragma=journal_mode(WAL)&_pragma=busy_timeout(10000)&_pragma=foreign_keys(1)&_pragma=synchronous(NORMAL)"
	sqldb, err := sql.Open("sqlite", dsn)
	if err != nil {
		return nil, fmt.Errorf("AGENTIDP_DATA_DIR: %v", err)
	}
	sqldb.SetMaxOpenConns(8)
	sqldb.SetMaxIdleConns(8)
	sqldb.SetConnMaxLifetime(0)
	db := bun.NewDB(sqldb, sqlitedialect.New())
	if err := ping(ctx, db); err != nil {
		_ = db.Close()
		return nil, fmt.Errorf("AGENTIDP_DATA_DIR: cannot open %s: %v", path, err)
	}
	return db, nil
}

func ping(ctx context.Context, db *bun.DB) error {
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	return db.PingContext(ctx)
}

// IsPostgres reports whether db speaks PostgreSQL (else SQLite).
func IsPostgres(db bun.IDB) bool { return db.Dialect().Name() == dialect.PG }

// Params are what New needs from the graph.
type Params struct {
	fx.In
	Lifecycle fx.Lifecycle
	Config    *config.Config
	Log       *zap.Logger
	Tracing   *tracing.Tracing `optional:"true"`
}

// New opens the store, registers its closer right where the pool is opened, and (with
// AGENTIDP_AUTO_MIGRATE) the start hook that migrates it.
func New(p Params) (*bun.DB, error) {
	db, err := Open(context.Background(), p.Config)
	if err != nil {
		return nil, err
	}
	p.Lifecycle.Append(fx.StopHook(db.Close))
	tracing.Bun(db, p.Tracing)
	autoMigrate(p.Lifecycle, db, p.Config, p.Log)
	p.Log.Named("database").Info("database opened", zap.String("dialect", db.Dialect().Name().String()))
	return db, nil
}
