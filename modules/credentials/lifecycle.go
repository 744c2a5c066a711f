package credentials

import (
	"context"

	"github.com/uptrace/bun"

	"github.com/agentidp/agentidp/modules/agents"
	"github.com/agentidp/agentidp/platform/audittrail"
	"github.com/agentidp/agentidp/platform/database"
)

// revokeOnDecommission is the agents lifecycle hook run inside the status change's
// transaction: decommissioning an agent revokes every one of its live credentials there,
// each audited there too, so that they commit (or roll back) with the decommission. (Their
// Vault entries are deleted by the janitor.)
func (s *service) revokeOnDecommission(ctx context.Context, tx bun.Tx, ev agents.LifecycleEvent) error {
	if ev.To != agents.StatusDecommissioned {
		return nil
	}
	now := s.now()
	rows, err := s.repo.live(ctx, tx, ev.AgentID, now, 0)
	if err != nil {
		return err
	}
	if err := s.repo.revokeAgent(ctx, tx, ev.AgentID, database.Time(now)); err != nil {
		return err
	}
	for i := range rows {
		if err := s.audit.RecordTx(ctx, tx, audittrail.Event{
			Action: actionRevoked, AgentID: ev.AgentID, OrgID: ev.OrgID,
			TargetType: audittrail.TargetCredential, TargetID: rows[i].ID,
			Details: map[string]any{"reason": "agent_decommissioned"},
		}); err != nil {
			return err
		}
	}
	return nil
}

// dropAfterDecommission is the after-commit hook: once the decommission has committed, the
// agent's credentials are dropped from the caches here and on every replica. A verification
// that read them before the commit is then either dropped with the entry or, still loading,
// not stored (generation check), so none outlives the decommission's return.
func (s *service) dropAfterDecommission(ctx context.Context, ev agents.LifecycleEvent) {
	if ev.To == agents.StatusDecommissioned {
		s.inval.invalidate(ctx, ev.AgentID)
	}
}
