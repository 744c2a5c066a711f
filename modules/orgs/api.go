// Package orgs is the organizations bounded context: every agent belongs to one
// organization, and each organization is its own token issuer. The root organization exists
// from the first start; the bootstrap admin is its first agent. This file is the only surface
// other modules may use.
package orgs

import (
	"context"
	"errors"
	"strings"
	"time"

	"github.com/uptrace/bun"
)

// RootID is the root organization's id. It is fixed, so that every store (and a version-1
// database upgraded) names root the same way.
const RootID = "00000000-0000-0000-0000-000000000001"

// RootName is the root organization's name.
const RootName = "root"

// Status is an organization's state.
type Status string

const (
	StatusActive    Status = "active"
	StatusSuspended Status = "suspended"
)

// Org is the read model other modules see.
type Org struct {
	ID     string `json:"org_id"`
	Name   string `json:"name"`
	Status Status `json:"status"`
	// MaxAgents is how many non-decommissioned free-plan agents the org may hold.
	MaxAgents int            `json:"max_agents"`
	Metadata  map[string]any `json:"metadata"`
	CreatedAt time.Time      `json:"created_at"`
	UpdatedAt time.Time      `json:"updated_at"`
	// TokensNotBefore is when the org was last suspended: every token of its agents issued
	// at or before it is dead, even after a reactivation. Zero when never.
	TokensNotBefore time.Time `json:"-"`
}

// Active reports whether the org's agents may get and use tokens.
func (o *Org) Active() bool { return o.Status == StatusActive }

// ErrNotFound is returned for an unknown organization.
var ErrNotFound = errors.New("organization not found")

// Directory is the read-only, cached view of organizations on the token path and for the
// other modules' rules. A change reaches every replica at once by broadcast, and within
// about a second when the broadcast is lost (a poll of the table).
type Directory interface {
	Lookup(ctx context.Context, orgID string) (*Org, error)
}

// Issuer is the token issuer of org for a server whose own issuer is base: base itself for
// root, base + "/orgs/" + the org id for every other org.
func Issuer(base, orgID string) string {
	if orgID == RootID || orgID == "" {
		return base
	}
	return strings.TrimSuffix(base, "/") + "/orgs/" + orgID
}

// ChangedChannel is the broadcast channel on which a replica announces the id of an org it
// changed (after commit).
const ChangedChannel = "orgs.changed"

// Audit actions of this module; the events' target is the org (audittrail.TargetOrg).
const (
	ActionCreated     = "org.created"
	ActionUpdated     = "org.updated"
	ActionSuspended   = "org.suspended"
	ActionReactivated = "org.reactivated"
)

// Admin is the first admin agent of a new organization and its one credential, as
// POST /api/v1/orgs answers it. The secret is shown this once.
type Admin struct {
	AgentID      string `json:"agent_id"`
	ClientID     string `json:"client_id"`
	ClientSecret string `json:"client_secret"`
	CredentialID string `json:"credential_id"`
}

// NewAdmin is what the organizations module asks of an AdminProvisioner.
type NewAdmin struct {
	// Org is the organization being created, not yet committed: the admin's organization.
	Org           *Org
	Name          string
	Description   string
	AllowedScopes []string
	Plan          string // "free" or "unlimited"
}

// AdminProvisioner makes an organization's first admin agent and its credential inside the
// transaction that creates the organization, auditing both there (the credentials module
// provides it).
type AdminProvisioner interface {
	// ProvisionAdminInTx creates the agent and its credential in tx. undo, never nil when
	// err is nil, must be called when tx does not commit: it removes what was written
	// outside the database (the secret, in Vault mode).
	ProvisionAdminInTx(ctx context.Context, tx bun.Tx, in NewAdmin) (admin Admin, undo func(context.Context), err error)
}
