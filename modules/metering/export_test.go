package metering

import (
	"context"
	"time"

	"go.uber.org/fx"
)

// Tuning sets the flusher's interval and the clock of the module under test (zero values
// keep the defaults).
func Tuning(flushEvery time.Duration, now func() time.Time) fx.Option {
	return fx.Supply(&tuning{flushEvery: flushEvery, now: now})
}

// Flush persists all of m's pending counts now, as on stop.
func Flush(ctx context.Context, m Meter) error { return m.(*meter).flusher.flush(ctx, true) }

// FlushPeriodic runs one periodic flush (which persists only the observations made before
// the previous one).
func FlushPeriodic(ctx context.Context, m Meter) error { return m.(*meter).flusher.flush(ctx, false) }
