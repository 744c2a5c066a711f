package tracing

import (
	"fmt"

	"github.com/redis/go-redis/extra/redisotel/v9"
	"github.com/redis/go-redis/v9"
	"github.com/uptrace/bun"
	"github.com/uptrace/bun/extra/bunotel"
)

// Bun adds the query hook to db when tracing is on: one client span per query, named after
// the operation, whose db.statement is the query's template (placeholders, never the
// arguments: bunotel's formatted queries stay off).
func Bun(db *bun.DB, t *Tracing) {
	if !t.Enabled() {
		return
	}
	//lint:ignore SA1019 the database is opened before tracing is known (bun.WithQueryHook is an option of bun.NewDB)
	db.AddQueryHook(bunotel.NewQueryHook(
		bunotel.WithTracerProvider(t.Provider()),
		bunotel.WithFormattedQueries(false),
	))
}

// Redis adds the tracing hook to client when tracing is on: one client span per command,
// named after it, without its arguments (no db.statement) and never for AUTH.
func Redis(client redis.UniversalClient, t *Tracing) error {
	if !t.Enabled() {
		return nil
	}
	if err := redisotel.InstrumentTracing(client,
		redisotel.WithTracerProvider(t.Provider()),
		redisotel.WithDBStatement(false),
		redisotel.WithCallerEnabled(false),
	); err != nil {
		return fmt.Errorf("tracing: %w", err)
	}
	return nil
}
