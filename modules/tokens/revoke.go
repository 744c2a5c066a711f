package tokens

import (
	"context"
	"errors"
	"time"

	"github.com/uptrace/bun"
	"go.uber.org/zap"

	"github.com/agentidp/agentidp/platform/audittrail"
	"github.com/agentidp/agentidp/platform/database"
	"github.com/agentidp/agentidp/platform/policy"
)

// Revoke revokes token (RFC 7009). The policy decides twice: whether the caller may call
// revocation at all (a client with its own credentials may, whatever its scopes; a bearer
// needs tokens:revoke: else 403), then whether it may revoke this token (its own, or any
// with tokens:revoke). A token that is malformed, foreign, expired or one the caller may
// not revoke is ignored: the answer is the same success, so the endpoint tells nothing
// about tokens.
//
// The revocation row and its token.revoked event commit in one transaction (the audit
// event of a change is written with the change), so the revocation is never acknowledged
// without its event and never takes effect without it. Then the cache, the in-process set
// and the other replicas learn of it (revocationList.announce).
func (s *service) Revoke(ctx context.Context, c *caller, token string) error {
	if err := s.authorize(ctx, c, PathRevoke); err != nil {
		return err
	}
	now := s.now()
	t, err := s.val.authentic(ctx, token, now)
	var it *invalidToken
	switch {
	case errors.As(err, &it):
		s.log.Debug("revocation of an invalid token ignored", zap.String("reason", it.reason))
		return nil
	case err != nil:
		return err
	}
	// An agent's own tokens are those whose subject or client it is (the holder of a
	// delegated token is its client, SPEC §13).
	d, err := s.decide(ctx, c, PathRevoke, &policy.Target{AgentID: t.claims.Subject, ClientID: t.claims.ClientID, OrgID: t.claims.org()})
	if err != nil {
		return err
	}
	if !d.Allow {
		s.log.Debug("the policy refuses this caller that token; ignored", zap.String("caller", c.AgentID))
		return nil
	}
	cl := t.claims
	exp := time.Unix(cl.expiry(), 0).UTC()
	via := c.Via
	inserted := false
	err = s.db.RunInTx(ctx, nil, func(ctx context.Context, tx bun.Tx) error {
		ok, err := s.repo.insertRevocation(ctx, tx, &revocationRow{JTI: cl.ID, AgentID: cl.Subject, ExpiresAt: exp,
			RevokedAt: database.Time(now)})
		if err != nil || !ok {
			return err
		}
		inserted = true
		return s.rec.RecordTx(ctx, tx, audittrail.Event{Action: ActionTokenRevoked, AgentID: cl.Subject, OrgID: cl.org(),
			ActorID: c.AgentID, TargetType: audittrail.TargetToken, TargetID: cl.ID,
			Details: map[string]any{"exp": cl.expiry(), "via": via, "credential_id": cl.CredentialID}})
	})
	if err != nil {
		return unavailable("the revocation could not be recorded; retry shortly", err)
	}
	s.revs.announce(ctx, cl.ID, exp)
	if inserted {
		s.metrics.revocations.Inc()
	}
	return nil
}
