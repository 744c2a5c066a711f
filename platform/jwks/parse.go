package jwks

import (
	"bytes"
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rsa"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"

	"github.com/go-jose/go-jose/v4"
)

// Limits of a key set given by value.
const (
	// MaxKeys is the most keys one set may hold.
	MaxKeys = 20
	// MaxSetBytes is the largest key set given by value.
	MaxSetBytes = 64 << 10
	// minRSABits is the smallest RSA modulus accepted.
	minRSABits = 2048
)

// Algs are the signature algorithms a client assertion may use, each tied to its key type
// by AlgFits.
var Algs = []jose.SignatureAlgorithm{jose.RS256, jose.PS256, jose.ES256, jose.ES384, jose.EdDSA}

// privateMembers are the JWK members that carry private or symmetric key material (RFC
// 7518 §6.2.2, §6.3.2, §6.4.1).
var privateMembers = []string{"d", "p", "q", "dp", "dq", "qi", "oth", "k"}

// ErrInvalid wraps every reason a key set is refused; its message is safe to show (it names
// a key by index or kid, never key material).
var ErrInvalid = errors.New("invalid JWKS")

func invalid(format string, args ...any) error {
	return fmt.Errorf("%w: "+format, append([]any{ErrInvalid}, args...)...)
}

// ParsePublic reads a key set given by value, strictly: at most MaxKeys keys, each a public
// signing key of a supported type (RSA of at least 2048 bits, EC P-256 or P-384, Ed25519),
// no private or symmetric member, no two keys with one kid, use "sig" and alg matching the
// key when given. A key without kid gets its RFC 7638 thumbprint (SHA-256, base64url) as
// kid. Every refusal wraps ErrInvalid.
func ParsePublic(raw []byte) (jose.JSONWebKeySet, error) {
	var set jose.JSONWebKeySet
	if len(raw) > MaxSetBytes {
		return set, invalid("the key set is larger than %d bytes", MaxSetBytes)
	}
	var doc struct {
		Keys []json.RawMessage `json:"keys"`
	}
	dec := json.NewDecoder(bytes.NewReader(raw))
	if err := dec.Decode(&doc); err != nil || dec.More() {
		return set, invalid("not a JSON object with a keys array")
	}
	switch {
	case len(doc.Keys) == 0:
		return set, invalid("keys is empty")
	case len(doc.Keys) > MaxKeys:
		return set, invalid("more than %d keys", MaxKeys)
	}
	seen := map[string]bool{}
	for i, kr := range doc.Keys {
		k, err := parseKey(kr)
		if err != nil {
			return jose.JSONWebKeySet{}, invalid("key %d: %v", i, err)
		}
		if seen[k.KeyID] {
			return jose.JSONWebKeySet{}, invalid("key %d: kid %q is used by another key", i, k.KeyID)
		}
		seen[k.KeyID] = true
		set.Keys = append(set.Keys, k)
	}
	return set, nil
}

// parseKey reads one key: refused when it carries private or symmetric material, is of an
// unsupported type or size, or names a use or alg that does not fit.
func parseKey(raw json.RawMessage) (jose.JSONWebKey, error) {
	var members map[string]json.RawMessage
	if err := json.Unmarshal(raw, &members); err != nil {
		return jose.JSONWebKey{}, errors.New("not a JSON object")
	}
	for _, m := range privateMembers {
		if _, ok := members[m]; ok {
			return jose.JSONWebKey{}, fmt.Errorf("has the private or symmetric member %q: register public keys only", m)
		}
	}
	var k jose.JSONWebKey
	if err := k.UnmarshalJSON(raw); err != nil {
		return jose.JSONWebKey{}, errors.New("not a valid JWK")
	}
	if !k.Valid() || !k.IsPublic() {
		return jose.JSONWebKey{}, errors.New("not a valid public key")
	}
	if err := checkKeyType(k.Key); err != nil {
		return jose.JSONWebKey{}, err
	}
	if k.Use != "" && k.Use != "sig" {
		return jose.JSONWebKey{}, errors.New(`use must be "sig"`)
	}
	if k.Algorithm != "" && !AlgFits(jose.SignatureAlgorithm(k.Algorithm), k.Key) {
		return jose.JSONWebKey{}, fmt.Errorf("alg %q does not fit the key (RS256 or PS256 for RSA, ES256 for P-256, ES384 for P-384, EdDSA for Ed25519)", k.Algorithm)
	}
	if len(k.KeyID) > 256 {
		return jose.JSONWebKey{}, errors.New("kid is longer than 256 characters")
	}
	if k.KeyID == "" {
		tp, err := Thumbprint(k)
		if err != nil {
			return jose.JSONWebKey{}, errors.New("no thumbprint can be computed")
		}
		k.KeyID = tp
	}
	return k, nil
}

// checkKeyType accepts RSA of at least 2048 bits, EC P-256 and P-384, and Ed25519.
func checkKeyType(key any) error {
	switch pk := key.(type) {
	case *rsa.PublicKey:
		if pk.N.BitLen() < minRSABits {
			return fmt.Errorf("RSA keys must have at least %d bits", minRSABits)
		}
		return nil
	case *ecdsa.PublicKey:
		if pk.Curve != elliptic.P256() && pk.Curve != elliptic.P384() {
			return errors.New("EC keys must be on P-256 or P-384")
		}
		return nil
	case ed25519.PublicKey:
		return nil
	}
	return errors.New("unsupported key type: use RSA (2048 bits or more), EC P-256/P-384 or Ed25519")
}

// AlgFits reports whether alg is one of Algs and suits key: RS256 and PS256 for RSA,
// ES256 for P-256, ES384 for P-384, EdDSA for Ed25519.
func AlgFits(alg jose.SignatureAlgorithm, key any) bool {
	switch pk := key.(type) {
	case *rsa.PublicKey:
		return alg == jose.RS256 || alg == jose.PS256
	case *ecdsa.PublicKey:
		return (alg == jose.ES256 && pk.Curve == elliptic.P256()) || (alg == jose.ES384 && pk.Curve == elliptic.P384())
	case ed25519.PublicKey:
		return alg == jose.EdDSA
	}
	return false
}

// Thumbprint is the key's RFC 7638 SHA-256 thumbprint, base64url without padding.
func Thumbprint(k jose.JSONWebKey) (string, error) {
	b, err := k.Thumbprint(crypto.SHA256)
	if err != nil {
		return "", err
	}
	return base64.RawURLEncoding.EncodeToString(b), nil
}

// KeyIDs lists the kids of set, in order.
func KeyIDs(set jose.JSONWebKeySet) []string {
	out := make([]string, len(set.Keys))
	for i := range set.Keys {
		out[i] = set.Keys[i].KeyID
	}
	return out
}

// parseFetched reads a key set fetched from an issuer, leniently: keys this server cannot
// use (other types, encryption keys, private ones, too small) are left out rather than
// failing the set, as an issuer may publish keys for other purposes beside its signing
// keys. A key without kid keeps an empty kid (it matches a token whose header has none).
func parseFetched(raw []byte) (jose.JSONWebKeySet, error) {
	var doc struct {
		Keys []json.RawMessage `json:"keys"`
	}
	if err := json.Unmarshal(raw, &doc); err != nil {
		return jose.JSONWebKeySet{}, errors.New("the key set is not a JSON object with a keys array")
	}
	var set jose.JSONWebKeySet
	for _, kr := range doc.Keys {
		if len(set.Keys) == MaxFetchedKeys {
			break
		}
		var members map[string]json.RawMessage
		if json.Unmarshal(kr, &members) != nil {
			continue
		}
		private := false
		for _, m := range privateMembers {
			if _, ok := members[m]; ok {
				private = true
			}
		}
		var k jose.JSONWebKey
		if private || k.UnmarshalJSON(kr) != nil || !k.Valid() || !k.IsPublic() || checkKeyType(k.Key) != nil ||
			(k.Use != "" && k.Use != "sig") ||
			(k.Algorithm != "" && !AlgFits(jose.SignatureAlgorithm(k.Algorithm), k.Key)) {
			continue
		}
		set.Keys = append(set.Keys, k)
	}
	return set, nil
}

// MaxFetchedKeys bounds the keys kept from one fetched set.
const MaxFetchedKeys = 100
