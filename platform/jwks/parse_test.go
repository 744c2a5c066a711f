package jwks_test

import (
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"encoding/json"
	"errors"
	"strings"
	"testing"

	"github.com/go-jose/go-jose/v4"

	"github.com/agentidp/agentidp/platform/jwks"
)

func marshal(t testing.TB, v any) []byte {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestParsePublicAcceptsSupportedKeys(t *testing.T) {
	rk, _ := rsa.GenerateKey(rand.Reader, 2048)
	ek, _ := ecdsa.GenerateKey(elliptic.P384(), rand.Reader)
	pub, _, _ := ed25519.GenerateKey(rand.Reader)
	raw := marshal(t, jose.JSONWebKeySet{Keys: []jose.JSONWebKey{
		{Key: &rk.PublicKey, KeyID: "rsa-1", Algorithm: "PS256", Use: "sig"},
		{Key: &ek.PublicKey},
		{Key: pub, KeyID: "ed"},
	}})
	set, err := jwks.ParsePublic(raw)
	if err != nil {
		t.Fatal(err)
	}
	tp, _ := jwks.Thumbprint(jose.JSONWebKey{Key: &ek.PublicKey})
	if got := jwks.KeyIDs(set); len(got) != 3 || got[0] != "rsa-1" || got[1] != tp || got[2] != "ed" {
		t.Fatalf("kids %v; want rsa-1, the RFC 7638 thumbprint %s, ed", got, tp)
	}
}

func TestParsePublicRefuses(t *testing.T) {
	small, _ := rsa.GenerateKey(rand.Reader, 1024)
	rk, _ := rsa.GenerateKey(rand.Reader, 2048)
	ek, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	_, edPriv, _ := ed25519.GenerateKey(rand.Reader)
	pubJSON := string(marshal(t, jose.JSONWebKey{Key: &ek.PublicKey, KeyID: "k"}))
	withMember := func(name string) string {
		return `{"keys":[` + strings.TrimSuffix(pubJSON, "}") + `,"` + name + `":"AQAB"}]}`
	}
	cases := map[string][]byte{
		"private RSA":       marshal(t, jose.JSONWebKeySet{Keys: []jose.JSONWebKey{{Key: rk, KeyID: "r"}}}),
		"private EC":        marshal(t, jose.JSONWebKeySet{Keys: []jose.JSONWebKey{{Key: ek, KeyID: "e"}}}),
		"private Ed25519":   marshal(t, jose.JSONWebKeySet{Keys: []jose.JSONWebKey{{Key: edPriv, KeyID: "d"}}}),
		"symmetric":         marshal(t, jose.JSONWebKeySet{Keys: []jose.JSONWebKey{{Key: []byte("0123456789abcdef0123456789abcdef"), KeyID: "s"}}}),
		"RSA 1024":          marshal(t, jose.JSONWebKeySet{Keys: []jose.JSONWebKey{{Key: &small.PublicKey}}}),
		"P-224":             []byte(`{"keys":[{"kty":"EC","crv":"P-224","x":"uDe6ARkcbzz1W6O5eRqU3GAUwqBK5HKSqXDPlg","y":"AKB2qCiSnWrOYfsy2cMlD0UI5NUmvjkLmeltTQ"}]}`),
		"alg mismatch":      marshal(t, jose.JSONWebKeySet{Keys: []jose.JSONWebKey{{Key: &ek.PublicKey, Algorithm: "RS256"}}}),
		"HS256 alg":         marshal(t, jose.JSONWebKeySet{Keys: []jose.JSONWebKey{{Key: &ek.PublicKey, Algorithm: "HS256"}}}),
		"use enc":           marshal(t, jose.JSONWebKeySet{Keys: []jose.JSONWebKey{{Key: &ek.PublicKey, Use: "enc"}}}),
		"duplicate kid":     marshal(t, jose.JSONWebKeySet{Keys: []jose.JSONWebKey{{Key: &ek.PublicKey, KeyID: "x"}, {Key: &rk.PublicKey, KeyID: "x"}}}),
		"empty":             []byte(`{"keys":[]}`),
		"not a set":         []byte(`[1,2]`),
		"trailing data":     []byte(`{"keys":[]} {}`),
		"member d only":     []byte(withMember("d")),
		"member p only":     []byte(withMember("p")),
		"member q only":     []byte(withMember("q")),
		"member dp only":    []byte(withMember("dp")),
		"member dq only":    []byte(withMember("dq")),
		"member qi only":    []byte(withMember("qi")),
		"member k":          []byte(withMember("k")),
		"too many keys":     []byte(`{"keys":[` + strings.Repeat(pubJSON+",", jwks.MaxKeys) + pubJSON + `]}`),
		"unknown kty":       []byte(`{"keys":[{"kty":"XYZ"}]}`),
		"bad RSA":           []byte(`{"keys":[{"kty":"RSA","n":"AQAB","e":"AQAB"}]}`),
		"too large":         []byte(`{"keys":[],"x":"` + strings.Repeat("a", jwks.MaxSetBytes) + `"}`),
		"key not an object": []byte(`{"keys":["x"]}`),
	}
	for name, raw := range cases {
		if _, err := jwks.ParsePublic(raw); !errors.Is(err, jwks.ErrInvalid) {
			t.Errorf("%s: err = %v; want ErrInvalid", name, err)
		}
	}
}

// FuzzParsePublic: any input either is refused with ErrInvalid or yields public keys of the
// supported types, each with a kid, and never panics.
func FuzzParsePublic(f *testing.F) {
	ek, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	rk, _ := rsa.GenerateKey(rand.Reader, 2048)
	pub, priv, _ := ed25519.GenerateKey(rand.Reader)
	for _, s := range []jose.JSONWebKeySet{
		{Keys: []jose.JSONWebKey{{Key: &ek.PublicKey, KeyID: "e"}}},
		{Keys: []jose.JSONWebKey{{Key: &rk.PublicKey, Algorithm: "RS256"}, {Key: pub}}},
		{Keys: []jose.JSONWebKey{{Key: ek}}},
		{Keys: []jose.JSONWebKey{{Key: priv}}},
		{Keys: []jose.JSONWebKey{{Key: []byte("secret")}}},
	} {
		f.Add(marshal(f, s))
	}
	f.Add([]byte(`{"keys":[{"kty":"EC","crv":"P-256","x":"","y":""}]}`))
	f.Add([]byte(`{"keys":null}`))
	f.Add([]byte(`{}`))
	f.Fuzz(func(t *testing.T, raw []byte) {
		set, err := jwks.ParsePublic(raw)
		if err != nil {
			if !errors.Is(err, jwks.ErrInvalid) {
				t.Fatalf("refusal without ErrInvalid: %v", err)
			}
			return
		}
		if len(set.Keys) == 0 || len(set.Keys) > jwks.MaxKeys {
			t.Fatalf("%d keys accepted", len(set.Keys))
		}
		for _, k := range set.Keys {
			if !k.IsPublic() || k.KeyID == "" {
				t.Fatalf("accepted a private key or a key without kid: %+v", k)
			}
			switch k.Key.(type) {
			case *rsa.PublicKey, *ecdsa.PublicKey, ed25519.PublicKey:
			default:
				t.Fatalf("accepted a key of type %T", k.Key)
			}
		}
	})
}
