package dpop_test

import (
	"errors"
	"net/http"
	"strings"
	"testing"

	jose "github.com/go-jose/go-jose/v4"

	"github.com/agentidp/agentidp/platform/dpop"
	"github.com/agentidp/agentidp/platform/dpop/dpoptest"
)

// FuzzParse feeds proof parsing anything: it must never panic, refuse with an
// *InvalidProof, and whatever it accepts must carry the claims and the thumbprint.
func FuzzParse(f *testing.F) {
	f.Add(rfcProof)
	for _, alg := range []jose.SignatureAlgorithm{jose.ES256, jose.EdDSA} {
		k := dpoptest.NewKey(f, alg)
		f.Add(k.Proof(f, http.MethodPost, "https://idp.example.com/api/v1/token", ""))
		f.Add(k.Proof(f, http.MethodGet, "https://idp.example.com/api/v1/agents", "token"))
		f.Add(k.Sign(f, map[string]any{"typ": "JWT"}, map[string]any{"jti": 1}))
	}
	f.Add("")
	f.Add("..")
	f.Add("e30.e30.")
	f.Add("eyJhbGciOiJub25lIn0.e30.")
	f.Add(strings.Repeat("a", 9000))
	f.Fuzz(func(t *testing.T, raw string) {
		p, err := dpop.Parse(raw)
		if err != nil {
			var ip *dpop.InvalidProof
			if !errors.As(err, &ip) || !errors.Is(err, dpop.ErrInvalidProof) || p != nil {
				t.Fatalf("refusal %T %v", err, err)
			}
			return
		}
		if p.ID == "" || p.IssuedAt == nil || p.HTM == "" || p.HTU == "" || len(p.JKT) != 43 {
			t.Fatalf("accepted an incomplete proof: %+v", p)
		}
	})
}
