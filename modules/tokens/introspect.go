package tokens

import (
	"context"
	"errors"
	"time"

	"github.com/go-jose/go-jose/v4/jwt"
	"github.com/hashicorp/golang-lru/v2/expirable"
	"go.uber.org/zap"

	"github.com/agentidp/agentidp/platform/audittrail"
	"github.com/agentidp/agentidp/platform/policy"
)

// introspectionAuditEvery is how often one caller's introspection of one token is audited
// (per replica): resource servers may introspect the same token on every request, and one
// event per caller, token and minute tells who looked at what without one row per call.
const introspectionAuditEvery = time.Minute

// introspection is an RFC 7662 answer.
type introspection struct {
	Active    bool         `json:"active"`
	Subject   string       `json:"sub,omitempty"`
	ClientID  string       `json:"client_id,omitempty"`
	Scope     string       `json:"scope,omitempty"`
	Audience  jwt.Audience `json:"aud,omitempty"` // one audience as a string (RFC 7519 §4.1.3)
	Issuer    string       `json:"iss,omitempty"`
	OrgID     string       `json:"org_id,omitempty"`
	Expiry    int64        `json:"exp,omitempty"`
	IssuedAt  int64        `json:"iat,omitempty"`
	ID        string       `json:"jti,omitempty"`
	TokenType string       `json:"token_type,omitempty"`
	// Cnf is a DPoP-bound token's confirmation (RFC 9449 §6.2): a resource server checks
	// the proof's key against cnf.jkt.
	Cnf *confirmation `json:"cnf,omitempty"`
}

// Introspect answers whether token is active, for a caller the policy lets introspect
// (tokens:introspect). Any audience counts (a resource server asks about tokens issued for
// it); everything else is validated as for the API. Malformed, foreign, expired and dead
// tokens are {active:false}.
func (s *service) Introspect(ctx context.Context, c *caller, token string) (introspection, error) {
	if err := s.authorize(ctx, c, PathIntrospect); err != nil {
		return introspection{}, err
	}
	t, err := s.val.validate(ctx, token, "")
	var it *invalidToken
	if err != nil && !errors.As(err, &it) {
		return introspection{}, err
	}
	if err == nil {
		// Isolation: another organization's token is not the caller's to see, unless it acts
		// on every organization (orgs:admin).
		d, derr := s.decide(ctx, c, PathIntrospect, &policy.Target{AgentID: t.claims.Subject, OrgID: t.claims.org()})
		if derr != nil {
			return introspection{}, derr
		}
		if !d.Allow {
			return introspection{Active: false}, nil
		}
	}
	var res introspection
	var subject, jti string
	org := c.OrgID // the event's org: the token's, else the caller's
	if t != nil {
		org = t.claims.org()
	}
	if err == nil {
		cl := t.claims
		subject, jti = cl.Subject, cl.ID
		res = introspection{Active: true, Subject: cl.Subject, ClientID: cl.ClientID, Scope: cl.Scope, OrgID: cl.org(),
			Audience: cl.Audience, Issuer: cl.Issuer, Expiry: cl.expiry(), IssuedAt: cl.issuedAt(), ID: cl.ID,
			TokenType: tokenTypeOf(cl.jkt()), Cnf: cl.Cnf}
	} else if t != nil {
		// Authentic but dead (revoked, agent inactive, ...): the audit event names the
		// token, the answer does not.
		subject, jti = t.claims.Subject, t.claims.ID
	}
	if s.sampler.due(c.AgentID, jti) {
		e := audittrail.Event{Action: ActionTokenIntrospected, AgentID: subject, ActorID: c.AgentID, OrgID: org,
			TargetType: audittrail.TargetToken, TargetID: jti,
			Details: map[string]any{"active": res.Active}}
		if err := s.rec.Record(ctx, e); err != nil {
			s.sampler.forget(c.AgentID, jti)
			s.log.Error("auditing an introspection failed; not answering it", zap.Error(err))
			return introspection{}, unavailable("the audit log cannot record the introspection; retry shortly", err)
		}
	}
	s.metrics.introspections.WithLabelValues(boolLabel(res.Active)).Inc()
	return res, nil
}

func boolLabel(b bool) string {
	if b {
		return "true"
	}
	return "false"
}

// introspectionSampler remembers which (caller, jti) pairs were audited in the last
// introspectionAuditEvery; past maxSamplerEntries the oldest are forgotten (more events,
// never fewer).
type introspectionSampler struct {
	seen *expirable.LRU[string, struct{}]
}

// maxSamplerEntries bounds the sampler.
const maxSamplerEntries = 100_000

func newIntrospectionSampler(every time.Duration) *introspectionSampler {
	return &introspectionSampler{seen: expirable.NewLRU[string, struct{}](maxSamplerEntries, nil, every)}
}

// due reports whether this introspection is to be audited, and if so marks it. Two
// introspections racing may both be audited.
func (s *introspectionSampler) due(callerID, jti string) bool {
	key := callerID + "|" + jti
	if s.seen.Contains(key) {
		return false
	}
	s.seen.Add(key, struct{}{})
	return true
}

func (s *introspectionSampler) forget(callerID, jti string) {
	s.seen.Remove(callerID + "|" + jti)
}
