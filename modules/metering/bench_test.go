package metering_test

import (
	"context"
	"testing"

	"github.com/google/uuid"

	"github.com/agentidp/agentidp/modules/agents"
	"github.com/agentidp/agentidp/platform/testenv"
	"time"
)

// benchBackends are the two cache backends: Redis (with PostgreSQL) and in-process (with
// SQLite).
func benchBackends(b *testing.B, fn func(b *testing.B, be testenv.Backend)) {
	b.Run("redis", func(b *testing.B) { fn(b, testenv.PostgresBackend(b)) })
	b.Run("memory", func(b *testing.B) { fn(b, testenv.SQLiteBackend(b)) })
}

// BenchmarkConsumeToken is the rate limit and quota check on the token endpoint (one cache
// call): one free agent far from its limit (sequential), and many agents at once
// (parallel). The flusher runs at its default interval meanwhile.
func BenchmarkConsumeToken(b *testing.B) {
	benchBackends(b, func(b *testing.B, be testenv.Backend) {
		cfg := testenv.Config(b)
		cfg.FreeTierMonthlyTokens = 1 << 40
		cfg.TokenRateLimit = 1e9
		cfg.TokenRateBurst = 1_000_000
		e := newEnv(b, be, envOptions{cfg: cfg, flushEvery: time.Second})
		ctx := context.Background()
		id := e.Dir.add(agents.PlanFree)
		b.Run("sequential", func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if err := e.Meter.ConsumeToken(ctx, id, "free"); err != nil {
					b.Fatal(err)
				}
			}
		})
		b.Run("parallel", func(b *testing.B) {
			b.ReportAllocs()
			b.RunParallel(func(pb *testing.PB) {
				id := uuid.NewString()
				for pb.Next() {
					if err := e.Meter.ConsumeToken(ctx, id, "free"); err != nil {
						b.Error(err)
						return
					}
				}
			})
		})
	})
}

// BenchmarkAllowTokenRequest is the per-agent rate limit on the token endpoint.
func BenchmarkAllowTokenRequest(b *testing.B) {
	benchBackends(b, func(b *testing.B, be testenv.Backend) {
		cfg := testenv.Config(b)
		cfg.TokenRateLimit = 1e9
		cfg.TokenRateBurst = 1_000_000
		e := newEnv(b, be, envOptions{cfg: cfg, flushEvery: time.Second})
		ctx := context.Background()
		id := e.Dir.add(agents.PlanFree)
		b.Run("sequential", func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if err := e.Meter.AllowTokenRequest(ctx, id); err != nil {
					b.Fatal(err)
				}
			}
		})
		b.Run("parallel", func(b *testing.B) {
			b.ReportAllocs()
			b.RunParallel(func(pb *testing.PB) {
				id := uuid.NewString()
				for pb.Next() {
					if err := e.Meter.AllowTokenRequest(ctx, id); err != nil {
						b.Error(err)
						return
					}
				}
			})
		})
	})
}

// BenchmarkCheckAuthFailures is the brute-force guard's look before a secret is checked
// (two keys: the pair's (client_id, source IP) and the source IP's), in this replica's
// lockout table.
func BenchmarkCheckAuthFailures(b *testing.B) {
	benchBackends(b, func(b *testing.B, be testenv.Backend) {
		e := newEnv(b, be, envOptions{flushEvery: time.Second})
		ctx := context.Background()
		id := uuid.NewString()
		b.ReportAllocs()
		for b.Loop() {
			if err := e.Meter.CheckAuthFailures(ctx, id, "192.0.2.1"); err != nil {
				b.Fatal(err)
			}
		}
	})
}
