package dpop_test

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"errors"
	"testing"

	"github.com/agentidp/agentidp/client/dpop"
)

// FuzzCheck feeds arbitrary proofs, methods, URLs and tokens to the Checker: it never
// panics, and whatever it accepts is a proof whose htm and ath match the request.
func FuzzCheck(f *testing.F) {
	p, _ := dpop.GenerateProofer()
	good, _ := p.Proof("GET", target, token)
	tokenProof, _ := p.Proof("POST", "https://idp.example/api/v1/token", "")
	ec, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	f.Add(good, "GET", target, token)
	f.Add(tokenProof, "POST", "https://idp.example/api/v1/token", "")
	f.Add(signProof(f, ec, "ES256", nil, map[string]any{"jti": 1, "htm": []int{1}, "iat": "x"}), "GET", target, token)
	f.Add("eyJhbGciOiJub25lIn0.e30.", "GET", target, "")
	f.Add("a.b.c", "GET", "https://x/", "t")
	f.Add("", "", "", "")
	f.Fuzz(func(t *testing.T, proof, method, url, tok string) {
		c := &dpop.Checker{Replay: dpop.NewMemoryReplayCache()}
		res, err := c.Check(context.Background(), dpop.Request{Proof: proof, Method: method, URL: url, AccessToken: tok})
		if err != nil {
			return
		}
		if res.Claims.Method != method || (tok != "" && res.Claims.ATH != dpop.ATH(tok)) || res.JKT == "" {
			t.Fatalf("accepted a mismatching proof: %+v", res)
		}
		if _, err := c.Check(context.Background(), dpop.Request{Proof: proof, Method: method, URL: url, AccessToken: tok}); !errors.Is(err, dpop.ErrInvalidProof) {
			t.Fatal("replay accepted")
		}
	})
}
