// Package metering is the metering bounded context: monthly token counts per agent (Redis,
// persisted in batches), the free plan's monthly quota, rate limits on the token endpoint
// (per agent, and the brute-force guard: failed client authentications per pair (client_id,
// source IP) and per source IP), and the usage API. This file is the only surface other modules may use.
package metering

import (
	"context"
	"time"
)

// Limited is returned when a quota or rate limit refuses a request; the token endpoint
// answers 429 with Retry-After and the OAuth error Code.
type Limited struct {
	Code       string // "quota_exceeded" or "rate_limited"
	Detail     string
	RetryAfter time.Duration
}

func (e *Limited) Error() string { return e.Code + ": " + e.Detail }

// Meter is what the token endpoint calls.
type Meter interface {
	// AllowTokenRequest applies the per-agent token request rate limit alone: the token
	// endpoint calls it for a request of an authenticated client that it refuses anyway
	// (bad scope or audience), so that a client looping on a bad request is throttled too.
	AllowTokenRequest(ctx context.Context, agentID string) error
	// CheckAuthFailures refuses (with *Limited), before any secret is checked, a pair
	// (client_id, source IP) that has used up its failed-authentication budget, and a source
	// IP whose failure bucket is empty. A client_id alone is never refused. ip is the
	// request's client address (reqctx.Info.ClientIP); IPv6 counts per /64.
	CheckAuthFailures(ctx context.Context, clientID, ip string) error
	// RecordAuthFailure counts one failed client authentication (a wrong secret or an
	// unknown client_id) against the pair and the source IP. Nothing else counts.
	RecordAuthFailure(ctx context.Context, clientID, ip string)
	// ConsumeToken applies the per-agent token request rate limit (*Limited, code
	// rate_limited) and counts one issued token for the agent this UTC month, atomically
	// refusing (*Limited, code quota_exceeded) past the free plan's monthly limit; unlimited
	// plans are counted but never refused. One cache round trip.
	ConsumeToken(ctx context.Context, agentID string, plan string) error
}
