package tokens

import (
	"context"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/agentidp/agentidp/modules/orgs"
	"github.com/agentidp/agentidp/platform/testenv"
)

// benchSign is the signing ceiling: what Issue does once every check has passed — claims,
// jti, payload, signature (go-jose) — and nothing else.
func benchSign(b *testing.B, alg string) {
	priv, err := newKeyPair(alg)
	if err != nil {
		b.Fatal(err)
	}
	kid, _ := keyID(priv.Public())
	s, err := newTokenSigner(kid, alg, priv)
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			c := newClaims(testIssuer, orgs.RootID, "0191f0a4-1c2d-4e3f-8a4b-5c6d7e8f9a01", "0191f0a4-1c2d-4e3f-8a4b-5c6d7e8f9a02",
				testIssuer, "agents:read usage:read", uuid.NewString(), time.Now().Unix(), time.Hour)
			if _, err := s.Sign(c); err != nil {
				b.Fatal(err)
			}
		}
	})
}

func BenchmarkSignOnlyRS256(b *testing.B) { benchSign(b, AlgRS256) }
func BenchmarkSignOnlyES256(b *testing.B) { benchSign(b, AlgES256) }
func BenchmarkSignOnlyEdDSA(b *testing.B) { benchSign(b, AlgEdDSA) }

// BenchmarkVerify is token validation with in-process stores (SQLite, the in-process cache
// and directories): "first" is a token seen for the first time (header, kid, signature,
// claims, then revocation, agent, credential); "repeat" is the same token again (the
// verified cache skips the parsing and the signature; the liveness checks still run).
func BenchmarkVerify(b *testing.B) {
	for _, alg := range []string{AlgRS256, AlgES256, AlgEdDSA} {
		u := newUnitEnv(b, testenv.SQLite(b), alg)
		tok := u.sign(b, u.claims())
		ctx := context.Background()
		b.Run(alg+"/first", func(b *testing.B) {
			b.ReportAllocs()
			b.RunParallel(func(pb *testing.PB) {
				for pb.Next() {
					now := time.Now()
					t, err := u.val.parse(ctx, tok, now)
					if err != nil {
						b.Fatal(err)
					}
					if err := u.val.alive(ctx, t.claims, now); err != nil {
						b.Fatal(err)
					}
				}
			})
		})
		b.Run(alg+"/repeat", func(b *testing.B) {
			b.ReportAllocs()
			b.RunParallel(func(pb *testing.PB) {
				for pb.Next() {
					if _, err := u.val.Verify(ctx, tok); err != nil {
						b.Fatal(err)
					}
				}
			})
		})
	}
}
