// Package agents is the agents bounded context: agent identities, their lifecycle
// (active → suspended ⇄ active → decommissioned) and the free plan's agent limit. This file
// is the only surface other modules may use.
package agents

import (
	"context"
	"errors"
	"time"

	"github.com/uptrace/bun"

	"github.com/agentidp/agentidp/modules/orgs"
	"github.com/agentidp/agentidp/platform/policy"
)

// Status is an agent's lifecycle state.
type Status string

const (
	StatusActive         Status = "active"
	StatusSuspended      Status = "suspended"
	StatusDecommissioned Status = "decommissioned" // final
)

// Plan is an agent's metering plan.
type Plan string

const (
	PlanFree      Plan = "free"
	PlanUnlimited Plan = "unlimited"
)

// Agent is the read model other modules see.
type Agent struct {
	ID               string         `json:"agent_id"`
	OrgID            string         `json:"org_id"` // fixed at creation
	Name             string         `json:"name"`
	Description      string         `json:"description"`
	Owner            string         `json:"owner"`
	Status           Status         `json:"status"`
	AllowedScopes    []string       `json:"allowed_scopes"`
	AllowedAudiences []string       `json:"allowed_audiences"`
	Plan             Plan           `json:"plan"`
	Metadata         map[string]any `json:"metadata"`
	// RequireDPoP: the agent gets only DPoP-bound tokens (RFC 9449); a token request
	// without a DPoP proof is refused (invalid_dpop_proof).
	RequireDPoP bool      `json:"require_dpop"`
	CreatedAt   time.Time `json:"created_at"`
	UpdatedAt   time.Time `json:"updated_at"`
	// TokensNotBefore is when the agent was last suspended or decommissioned: every token
	// issued at or before it is dead, even after a reactivation. Zero when never.
	TokensNotBefore time.Time `json:"-"`
}

// ErrNotFound is returned by Directory for an unknown agent.
var ErrNotFound = errors.New("agent not found")

// Directory is the read-only view other modules use on hot paths (token issuance and
// validation). Lookups are cached in process and invalidated on every replica through the
// platform broadcast when an agent changes; a cached entry also expires on its own within
// seconds.
type Directory interface {
	Lookup(ctx context.Context, agentID string) (*Agent, error)
}

// LifecycleEvent says an agent's status changed.
type LifecycleEvent struct {
	AgentID string
	OrgID   string // the agent's organization
	From    Status
	To      Status
	At      time.Time
}

// LifecycleHook runs inside the transaction that changes the agent's status, so a
// subscriber's own writes (e.g. credentials revoked on decommission) commit with the change
// or not at all. A hook must only touch its own module's tables.
type LifecycleHook func(ctx context.Context, tx bun.Tx, ev LifecycleEvent) error

// AfterCommitHook runs once the status change's transaction has committed, before the
// change returns to its caller; never for a change that rolled back or changed nothing. It
// is the place for what must see the committed state, e.g. dropping cached rows that a read
// racing with the transaction may have loaded from before it. Its context is not cancelled
// with the caller's. It returns nothing: the change is committed whatever it does.
type AfterCommitHook func(ctx context.Context, ev LifecycleEvent)

// Lifecycle lets other modules subscribe to status changes (call during construction).
type Lifecycle interface {
	// OnStatusChange adds a hook run inside the change's transaction.
	OnStatusChange(h LifecycleHook)
	// AfterStatusChange adds a hook run after the change's transaction committed.
	AfterStatusChange(h AfterCommitHook)
}

// NewAgent describes an agent created by another module (bootstrap).
type NewAgent struct {
	ID    string // optional; a new UUID when empty
	OrgID string // the organization; root when empty
	// Org, when set, is the agent's organization, not yet committed (it is being created in
	// the same transaction): it is used as it is, without a lookup.
	Org           *orgs.Org
	Name          string
	Description   string
	AllowedScopes []string
	Plan          Plan
	Metadata      map[string]any
	// OrgAdmin: the first admin of a new organization, not the bootstrap admin (it is not
	// marked as such).
	OrgAdmin bool
}

// Provisioner creates agents for other modules (the bootstrap admin, an organization's
// first admin).
type Provisioner interface {
	// CreateInTx creates the agent inside tx, auditing it in the same transaction.
	CreateInTx(ctx context.Context, tx bun.Tx, in NewAgent) (*Agent, error)
	// AdminExists reports whether a non-decommissioned agent created as bootstrap admin
	// exists.
	AdminExists(ctx context.Context) (bool, error)
}

// Authority gives other modules the facts the policy's authority rules need about an agent
// (docs/security.md, "The authority model"): the credentials module asks the policy with
// them before it changes an agent's credentials.
type Authority interface {
	// Target is the policy target for a change to the agent or its credentials: its
	// organization, its whole authority, its status and scopes; ErrNotFound for none.
	Target(ctx context.Context, agentID string) (*policy.Target, error)
	// LockoutFactsInTx takes the lock-out lock of t's organization in tx and fills t's
	// status and scopes (read in tx) and OtherHolders, for a change that could take the
	// organization's last holder of a lock-out role away (e.g. revoking a credential).
	LockoutFactsInTx(ctx context.Context, tx bun.Tx, t *policy.Target) error
}

// Census counts agents by lifecycle status (the usage overview's agents_by_status).
type Census interface {
	// CountByStatus returns the number of agents of orgID ("" for every organization) per
	// status ("active", "suspended",
	// "decommissioned"); a status with no agent may be left out.
	CountByStatus(ctx context.Context, orgID string) (map[string]int, error)
}
