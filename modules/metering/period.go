package metering

import (
	"crypto/sha256"
	"encoding/hex"
	"net/netip"
	"strings"
	"sync/atomic"
	"time"

	"github.com/google/uuid"
)

// Cache key names (the cache adds its own prefix). The monthly counter's name is part of
// the documented contract (docs/security.md, rate limits and quota).
const (
	monthlyKeyPrefix   = "monthly:tokens:"          // {agent_id}:{yyyy-mm}
	tokenRatePrefix    = "ratelimit:token:"         // {agent_id}
	authPairPrefix     = "ratelimit:authfail:pair:" // {client key}:{ip or /64}
	authIPPrefix       = "ratelimit:authfail:ip:"   // {ip or /64}
	quotaMarkerPrefix  = "audit-once:quota:"        // {agent_id}:{yyyy-mm}
	sampleMarkerPrefix = "audit-once:ratelimit:"    // {kind}:{subject}
)

// counterGrace is how long a monthly counter (and its quota marker) outlives its month, so
// that replicas with a slightly late clock and the last flush still find it.
const counterGrace = 7 * 24 * time.Hour

const (
	monthLayout = "2006-01"
	dayLayout   = "2006-01-02"
)

// period is the UTC month and day an instant falls in, formatted once per day.
type period struct {
	month     string    // "2026-11"
	day       string    // "2026-11-27"
	dayStart  time.Time // first instant of day
	dayEnd    time.Time // first instant of the next day
	nextMonth time.Time // first instant of the next month
}

func newPeriod(now time.Time) *period {
	now = now.UTC()
	y, m, d := now.Date()
	start := time.Date(y, m, d, 0, 0, 0, 0, time.UTC)
	return &period{
		month:     start.Format(monthLayout),
		day:       start.Format(dayLayout),
		dayStart:  start,
		dayEnd:    start.AddDate(0, 0, 1),
		nextMonth: time.Date(y, m+1, 1, 0, 0, 0, 0, time.UTC),
	}
}

// counterTTL is the TTL a monthly counter gets when it is created at now.
func (p *period) counterTTL(now time.Time) time.Duration {
	return p.nextMonth.Add(counterGrace).Sub(now)
}

// periods caches the current period so that the hot path formats no date: it is rebuilt
// only when now leaves the cached day (either way, for a clock set back in tests).
type periods struct{ cur atomic.Pointer[period] }

func (ps *periods) at(now time.Time) *period {
	if p := ps.cur.Load(); p != nil && !now.Before(p.dayStart) && now.Before(p.dayEnd) {
		return p
	}
	p := newPeriod(now)
	ps.cur.Store(p)
	return p
}

func monthlyKey(agentID, month string) string {
	return monthlyKeyPrefix + agentID + ":" + month
}

// validAgentID reports whether id is a canonical UUID string (what the store's uuid column
// accepts and what an authenticated agent's id always is).
func validAgentID(id string) bool {
	return len(id) == 36 && uuid.Validate(id) == nil
}

// clientSubject turns a client_id, which comes from an unauthenticated caller, into a short
// key part: the UUID itself, or a hash of anything else, so that a hostile value can neither
// grow the key nor collide with another prefix.
func clientSubject(clientID string) string {
	if validAgentID(clientID) {
		return strings.ToLower(clientID) // one budget per client, however it is spelled
	}
	sum := sha256.Sum256([]byte(clientID))
	return "h" + hex.EncodeToString(sum[:16])
}

// pairKey is the cache key of a pair (client_id, source address), from clientSubject and
// ipSubject, built in one allocation; its subject (the part after authPairPrefix) names the
// pair in audit markers. The client part never holds a colon (a UUID or "h" and hex), so
// the first colon ends it, whatever an IPv6 prefix holds.
func pairKey(client, source string) string { return authPairPrefix + client + ":" + source }

// ipSubject normalises a source address: IPv4 (and IPv4-mapped IPv6) as itself, IPv6 as its
// /64, since one host usually owns a whole /64. Anything unparsable is hashed like a
// client_id.
func ipSubject(ip string) string {
	a, err := netip.ParseAddr(ip)
	if err != nil {
		return clientSubject(ip)
	}
	a = a.Unmap().WithZone("")
	if a.Is6() {
		p, _ := a.Prefix(64)
		return p.String()
	}
	return a.String()
}
