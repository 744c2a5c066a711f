package main

import (
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"encoding/hex"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"log"
	"net"
	"net/http"
	"os"
	"time"

	"github.com/go-jose/go-jose/v4"
)

// runCeiling serves the ceiling: POST /token answers a freshly signed JWT and nothing else
// (no client authentication, no storage, no audit). It runs as its own process, like the
// real server, so both compete with the load generator for the same two cores.
func runCeiling(args []string) {
	fs := flag.NewFlagSet("ceiling", flag.ExitOnError)
	alg := fs.String("alg", "RS256", "RS256, ES256 or EdDSA")
	addr := fs.String("addr", "127.0.0.1:0", "listen address")
	_ = fs.Parse(args)

	signer, err := newSigner(*alg)
	if err != nil {
		log.Fatal(err)
	}
	ln, err := net.Listen("tcp", *addr)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Fprintln(os.Stdout, ln.Addr().String()) // the parent reads the address
	http.HandleFunc("POST /token", func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.Copy(io.Discard, r.Body)
		var jti [16]byte
		_, _ = rand.Read(jti[:])
		now := time.Now().Unix()
		claims, _ := json.Marshal(map[string]any{
			"iss": "http://127.0.0.1", "sub": "agent", "client_id": "agent", "aud": "http://127.0.0.1",
			"scope": "agents:read", "iat": now, "exp": now + 3600, "jti": hex.EncodeToString(jti[:]),
		})
		jws, err := signer.Sign(claims)
		if err != nil {
			http.Error(w, err.Error(), 500)
			return
		}
		tok, _ := jws.CompactSerialize()
		w.Header().Set("Content-Type", "application/json")
		w.Header().Set("Cache-Control", "no-store")
		_ = json.NewEncoder(w).Encode(map[string]any{"access_token": tok, "token_type": "Bearer", "expires_in": 3600})
	})
	log.Fatal(http.Serve(ln, nil))
}

func newSigner(alg string) (jose.Signer, error) {
	var key any
	var err error
	switch alg {
	case "RS256":
		key, err = rsa.GenerateKey(rand.Reader, 2048)
	case "ES256":
		key, err = ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	case "EdDSA":
		_, key, err = ed25519.GenerateKey(rand.Reader)
	default:
		return nil, fmt.Errorf("unknown alg %q", alg)
	}
	if err != nil {
		return nil, err
	}
	opts := (&jose.SignerOptions{}).WithType("at+jwt").WithHeader("kid", "ceiling")
	return jose.NewSigner(jose.SigningKey{Algorithm: jose.SignatureAlgorithm(alg), Key: key}, opts)
}
