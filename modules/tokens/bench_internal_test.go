package tokens

import (
	"context"
	"encoding/json"
	"testing"
	"time"

	jose "github.com/go-jose/go-jose/v4"
	"github.com/google/uuid"

	"github.com/agentidp/agentidp/platform/testenv"
)

// benchSign is the signing ceiling: what Issue does once every check has passed — claims,
// jti, payload, signature — and nothing else.
func benchSign(b *testing.B, alg string) {
	priv, err := newKeyPair(alg)
	if err != nil {
		b.Fatal(err)
	}
	kid, _ := keyID(priv.Public())
	s, err := newJWSSigner(kid, alg, priv)
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		var buf [512]byte
		for pb.Next() {
			now := time.Now().Unix()
			c := claims{Issuer: testIssuer, Subject: "0191f0a4-1c2d-4e3f-8a4b-5c6d7e8f9a01", ClientID: "0191f0a4-1c2d-4e3f-8a4b-5c6d7e8f9a01",
				Audience: []string{testIssuer}, Scope: "agents:read usage:read", IssuedAt: now, Expiry: now + 3600,
				ID: uuid.NewString(), CredentialID: "0191f0a4-1c2d-4e3f-8a4b-5c6d7e8f9a02"}
			if _, err := s.Sign(c.appendJSON(buf[:0])); err != nil {
				b.Fatal(err)
			}
		}
	})
}

func BenchmarkSignOnlyRS256(b *testing.B) { benchSign(b, AlgRS256) }
func BenchmarkSignOnlyES256(b *testing.B) { benchSign(b, AlgES256) }
func BenchmarkSignOnlyEdDSA(b *testing.B) { benchSign(b, AlgEdDSA) }

// BenchmarkSignGoJose is the same work through go-jose's Signer (one per key, reused) and
// encoding/json, for comparison with the precomputed-header path above.
func BenchmarkSignGoJose(b *testing.B) {
	for _, alg := range []string{AlgRS256, AlgEdDSA} {
		b.Run(alg, func(b *testing.B) {
			priv, _ := newKeyPair(alg)
			s, err := jose.NewSigner(jose.SigningKey{Algorithm: jose.SignatureAlgorithm(alg), Key: priv},
				(&jose.SignerOptions{}).WithType("at+jwt").WithHeader("kid", "k"))
			if err != nil {
				b.Fatal(err)
			}
			b.ReportAllocs()
			b.ResetTimer()
			b.RunParallel(func(pb *testing.PB) {
				for pb.Next() {
					now := time.Now().Unix()
					obj, err := s.Sign(mustMarshal(map[string]any{"iss": testIssuer, "sub": "s", "client_id": "s",
						"aud": testIssuer, "scope": "agents:read usage:read", "iat": now, "exp": now + 3600,
						"jti": uuid.NewString(), "cid": "c"}))
					if err != nil {
						b.Fatal(err)
					}
					if _, err := obj.CompactSerialize(); err != nil {
						b.Fatal(err)
					}
				}
			})
		})
	}
}

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

func mustMarshal(v any) []byte {
	b, err := json.Marshal(v)
	if err != nil {
		panic(err)
	}
	return b
}
