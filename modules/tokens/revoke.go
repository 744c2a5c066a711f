package tokens

import (
	"context"
	"errors"
	"time"

	"github.com/uptrace/bun"
	"go.uber.org/zap"

	"github.com/agentidp/agentidp/platform/audittrail"
)

// Revoke revokes token (RFC 7009). A client authenticated with its credentials may revoke
// only its own tokens, whatever its scopes; a bearer caller needs tokens:revoke and may
// revoke any. A token that is malformed, foreign, expired or someone else's is ignored:
// the answer is the same success, so the endpoint tells nothing about tokens.
//
// The revocation row and its token.revoked event commit in one transaction (the audit
// event of a change is written with the change), so the revocation is never acknowledged
// without its event and never takes effect without it. Then the cache, the in-process set
// and the other replicas learn of it (revocationList.announce).
func (s *service) Revoke(ctx context.Context, c *caller, token string) error {
	if !c.ViaClient {
		if err := c.require(ScopeRevoke); err != nil {
			return err
		}
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
	case c.ViaClient && t.claims.Subject != c.AgentID:
		s.log.Debug("a client asked to revoke another client's token; ignored", zap.String("caller", c.AgentID))
		return nil
	}
	cl := t.claims
	exp := time.Unix(cl.expiry(), 0).UTC()
	via := "bearer"
	if c.ViaClient {
		via = "client_credentials"
	}
	inserted := false
	err = s.db.RunInTx(ctx, nil, func(ctx context.Context, tx bun.Tx) error {
		ok, err := s.repo.insertRevocation(ctx, tx, &revocationRow{JTI: cl.ID, AgentID: cl.Subject, ExpiresAt: exp,
			RevokedAt: now.UTC().Truncate(time.Microsecond)})
		if err != nil || !ok {
			return err
		}
		inserted = true
		return s.rec.RecordTx(ctx, tx, audittrail.Event{Action: ActionTokenRevoked, AgentID: cl.Subject,
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
