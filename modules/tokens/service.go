package tokens

import (
	"context"
	"errors"
	"net/http"
	"strings"
	"time"

	"github.com/uptrace/bun"
	"go.uber.org/fx"
	"go.uber.org/zap"

	"github.com/agentidp/agentidp/modules/agents"
	"github.com/agentidp/agentidp/modules/apis"
	"github.com/agentidp/agentidp/modules/credentials"
	"github.com/agentidp/agentidp/modules/metering"
	"github.com/agentidp/agentidp/modules/orgs"
	"github.com/agentidp/agentidp/platform/audittrail"
	"github.com/agentidp/agentidp/platform/config"
	"github.com/agentidp/agentidp/platform/dpop"
	"github.com/agentidp/agentidp/platform/httpserver"
	"github.com/agentidp/agentidp/platform/policy"
	"github.com/agentidp/agentidp/platform/reqctx"
)

// service holds the OAuth rules: issuance, introspection, revocation. It knows nothing of
// HTTP beyond the status its errors carry.
type service struct {
	issuer   string
	ttl      time.Duration
	db       *bun.DB
	repo     repository
	ring     *keyRing
	val      *validator
	revs     *revocationList
	agents   agents.Directory
	verifier credentials.Verifier
	asserts  credentials.AssertionVerifier
	meter    metering.Meter
	rec      audittrail.Recorder
	metrics  *tokenMetrics
	log      *zap.Logger
	now      func() time.Time
	sampler  *introspectionSampler
	policy   policy.Engine
	orgs     orgs.Directory
	apis     apis.Directory
	grants   apis.Grants
	proofs   *dpop.Verifier
}

type serviceParams struct {
	fx.In
	Config    *config.Config
	DB        *bun.DB
	Repo      repository
	Ring      *keyRing
	Validator *validator
	Revs      *revocationList
	Agents    agents.Directory
	Verifier  credentials.Verifier
	Asserts   credentials.AssertionVerifier
	Meter     metering.Meter
	Recorder  audittrail.Recorder
	Metrics   *tokenMetrics
	Policy    policy.Engine
	Orgs      orgs.Directory
	APIs      apis.Directory
	Grants    apis.Grants
	Proofs    *dpop.Verifier
	Log       *zap.Logger
}

func newService(p serviceParams) *service {
	return &service{
		issuer: p.Config.Issuer, ttl: p.Config.TokenTTL, db: p.DB, repo: p.Repo, ring: p.Ring,
		val: p.Validator, revs: p.Revs, agents: p.Agents, verifier: p.Verifier, asserts: p.Asserts, meter: p.Meter,
		rec: p.Recorder, metrics: p.Metrics, log: p.Log, now: time.Now,
		sampler: newIntrospectionSampler(introspectionAuditEvery), policy: p.Policy, orgs: p.Orgs,
		apis: p.APIs, grants: p.Grants, proofs: p.Proofs,
	}
}

// authenticateClient runs the client-authentication part of every OAuth endpoint: the
// brute-force guard (before any secret is looked at; it locks the pair (client_id, source
// address) and slows the source address, never a client_id alone), the secret check (only a
// failure counts against the guard), then the agent and its organization, which must be
// active. A client assertion is verified by credentials.AssertionVerifier; every refusal
// is the wrong secret's answer. The source address is the one the HTTP server worked out (the peer, or the
// X-Forwarded-For hop that AGENTIDP_TRUSTED_PROXIES vouches for). On failure it returns the
// OAuth error to answer and the denial reason; the caller decides what to audit.
func (s *service) authenticateClient(ctx context.Context, cc *clientCredentials) (*agents.Agent, *orgs.Org, credentials.Verified, string, error) {
	ip := reqctx.InfoFrom(ctx).ClientIP
	if err := s.meter.CheckAuthFailures(ctx, cc.ID, ip); err != nil {
		return nil, nil, credentials.Verified{}, denyRateLimited, err
	}
	var v credentials.Verified
	var err error
	if cc.Assertion != nil {
		v, err = s.asserts.VerifyAssertion(ctx, *cc.Assertion)
	} else {
		v, err = s.verifier.Verify(ctx, cc.ID, cc.Secret)
	}
	if errors.Is(err, credentials.ErrInvalidClient) {
		s.meter.RecordAuthFailure(ctx, cc.ID, ip)
		return nil, nil, v, denyInvalidClient, errClientAuthFailed
	}
	if err != nil {
		return nil, nil, v, denyUnavailable, unavailable("cannot verify the client; retry shortly", err)
	}
	a, err := s.agents.Lookup(ctx, v.AgentID)
	switch {
	case errors.Is(err, agents.ErrNotFound):
		return nil, nil, v, denyInvalidClient, errClientAuthFailed
	case err != nil:
		return nil, nil, v, denyUnavailable, unavailable("cannot look the client up; retry shortly", err)
	case a.Status != agents.StatusActive:
		return a, nil, v, denyAgentInactive, invalidClient("the client is " + string(a.Status) + "; it gets no tokens")
	}
	o, err := s.orgs.Lookup(ctx, a.OrgID)
	switch {
	case errors.Is(err, orgs.ErrNotFound):
		return nil, nil, v, denyInvalidClient, errClientAuthFailed
	case err != nil:
		return nil, nil, v, denyUnavailable, unavailable("cannot look the client's organization up; retry shortly", err)
	case !o.Active():
		return a, o, v, denyAgentInactive, invalidClient("the client's organization is suspended; it gets no tokens")
	}
	return a, o, v, "", nil
}

// caller is who calls introspection or revocation: the policy's facts about it.
type caller struct {
	AgentID string
	OrgID   string
	Via     string   // policy.ViaClient or policy.ViaBearer
	Scopes  []string // the agent's allowed scopes (client credentials) or the token's
	// Delegated: a bearer token with an act claim.
	Delegated bool
}

// authenticateCaller authenticates the caller of introspection or revocation: client
// credentials (whose agent's allowed scopes count), or else the principal of an access
// token for this server (Bearer or DPoP, already checked by httpserver.Authenticator; its
// scopes count). No authentication at all is a 401 challenging every scheme.
func (s *service) authenticateCaller(ctx context.Context, cc *clientCredentials, p *reqctx.Principal) (*caller, error) {
	if cc != nil {
		a, _, _, _, err := s.authenticateClient(ctx, cc)
		if err != nil {
			return nil, err
		}
		return &caller{AgentID: a.ID, OrgID: a.OrgID, Via: policy.ViaClient, Scopes: a.AllowedScopes}, nil
	}
	if p != nil {
		return &caller{AgentID: p.AgentID, OrgID: p.OrgID, Via: policy.ViaBearer, Scopes: p.Scopes, Delegated: p.Delegated}, nil
	}
	return nil, &oauthError{Status: http.StatusUnauthorized, Code: "invalid_client",
		Description: "authenticate with client credentials or a bearer access token",
		Challenge:   "Basic " + realm + ", " + strings.Join(httpserver.NoCredentialsChallenges(), ", ")}
}

// decide asks the policy whether c may call the route at path (POST), about target when
// it is not nil (an object-level decision).
func (s *service) decide(ctx context.Context, c *caller, path string, target *policy.Target) (policy.Decision, error) {
	return s.policy.Decide(ctx, policy.Input{Method: http.MethodPost, Path: path, Scopes: c.Scopes,
		AgentID: c.AgentID, OrgID: c.OrgID, Via: c.Via, Delegated: c.Delegated, Target: target})
}

// authorize is the route-level decision: 403 insufficient_scope, naming what is missing,
// when the policy refuses.
func (s *service) authorize(ctx context.Context, c *caller, path string) error {
	d, err := s.decide(ctx, c, path, nil)
	if err != nil {
		return err
	}
	if d.Allow {
		return nil
	}
	scope := strings.Join(d.MissingScopes, " ")
	e := &oauthError{Status: http.StatusForbidden, Code: "insufficient_scope",
		Description: "this call needs the scope " + scope}
	if c.Via == policy.ViaBearer {
		e.Challenge = `Bearer ` + realm + `, error="insufficient_scope", scope="` + scope + `"`
	}
	return e
}
