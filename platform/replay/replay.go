// Package replay remembers one-time identifiers — a client assertion's or a DPoP proof's
// jti — on the whole server: in Redis when AGENTIDP_REDIS_URL is set (so every replica sees
// every use), in-process otherwise. A use is recorded with one atomic set-if-absent, kept
// until the identifier could no longer be accepted anyway (its token's exp, or the proof's
// freshness window).
//
// When the store cannot be reached, First returns an error wrapping cache.ErrUnavailable and
// callers answer 503: an identifier is never accepted unchecked.
package replay

import (
	"context"
	"crypto/sha256"
	"encoding/base64"
	"time"

	"github.com/agentidp/agentidp/platform/cache"
)

// minTTL keeps an identifier at least this long, so that one whose deadline is now (or
// already past, by clock skew) is still refused a second time.
const minTTL = time.Second

// Guard records identifiers once. The zero value is not usable; use New.
type Guard struct {
	kv  cache.KV
	now func() time.Time
}

// New returns a Guard over kv (the server's cache.Cache).
func New(kv cache.KV) *Guard { return &Guard{kv: kv, now: time.Now} }

// First reports whether id is seen for the first time in namespace ("assertion:<issuer>",
// "dpop", …), and remembers it until until. The identifier is hashed: neither its length nor
// its characters reach the store's keys.
func (g *Guard) First(ctx context.Context, namespace, id string, until time.Time) (bool, error) {
	ttl := until.Sub(g.now())
	if ttl < minTTL {
		ttl = minTTL
	}
	return g.kv.SetNX(ctx, Key(namespace, id), "1", ttl)
}

// Key is the store key of id in namespace: "replay:" + SHA-256(namespace, 0, id) in base64url.
func Key(namespace, id string) string {
	h := sha256.New()
	h.Write([]byte(namespace))
	h.Write([]byte{0})
	h.Write([]byte(id))
	return "replay:" + base64.RawURLEncoding.EncodeToString(h.Sum(nil))
}
