package tokens

import (
	"context"
	"errors"
	"net/http"
	"slices"
	"strings"

	"github.com/go-jose/go-jose/v4/jwt"
	"github.com/google/uuid"
	"go.uber.org/zap"

	"github.com/agentidp/agentidp/modules/agents"
	"github.com/agentidp/agentidp/modules/apis"
	"github.com/agentidp/agentidp/platform/audittrail"
	"github.com/agentidp/agentidp/platform/dpop"
)

// The token exchange (RFC 8693, SPEC §13): the authenticated client, the actor, gets a
// token that acts for the subject of a token of this server, within what that token held.
// Whether the request is an exchange, and what it yields, follows from what the subject
// token is once fully validated: a delegated subject token always yields a token that
// keeps its whole chain (keycloak#52691 routed by the request's syntax and let a delegated
// token come back clean).

// The refusals of the token exchange (RFC 8693 §2.2.2). One answer for a subject token
// that is invalid, inactive, of another organization or not delegated to this actor: the
// actor learns nothing about tokens it may not use.
var (
	errSubjectToken = invalidRequest("the subject_token is not an active token of this server delegated to this client")
	errActorToken   = invalidRequest("the actor_token must be an active token of the authenticated client itself")
	errCycle        = invalidRequest("the client is already in the subject token's delegation chain")
	errChainDepth   = invalidRequest("the delegation chain would be too deep")
	errExpiring     = invalidRequest("the subject_token expires too soon")
	errAudienceWide = &oauthError{Status: http.StatusBadRequest, Code: "invalid_target",
		Description: "the requested audience is not one of the subject token's"}
)

// exchange runs the token exchange: client authentication (the actor) → the subject token,
// through the one validator (signature, times, revocation, agents, organization,
// credential, chain) → the actor token, when sent → consent: the actor in the subject
// agent's delegates and, for a delegated subject token, in those of its outermost actor;
// no cycle; the depth → the audience and scope, within the subject token's → DPoP
// (exchangeProof) → rate limit and quota of the actor → sign (exp capped by the subject token's) → audit
// token.exchanged (durable before the answer).
func (s *service) exchange(ctx context.Context, req tokenRequest) (issuedToken, error) {
	x := req.Exchange
	if req.Client == nil {
		return s.refuse(denyInvalidClient, invalidClient("client authentication is required (client_secret_basic or client_secret_post)"))
	}
	actor, org, v, reason, err := s.authenticateClient(ctx, req.Client)
	if err != nil {
		if reason == denyInvalidClient || reason == denyAgentInactive {
			o := ""
			if actor != nil {
				o = actor.OrgID
			}
			s.deny(ctx, req.Client.ID, o, reason, map[string]any{"grant_type": grantTokenExchange})
		}
		return s.refuse(reason, err)
	}
	details := map[string]any{"grant_type": grantTokenExchange}
	refuse := func(reason string, err error) (issuedToken, error) {
		return s.refuseRequest(ctx, actor, reason, err, details)
	}

	now := s.now()
	subj, err := s.val.validate(ctx, x.SubjectToken, "")
	var it *invalidToken
	switch {
	case errors.As(err, &it):
		if subj != nil {
			details["subject_jti"] = subj.claims.ID
		}
		details["subject_token"] = it.reason
		return refuse(denySubjectToken, errSubjectToken)
	case err != nil:
		return s.refuse(denyUnavailable, err)
	}
	sc := subj.claims
	details["subject_jti"], details["subject"] = sc.ID, sc.Subject
	if sc.org() != actor.OrgID {
		return refuse(denyNotDelegated, errSubjectToken)
	}
	if x.ActorToken != "" {
		at, err := s.val.validate(ctx, x.ActorToken, "")
		switch {
		case errors.As(err, &it):
			return refuse(denyActorToken, errActorToken)
		case err != nil:
			return s.refuse(denyUnavailable, err)
		case at.claims.Subject != actor.ID || at.claims.ClientID != actor.ID:
			return refuse(denyActorToken, errActorToken)
		}
		details["actor_jti"] = at.claims.ID
	}

	chain := sc.chainIDs()
	details["chain"] = chain
	if slices.Contains(chain, actor.ID) {
		return refuse(denyNotDelegated, errCycle)
	}
	if sc.Act.depth()+1 > s.maxDepth {
		return refuse(denyChainDepth, errChainDepth)
	}
	// Consent: the subject to every actor, each hop to the next.
	var subject *agents.Agent
	for _, id := range []string{sc.Subject, chain[len(chain)-1]} {
		a, ok, err := s.delegates(ctx, id, actor.ID)
		if err != nil {
			return s.refuse(denyUnavailable, err)
		}
		if !ok {
			return refuse(denyNotDelegated, errSubjectToken)
		}
		if subject == nil {
			subject = a
		}
	}

	aud := sc.Audience
	if x.Audience != "" {
		if !sc.Audience.Contains(x.Audience) {
			details["requested_audience"] = truncate(x.Audience, 512)
			return refuse(denyInvalidTarget, errAudienceWide)
		}
		aud = jwt.Audience{x.Audience}
	}
	scope, err := grantedScope(x.Scope, strings.Fields(sc.Scope))
	if err != nil {
		details["requested_scope"] = truncate(x.Scope, 512)
		return refuse(denyInvalidScope, &oauthError{Status: http.StatusBadRequest, Code: "invalid_scope",
			Description: "the requested scope is not within the subject token's"})
	}
	iat := issuedAt(now, actor, org)
	if sc.expiry() <= iat {
		return refuse(denySubjectToken, errExpiring)
	}
	jkt, err := s.exchangeProof(ctx, actor, subject, sc, aud, req.Proof)
	if err != nil {
		return issuedToken{}, err
	}
	if err := s.meter.ConsumeToken(ctx, actor.ID, string(actor.Plan)); err != nil {
		return s.refuse(limitReason(err), err)
	}

	key, err := s.ring.signingKey(now)
	if err != nil {
		return s.refuse(denyUnavailable, err)
	}
	c := newClaims(s.issuer, sc.org(), sc.Subject, v.CredentialID, "", scope, uuid.NewString(), iat, s.ttl)
	c.Audience, c.ClientID, c.APIID = aud, actor.ID, sc.APIID
	if c.expiry() > sc.expiry() {
		exp := jwt.NumericDate(sc.expiry())
		c.Expiry = &exp
	}
	if jkt != "" {
		c.Cnf = &confirmation{JKT: jkt}
	}
	c.Act = &actClaim{Sub: actor.ID, Act: sc.Act}
	c.Chain = append(slices.Clone(sc.Chain), link{Client: sc.ClientID, Credential: sc.CredentialID, JTI: sc.ID, IssuedAt: sc.issuedAt()})
	token, err := key.signer.Sign(c)
	if err != nil {
		return s.refuse(denyUnavailable, err)
	}
	ev := map[string]any{"subject": sc.Subject, "actor": actor.ID, "chain": append(chain, actor.ID),
		"subject_jti": sc.ID, "jti": c.ID, "scope": scope, "aud": []string(aud), "exp": c.expiry(), "kid": key.kid,
		"credential_id": v.CredentialID}
	if id, ok := details["actor_jti"]; ok {
		ev["actor_jti"] = id
	}
	if c.APIID != "" {
		ev["api_id"] = c.APIID
	}
	if jkt != "" {
		ev["jkt"] = jkt
	}
	if err := s.rec.Record(ctx, audittrail.Event{
		Action: ActionTokenExchanged, AgentID: sc.Subject, ActorID: actor.ID, OrgID: sc.org(),
		TargetType: audittrail.TargetToken, TargetID: c.ID, Details: ev,
	}); err != nil {
		if ctx.Err() == nil {
			s.log.Error("auditing an exchanged token failed; the token is not returned", zap.Error(err))
		}
		return s.refuse(denyUnavailable, unavailable("the audit log cannot record the token; retry shortly", err))
	}
	s.metrics.issuedWith(key.alg).Inc()
	return issuedToken{AccessToken: token, ExpiresIn: c.expiry() - now.Unix(), Scope: scope, JKT: jkt,
		IssuedTokenType: tokenTypeAccessJWT}, nil
}

// delegates reports whether agent id lists actor among its delegates (from the agents'
// cached Directory), with the agent. An agent that is gone lists nobody.
func (s *service) delegates(ctx context.Context, id, actor string) (*agents.Agent, bool, error) {
	a, err := s.agents.Lookup(ctx, id)
	switch {
	case errors.Is(err, agents.ErrNotFound):
		return nil, false, nil
	case err != nil:
		return nil, false, unavailable("cannot read the delegates; retry shortly", err)
	}
	return a, slices.Contains(a.Delegates, actor), nil
}

// exchangeProof applies DPoP (RFC 9449) to the exchange: an exchanged token is never less
// constrained than its subject token. A proof is required — of the actor's key, and the
// issued token is bound to it — when the subject token is bound, or the subject, the actor
// or the token's API requires DPoP (400 invalid_dpop_proof without one); a proof sent
// otherwise binds the token too, and a bad one fails the request. It returns the key's
// thumbprint, "" for a bearer token.
func (s *service) exchangeProof(ctx context.Context, actor, subject *agents.Agent, sc *claims, aud jwt.Audience,
	proof dpop.Request) (string, error) {
	tgt := target{aud: strings.Join(aud, " ")}
	if sc.APIID != "" {
		api, err := s.apis.ByID(ctx, sc.APIID)
		switch {
		case errors.Is(err, apis.ErrNotFound): // deleted a moment ago: the subject token is dead
			_, err := s.refuseRequest(ctx, actor, denySubjectToken, errSubjectToken, nil)
			return "", err
		case err != nil:
			_, err := s.refuse(denyUnavailable, unavailable("cannot look the token's API up; retry shortly", err))
			return "", err
		}
		tgt.api = api
	}
	if !proof.Present() && (sc.jkt() != "" || subject.RequireDPoP) {
		_, err := s.refuseRequest(ctx, actor, denyDPoPProof, errDPoPRequired,
			map[string]any{"grant_type": grantTokenExchange, "subject_jti": sc.ID})
		return "", err
	}
	return s.checkProof(ctx, actor, tgt, proof) // the actor's and the API's require_dpop, and the proof
}
