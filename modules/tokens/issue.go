package tokens

import (
	"context"
	"errors"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/google/uuid"
	"go.uber.org/zap"

	"github.com/agentidp/agentidp/modules/agents"
	"github.com/agentidp/agentidp/modules/apis"
	"github.com/agentidp/agentidp/modules/metering"
	"github.com/agentidp/agentidp/modules/orgs"
	"github.com/agentidp/agentidp/platform/audittrail"
	"github.com/agentidp/agentidp/platform/dpop"
)

// grantClientCredentials is the only grant this server supports.
const grantClientCredentials = "client_credentials"

// maxAudienceLen caps a requested resource or audience.
const maxAudienceLen = 2048

// tokenRequest is a parsed token request (RFC 6749 §4.4.2, RFC 8707).
type tokenRequest struct {
	GrantType string
	Client    *clientCredentials // nil: the client did not authenticate
	Scope     string             // space separated; "" means the default
	Audience  string             // resource or audience; "" means the issuer
	Proof     dpop.Request       // the DPoP proof(s) the request carries, and what they must name
}

// issuedToken is a successful token answer.
type issuedToken struct {
	AccessToken string
	ExpiresIn   int64
	Scope       string
	JKT         string // the key a DPoP-bound token is bound to; "" for a bearer token
}

// Issue runs the token endpoint's path: grant → brute-force guard → client secret →
// agent → audience (the target) and scope → the DPoP proof, or else the agent's and the
// target's DPoP requirement → rate limit and
// monthly quota → signature → audit (durable before the token is returned) → answer.
// Refusals of an authenticated client are audited as token.denied (see deny).
func (s *service) Issue(ctx context.Context, req tokenRequest) (issuedToken, error) {
	if req.GrantType == "" {
		return s.refuse(denyInvalidRequest, invalidRequest("grant_type is required"))
	}
	if req.GrantType != grantClientCredentials {
		return s.refuse(denyGrantType, &oauthError{Status: http.StatusBadRequest, Code: "unsupported_grant_type",
			Description: "only the client_credentials grant is supported"})
	}
	if req.Client == nil {
		return s.refuse(denyInvalidClient, invalidClient("client authentication is required (client_secret_basic, client_secret_post or private_key_jwt)"))
	}
	agent, org, v, reason, err := s.authenticateClient(ctx, req.Client)
	if err != nil {
		if reason == denyInvalidClient || reason == denyAgentInactive {
			org := "" // an unauthenticated client: the recorder files it under its agent's org
			if agent != nil {
				org = agent.OrgID
			}
			s.deny(ctx, req.Client.ID, org, reason, nil)
		}
		return s.refuse(reason, err)
	}
	// Every request of an authenticated client counts against its rate limit, refused or
	// not: a client looping on a bad request is throttled, and the token.denied events it
	// causes are bounded by its rate. A good request is rate-limited and counted in one
	// call (ConsumeToken); a bad one only charged (AllowTokenRequest), and answered 429
	// rather than 400 once it is over its rate.
	tgt, err := s.target(ctx, agent, req.Audience)
	if err != nil {
		var oe *oauthError
		if !errors.As(err, &oe) {
			return s.refuse(denyUnavailable, err)
		}
		return s.refuseRequest(ctx, agent, denyInvalidTarget, err,
			map[string]any{"requested_audience": truncate(req.Audience, 512)})
	}
	scope, err := grantedScope(req.Scope, tgt.scopes)
	if err != nil {
		return s.refuseRequest(ctx, agent, denyInvalidScope, err,
			map[string]any{"requested_scope": truncate(req.Scope, 512), "aud": tgt.aud})
	}
	jkt, err := s.checkProof(ctx, agent, tgt, req.Proof)
	if err != nil {
		return issuedToken{}, err
	}
	if err := s.meter.ConsumeToken(ctx, agent.ID, string(agent.Plan)); err != nil {
		return s.refuse(limitReason(err), err)
	}

	now := s.now()
	key, err := s.ring.signingKey(now)
	if err != nil {
		return s.refuse(denyUnavailable, err)
	}
	c := newClaims(s.issuer, agent.OrgID, agent.ID, v.CredentialID, tgt.aud, scope, uuid.NewString(), issuedAt(now, agent, org), tgt.ttl)
	details := map[string]any{"scope": scope, "aud": tgt.aud, "exp": c.expiry(), "kid": key.kid,
		"credential_id": v.CredentialID}
	if tgt.api != nil {
		c.APIID = tgt.api.ID
		details["api_id"] = tgt.api.ID
	}
	if jkt != "" {
		c.Cnf = &confirmation{JKT: jkt}
		details["jkt"] = jkt
	}
	token, err := key.signer.Sign(c)
	if err != nil {
		return s.refuse(denyUnavailable, err)
	}
	// Group commit: the event is durable when Record returns. No row, no token.
	if err := s.rec.Record(ctx, audittrail.Event{
		Action: ActionTokenIssued, AgentID: agent.ID, ActorID: agent.ID, OrgID: agent.OrgID,
		TargetType: audittrail.TargetToken, TargetID: c.ID, Details: details,
	}); err != nil {
		if ctx.Err() == nil { // a caller who went away is not a server fault
			s.log.Error("auditing an issued token failed; the token is not returned", zap.Error(err))
		}
		return s.refuse(denyUnavailable, unavailable("the audit log cannot record the token; retry shortly", err))
	}
	s.metrics.issuedWith(key.alg).Inc()
	return issuedToken{AccessToken: token, ExpiresIn: c.expiry() - now.Unix(), Scope: scope, JKT: jkt}, nil
}

// issuedAt is the token's iat: now, but always after the agent's and its org's cut-off
// seconds. Tokens with iat at or before a TokensNotBefore are dead (iat has whole seconds),
// so a token issued in the very second of a reactivation is dated one second later to stay
// alive.
func issuedAt(now time.Time, a *agents.Agent, o *orgs.Org) int64 {
	iat := now.Unix()
	for _, cut := range []time.Time{a.TokensNotBefore, o.TokensNotBefore} {
		if !cut.IsZero() && iat <= cut.Unix() {
			iat = cut.Unix() + 1
		}
	}
	return iat
}

func (s *service) refuse(reason string, err error) (issuedToken, error) {
	s.metrics.denied.WithLabelValues(reason).Inc()
	return issuedToken{}, err
}

// refuseRequest refuses a bad request of an authenticated client: charged to its rate
// limit first (429 past it), else audited as token.denied and answered with err.
func (s *service) refuseRequest(ctx context.Context, agent *agents.Agent, reason string, err error, details map[string]any) (issuedToken, error) {
	if lerr := s.meter.AllowTokenRequest(ctx, agent.ID); lerr != nil {
		return s.refuse(limitReason(lerr), lerr)
	}
	s.deny(ctx, agent.ID, agent.OrgID, reason, details)
	return s.refuse(reason, err)
}

func limitReason(err error) string {
	var lim *metering.Limited
	if errors.As(err, &lim) {
		if lim.Code == "quota_exceeded" {
			return denyQuota
		}
		return denyRateLimited
	}
	return denyUnavailable
}

// deny audits a refused token request of an identified client as token.denied. Every
// refusal is recorded (none sampled): failed authentications are bounded by the metering
// brute-force guard (per client_id and per IP) and refusals of an authenticated client by
// its rate limit, so the volume an attacker can cause is bounded too. The event is written
// through the group commit; a failure to write it is logged and does not change the answer.
// orgID is the client's organization when it is known ("": the recorder finds it).
func (s *service) deny(ctx context.Context, clientID, orgID, reason string, details map[string]any) {
	if details == nil {
		details = map[string]any{}
	}
	details["reason"] = reason
	e := audittrail.Event{Action: ActionTokenDenied, OrgID: orgID, TargetType: audittrail.TargetAgent,
		Outcome: audittrail.Failure, Details: details}
	if isUUID(clientID) {
		e.AgentID, e.TargetID = strings.ToLower(clientID), strings.ToLower(clientID)
	} else {
		// Not shown: a client that swapped its fields would put its secret here.
		details["client_id_malformed"] = true
	}
	if err := s.rec.Record(ctx, e); err != nil {
		s.log.Warn("auditing a refused token request failed", zap.String("reason", reason), zap.Error(err))
	}
}

// grantedScope checks a requested scope against what the agent is granted for the token's
// audience: every requested scope must be granted (else invalid_scope); none requested
// means all granted. The result keeps the request's order, without duplicates.
func grantedScope(requested string, allowed []string) (string, error) {
	if strings.TrimSpace(requested) == "" {
		return strings.Join(allowed, " "), nil
	}
	fields := strings.Fields(requested)
	out := make([]string, 0, len(fields))
	for _, f := range fields {
		if !validScopeToken(f) {
			return "", &oauthError{Status: http.StatusBadRequest, Code: "invalid_scope",
				Description: "the scope is malformed (RFC 6749 §3.3)"}
		}
		if !slices.Contains(allowed, f) {
			return "", &oauthError{Status: http.StatusBadRequest, Code: "invalid_scope",
				Description: "the scope " + f + " is not granted to this client for the requested audience"}
		}
		if !slices.Contains(out, f) {
			out = append(out, f)
		}
	}
	return strings.Join(out, " "), nil
}

// validScopeToken: scope-token = 1*( %x21 / %x23-5B / %x5D-7E ), at most 128 characters.
func validScopeToken(s string) bool {
	if s == "" || len(s) > 128 {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c < 0x21 || c == 0x22 || c == 0x5c || c > 0x7e {
			return false
		}
	}
	return true
}

// target is what a token is for: its audience, the scopes the agent may get in it, its
// lifetime, and the registered API it is for (nil for the server's own API and for an
// audience without a registered API).
type target struct {
	aud    string
	scopes []string
	ttl    time.Duration
	api    *apis.API
}

// errDPoPRequired is the answer for an agent, or a request for an API, that wants
// DPoP-bound tokens when the request carries no proof.
var errDPoPRequired = &oauthError{Status: http.StatusBadRequest, Code: "invalid_dpop_proof",
	Description: "DPoP-bound tokens (RFC 9449) are required here: send a DPoP proof with the request"}

// checkProof judges the request's DPoP proof when it carries one (a bad one fails the
// request, whatever is required), and otherwise refuses the request when the agent or the
// target API requires DPoP. It returns the proof key's thumbprint ("" without a proof).
// Refusals are charged and audited as every refusal of an authenticated client is; a replay
// guard that cannot answer is a 503.
func (s *service) checkProof(ctx context.Context, agent *agents.Agent, tgt target, req dpop.Request) (string, error) {
	details := map[string]any{"aud": tgt.aud}
	if tgt.api != nil {
		details["api_id"] = tgt.api.ID
	}
	if !req.Present() {
		if agent.RequireDPoP || (tgt.api != nil && tgt.api.RequireDPoP) {
			_, err := s.refuseRequest(ctx, agent, denyDPoPProof, errDPoPRequired, details)
			return "", err
		}
		return "", nil
	}
	p, err := s.proofs.Verify(ctx, req, "")
	if err != nil {
		var ip *dpop.InvalidProof
		if !errors.As(err, &ip) {
			_, err = s.refuse(denyUnavailable, unavailable("cannot check the DPoP proof; retry shortly", err))
			return "", err
		}
		details["dpop_error"] = ip.Reason
		_, err = s.refuseRequest(ctx, agent, denyDPoPProof, &oauthError{Status: http.StatusBadRequest,
			Code: "invalid_dpop_proof", Description: ip.Reason}, details)
		return "", err
	}
	return p.JKT, nil
}

// target resolves the requested resource or audience (RFC 8707):
//   - none, or the issuer: the server's own API, with the agent's allowed_scopes;
//   - the identifier of a registered API of the agent's organization (in any spelling that
//     normalises to it): that API, with the agent's grant on it (its scopes that the API
//     still has); without a grant, the audience must be in allowed_audiences (no scope);
//   - else one of the agent's allowed_audiences, exactly: a token without any scope.
//
// Anything else is invalid_target. A store that cannot answer is an error that is not an
// *oauthError.
func (s *service) target(ctx context.Context, agent *agents.Agent, requested string) (target, error) {
	if requested == "" || requested == s.issuer {
		return target{aud: s.issuer, scopes: agent.AllowedScopes, ttl: s.ttl}, nil
	}
	bad := &oauthError{Status: http.StatusBadRequest, Code: "invalid_target",
		Description: "the requested resource is not an audience this client may get tokens for"}
	if len(requested) > maxAudienceLen {
		return target{}, bad
	}
	u, err := url.Parse(requested)
	if err != nil || !u.IsAbs() || u.Fragment != "" || strings.Contains(requested, "#") {
		return target{}, &oauthError{Status: http.StatusBadRequest, Code: "invalid_target",
			Description: "the resource must be an absolute URI without a fragment"}
	}
	api, err := s.apis.ByIdentifier(ctx, agent.OrgID, requested)
	switch {
	case errors.Is(err, apis.ErrNotFound):
		if !slices.Contains(agent.AllowedAudiences, requested) {
			return target{}, bad
		}
		return target{aud: requested, scopes: []string{}, ttl: s.ttl}, nil
	case err != nil:
		return target{}, unavailable("cannot look the requested API up; retry shortly", err)
	}
	grants, err := s.grants.Of(ctx, agent.ID)
	if err != nil {
		return target{}, unavailable("cannot read the client's grants; retry shortly", err)
	}
	t := target{aud: api.Identifier, scopes: []string{}, ttl: s.ttl, api: api}
	if api.TokenTTL > 0 && api.TokenTTL < s.ttl {
		t.ttl = api.TokenTTL
	}
	i := slices.IndexFunc(grants, func(g apis.Grant) bool { return g.APIID == api.ID })
	switch {
	case i >= 0:
		for _, sc := range grants[i].Scopes {
			if api.HasScope(sc) { // a scope the API lost a moment ago, on another replica
				t.scopes = append(t.scopes, sc)
			}
		}
	case !slices.Contains(agent.AllowedAudiences, requested) && !slices.Contains(agent.AllowedAudiences, api.Identifier):
		return target{}, bad
	}
	return t, nil
}

func truncate(s string, n int) string {
	if len(s) > n {
		return s[:n]
	}
	return s
}
