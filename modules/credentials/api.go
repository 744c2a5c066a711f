// Package credentials is the credentials bounded context: client secrets of agents
// (issue, rotate with a grace period, expire, revoke), their verification on the token
// endpoint's hot path, and the bootstrap admin. This file is the only surface other modules
// may use.
package credentials

import (
	"context"
	"errors"
	"fmt"
	"time"
)

// Status is a credential's state.
type Status string

const (
	StatusActive  Status = "active"
	StatusRevoked Status = "revoked"
	StatusExpired Status = "expired"
)

// ErrInvalidClient is the single answer for an unknown client, a wrong secret, and a
// revoked or expired credential: callers cannot tell them apart (and neither can timing).
var ErrInvalidClient = errors.New("invalid_client")

// Verified is what a good client_id/client_secret pair authenticates.
type Verified struct {
	AgentID      string
	CredentialID string
}

// Verifier authenticates clients on the token, introspection and revocation endpoints.
type Verifier interface {
	// Verify returns the agent and credential the pair authenticates, ErrInvalidClient, or
	// an error wrapping an unavailable store (Vault mode, database) which callers answer 503.
	// It costs microseconds for a credential verified recently (cached, invalidated across
	// replicas on rotate/revoke); it does not check the agent's status.
	Verify(ctx context.Context, clientID, secret string) (Verified, error)
}

// State is what token validation needs to know about the credential that minted a token.
type State struct {
	Status    Status
	RevokedAt time.Time // zero unless revoked
	ExpiresAt time.Time // zero when it never expires
}

// Active reports whether the credential may still back tokens at now.
func (s State) Active(now time.Time) bool {
	return s.Status == StatusActive && (s.ExpiresAt.IsZero() || now.Before(s.ExpiresAt))
}

// Directory answers the state of a credential (cached like Verifier).
type Directory interface {
	State(ctx context.Context, credentialID string) (State, error)
}

// ErrAdminExists is returned by Bootstrap when an admin agent already exists.
var ErrAdminExists = errors.New("an admin agent already exists")

// BootstrapResult is the admin created by Bootstrap. The secret is shown once.
type BootstrapResult struct {
	ClientID     string
	ClientSecret string
	CredentialID string
}

// Bootstrapper creates the admin agent (every scope, plan unlimited) and its credential,
// in one transaction, from AGENTIDP_BOOTSTRAP_CLIENT_ID/SECRET when set.
type Bootstrapper interface {
	Bootstrap(ctx context.Context) (*BootstrapResult, error)
	// ResetAdmin gives the bootstrap admin a new credential (its secret from
	// AGENTIDP_BOOTSTRAP_CLIENT_SECRET when set) and revokes its others, in one
	// transaction, audited there; ErrNoAdmin when there is no admin.
	ResetAdmin(ctx context.Context) (*BootstrapResult, error)
}

// ErrNoAdmin is returned by ResetAdmin when no bootstrap admin exists.
var ErrNoAdmin = errors.New("no bootstrap admin exists")

// ErrNotFound is returned by Directory.State for an unknown credential.
var ErrNotFound = errors.New("credential not found")

// Credential is a credential as the API lists it: never its secret nor its hash.
type Credential struct {
	ID           string     `json:"credential_id"`
	AgentID      string     `json:"agent_id"`
	Status       Status     `json:"status"`
	SecretPrefix string     `json:"secret_prefix"`
	RotatedFrom  *string    `json:"rotated_from"`
	CreatedAt    time.Time  `json:"created_at"`
	ExpiresAt    *time.Time `json:"expires_at"`
	// RevokedAt is when the credential is or was revoked. During a rotation's grace period
	// it lies in the future and Status is still active.
	RevokedAt  *time.Time `json:"revoked_at"`
	LastUsedAt *time.Time `json:"last_used_at"`
}

// Issued is a new credential with its secret, returned once (create, rotate, bootstrap).
type Issued struct {
	Credential
	ClientID     string `json:"client_id"` // the agent id
	ClientSecret string `json:"client_secret"`
}

// SecretFromEnv is printed instead of a secret the operator supplied.
const SecretFromEnv = "(from AGENTIDP_BOOTSTRAP_CLIENT_SECRET)"

// BootstrapLine is the one line announcing the bootstrap admin on standard output. A secret
// the operator supplied through the environment is not echoed.
func BootstrapLine(res *BootstrapResult, secretFromEnv bool) string {
	secret := res.ClientSecret
	if secretFromEnv {
		secret = SecretFromEnv
	}
	return fmt.Sprintf("bootstrap admin: client_id=%s client_secret=%s", res.ClientID, secret)
}
