package credentials_test

import (
	"context"
	"errors"
	"testing"

	"github.com/google/uuid"

	"github.com/agentidp/agentidp/modules/credentials"
	"github.com/agentidp/agentidp/platform/testenv"
)

// benchSetup starts an embedded-mode app, issues one credential and verifies it once, so
// that the agent's credentials are in memory as on a busy token endpoint.
func benchSetup(b *testing.B) (*harness, string, issued) {
	b.Helper()
	h := newHarness(b, testenv.Config(b), testenv.SQLiteBackend(b))
	agent := h.createAgent("bench")
	c := h.issue(agent, nil)
	if _, err := h.verifier.Verify(context.Background(), agent, c.ClientSecret); err != nil {
		b.Fatal(err)
	}
	return h, agent, c
}

// BenchmarkVerifyHit: a good secret of a recently verified credential.
func BenchmarkVerifyHit(b *testing.B) {
	h, agent, c := benchSetup(b)
	ctx := context.Background()
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		if _, err := h.verifier.Verify(ctx, agent, c.ClientSecret); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkVerifyHitParallel: BenchmarkVerifyHit from every core at once (the caches' locks
// under contention).
func BenchmarkVerifyHitParallel(b *testing.B) {
	h, agent, c := benchSetup(b)
	ctx := context.Background()
	b.ReportAllocs()
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			if _, err := h.verifier.Verify(ctx, agent, c.ClientSecret); err != nil {
				b.Error(err)
				return
			}
		}
	})
}

// BenchmarkVerifyUnknownClient: a well-formed client_id no agent has (remembered as empty
// after its first lookup, so the database is not asked again).
func BenchmarkVerifyUnknownClient(b *testing.B) {
	h, _, c := benchSetup(b)
	ctx := context.Background()
	unknown := uuid.NewString()
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		if _, err := h.verifier.Verify(ctx, unknown, c.ClientSecret); !errors.Is(err, credentials.ErrInvalidClient) {
			b.Fatal(err)
		}
	}
}

// BenchmarkVerifyWrongSecret: a known agent, a well-formed wrong secret.
func BenchmarkVerifyWrongSecret(b *testing.B) {
	h, agent, c := benchSetup(b)
	ctx := context.Background()
	wrong := c.ClientSecret[:20] + "wrongwrongwrongwrongwrongwrong1"
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		if _, err := h.verifier.Verify(ctx, agent, wrong); !errors.Is(err, credentials.ErrInvalidClient) {
			b.Fatal(err)
		}
	}
}

// BenchmarkVerifyMalformedClient: a client_id that is not a UUID (dummy HMAC only).
func BenchmarkVerifyMalformedClient(b *testing.B) {
	h, _, c := benchSetup(b)
	ctx := context.Background()
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		if _, err := h.verifier.Verify(ctx, "not-a-client", c.ClientSecret); !errors.Is(err, credentials.ErrInvalidClient) {
			b.Fatal(err)
		}
	}
}
