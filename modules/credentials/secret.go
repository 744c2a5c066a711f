package credentials

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"errors"
	"hash"
	"strings"
	"sync"

	"golang.org/x/crypto/bcrypt"
)

// Secret format: SecretPrefix followed by 43 base64url characters (256 random bits).
const (
	SecretPrefix   = "sk_live_"
	secretRandLen  = 32
	SecretLen      = len(SecretPrefix) + 43
	displayLen     = 12 // characters of the secret kept for display (secret_prefix)
	hashV1         = "h1$"
	digestLen      = sha256.Size
	hashV1Len      = len(hashV1) + 43 // base64 (raw std) of 32 bytes
	bcryptPrefixes = "$2a$ $2b$ $2y$"
)

// newSecret returns a fresh client secret from crypto/rand.
func newSecret() (string, error) {
	raw := make([]byte, secretRandLen)
	if _, err := rand.Read(raw); err != nil {
		return "", err
	}
	return SecretPrefix + base64.RawURLEncoding.EncodeToString(raw), nil
}

// wellFormedSecret reports whether s has the shape of one of our secrets. It runs in time
// independent of the content (only the length is public).
func wellFormedSecret(s string) bool {
	if len(s) != SecretLen || s[:len(SecretPrefix)] != SecretPrefix {
		return false
	}
	ok := 1
	for i := len(SecretPrefix); i < len(s); i++ {
		c := s[i]
		isB64 := (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' || c == '_'
		if !isB64 {
			ok = 0
		}
	}
	return ok == 1
}

// displayPrefix is the part of a secret shown in lists.
func displayPrefix(secret string) string {
	if len(secret) < displayLen {
		return secret
	}
	return secret[:displayLen]
}

// digest is HMAC-SHA-256(pepper, secret): the "h1" hash and the key of the verification
// memo.
type digest [digestLen]byte

// hasher computes digests with the server's pepper. HMAC states are pooled with their
// buffers, so a digest costs one keyed SHA-256 of a short message and no allocation.
type hasher struct {
	pool sync.Pool
}

// hmacState is one pooled HMAC with the buffers it writes from and sums into (held here so
// that they do not escape to the heap on every call through the hash.Hash interface).
type hmacState struct {
	mac hash.Hash
	in  [128]byte
	out [digestLen]byte
}

func newHasher(pepper []byte) (*hasher, error) {
	if len(pepper) < 16 {
		return nil, errors.New("credentials: the secret pepper (AGENTIDP_SECRET_PEPPER) is missing or too short")
	}
	key := append([]byte(nil), pepper...)
	h := &hasher{}
	h.pool.New = func() any { return &hmacState{mac: hmac.New(sha256.New, key)} }
	return h, nil
}

// sum returns the digest of secret.
func (h *hasher) sum(secret string) digest {
	st := h.pool.Get().(*hmacState)
	st.mac.Reset()
	if len(secret) <= len(st.in) {
		n := copy(st.in[:], secret)
		st.mac.Write(st.in[:n])
	} else {
		st.mac.Write([]byte(secret))
	}
	var d digest
	copy(d[:], st.mac.Sum(st.out[:0]))
	h.pool.Put(st)
	return d
}

// encodeV1 is the stored form of a digest.
func encodeV1(d digest) string {
	return hashV1 + base64.RawStdEncoding.EncodeToString(d[:])
}

// hashKind is how a stored secret is checked.
type hashKind uint8

const (
	kindNone   hashKind = iota // nothing usable: never matches
	kindV1                     // HMAC digest, compared in constant time
	kindBcrypt                 // bcrypt, run once per secret then memoised
	kindVault                  // plain secret in Vault, compared through its digest
)

// parsedHash is a stored hash decoded once, when the row is loaded.
type parsedHash struct {
	kind   hashKind
	v1     digest
	bcrypt []byte
}

// parseHash decodes a stored secret_hash. An unknown or damaged format never matches.
func parseHash(s string) parsedHash {
	switch {
	case strings.HasPrefix(s, hashV1) && len(s) == hashV1Len:
		var p parsedHash
		n, err := base64.RawStdEncoding.Decode(p.v1[:], []byte(s[len(hashV1):]))
		if err != nil || n != digestLen {
			return parsedHash{}
		}
		p.kind = kindV1
		return p
	case len(s) > 4 && strings.Contains(bcryptPrefixes, s[:4]):
		if _, err := bcrypt.Cost([]byte(s)); err != nil {
			return parsedHash{}
		}
		return parsedHash{kind: kindBcrypt, bcrypt: []byte(s)}
	}
	return parsedHash{}
}

// equalDigest compares two digests in constant time.
func equalDigest(a, b *digest) bool {
	return subtle.ConstantTimeCompare(a[:], b[:]) == 1
}

// bcryptMatches runs bcrypt's comparison (constant time inside).
func bcryptMatches(hash []byte, secret string) bool {
	return bcrypt.CompareHashAndPassword(hash, []byte(secret)) == nil
}
