package credentials

import (
	"context"
	"errors"
	"slices"

	"github.com/uptrace/bun"

	"github.com/agentidp/agentidp/modules/agents"
	"github.com/agentidp/agentidp/platform/apperr"
	"github.com/agentidp/agentidp/platform/database"
	"github.com/agentidp/agentidp/platform/policy"
)

// The policy decides who may read and change whose credentials (docs/security.md, "The
// authority model"); this file gives it the facts: the agent's organization (isolation),
// its whole authority (no managing up), and for a revocation the lock-out counts.

// errNoAgent is the 404 of an unknown agent and of another organization's agent alike.
var errNoAgent = apperr.NotFound("no agent with this agent_id")

// target looks up the agent the credentials belong to: 404 when there is none.
func (s *service) target(ctx context.Context, agentID string) (*policy.Target, error) {
	t, err := s.authority.Target(ctx, agentID)
	if errors.Is(err, agents.ErrNotFound) || errors.Is(err, database.ErrNotFound) {
		return nil, errNoAgent
	}
	return t, err
}

// authorizeRead lets the caller list the agent's credentials: the agent must exist and be
// of the caller's organization (or the caller acts on every one).
func (s *service) authorizeRead(ctx context.Context, agentID string) error {
	t, err := s.target(ctx, agentID)
	if err != nil {
		return err
	}
	return policy.Authorize(ctx, s.policy, policy.Target{AgentID: t.AgentID, OrgID: t.OrgID}, nil, errNoAgent)
}

// authorizeWrite lets the caller issue or rotate the agent's credentials: besides
// isolation, the caller must hold the agent's whole authority (no managing up). A
// decommissioned agent gets no credential (409). It returns the target (its organization
// names the audit event).
func (s *service) authorizeWrite(ctx context.Context, agentID string) (*policy.Target, error) {
	t, err := s.target(ctx, agentID)
	if err != nil {
		return nil, err
	}
	if err := policy.Authorize(ctx, s.policy, *t, nil, errNoAgent); err != nil {
		return nil, err
	}
	if t.Status == string(agents.StatusDecommissioned) {
		return nil, apperr.Conflict("the agent is decommissioned; it cannot get credentials")
	}
	return t, nil
}

// authorizeRevokeInTx lets the caller revoke credential credID of the agent, inside the
// revocation's transaction: besides isolation and no managing up, the organization's last
// holder of a lock-out role keeps its last active credential. The counts are taken under
// the organization's lock-out lock, so two revocations cannot both leave the other.
func (s *service) authorizeRevokeInTx(ctx context.Context, tx bun.Tx, t *policy.Target, credID string) error {
	if err := s.authority.LockoutFactsInTx(ctx, tx, t); err != nil {
		if errors.Is(err, agents.ErrNotFound) {
			return errNoAgent
		}
		return err
	}
	live, err := s.repo.live(ctx, tx, t.AgentID, s.now(), 0)
	if err != nil {
		return err
	}
	t.CredentialsLeft = 0
	for _, r := range live {
		if r.ID != credID {
			t.CredentialsLeft++
		}
	}
	return policy.Authorize(ctx, s.policy, *t, nil, errNoAgent)
}

// authorizeBulkRevokeInTx lets the caller revoke the credentials credIDs of the agent t
// together (a trusted issuer's deletion), inside that transaction: no managing up, and the
// organization's last holder of a lock-out role keeps an active credential.
func (s *service) authorizeBulkRevokeInTx(ctx context.Context, tx bun.Tx, t *policy.Target, credIDs []string) error {
	if err := s.authority.LockoutFactsInTx(ctx, tx, t); err != nil {
		if errors.Is(err, agents.ErrNotFound) {
			return errNoAgent
		}
		return err
	}
	live, err := s.repo.live(ctx, tx, t.AgentID, s.now(), 0)
	if err != nil {
		return err
	}
	t.CredentialsLeft = 0
	for _, r := range live {
		if !slices.Contains(credIDs, r.ID) {
			t.CredentialsLeft++
		}
	}
	return policy.Authorize(ctx, s.policy, *t, nil, errNoIssuer)
}
