// Package credentials is the credentials bounded context: client secrets of agents
// (issue, rotate with a grace period, expire, revoke), their verification on the token
// endpoint's hot path, and the bootstrap admin. This file is the only surface other modules
// may use.
package credentials

import (
	"context"
	"encoding/json"
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

// Type is a credential's kind (SPEC §11).
type Type string

const (
	// TypeSecret is a client secret (the default; version 1's only kind).
	TypeSecret Type = "secret"
	// TypePrivateKeyJWT is a public key set: the agent signs client assertions (RFC 7523).
	TypePrivateKeyJWT Type = "private_key_jwt"
	// TypeFederated accepts a token of a trusted issuer for one subject (workload identity).
	TypeFederated Type = "federated"
)

// Verified is what a good client_id/client_secret pair or client assertion authenticates.
type Verified struct {
	AgentID      string
	CredentialID string
	Type         Type
}

// Verifier authenticates clients on the token, introspection and revocation endpoints.
type Verifier interface {
	// Verify returns the agent and credential the pair authenticates, ErrInvalidClient, or
	// an error wrapping an unavailable store (Vault mode, database) which callers answer 503.
	// It costs microseconds for a credential verified recently (cached, invalidated across
	// replicas on rotate/revoke); it does not check the agent's status.
	Verify(ctx context.Context, clientID, secret string) (Verified, error)
}

// The client assertion types (RFC 7523 §2.2; draft-ietf-oauth-spiffe-client-auth).
const (
	AssertionJWTBearer = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"
	AssertionSPIFFE    = "urn:ietf:params:oauth:client-assertion-type:jwt-spiffe"
)

// Assertion is a client assertion as a request carries it. Build it with NewAssertion,
// which parses the JWT once (unverified) for both what must know the claimed client before
// verification and VerifyAssertion; do not change its fields afterwards.
type Assertion struct {
	Type     string // client_assertion_type
	JWT      string // client_assertion
	ClientID string // the client_id parameter; "" when not sent

	parsed *parsedAssertion // nil: not parsed yet (VerifyAssertion parses it then)
}

// AssertionVerifier authenticates clients by assertion on the token, introspection and
// revocation endpoints: a private_key_jwt credential's signed assertion, or a trusted
// issuer's token for a federated credential.
type AssertionVerifier interface {
	// VerifyAssertion returns the agent and credential the assertion authenticates,
	// ErrInvalidClient for every refusal (whatever the reason), or an error wrapping an
	// unavailable store (the replay cache, the database) which callers answer 503. It
	// does not check the agent's status.
	VerifyAssertion(ctx context.Context, a Assertion) (Verified, error)
}

// NewAssertion parses raw once, unverified; a JWT that does not parse is kept, and refused
// as ErrInvalidClient by VerifyAssertion.
func NewAssertion(typ, raw, clientID string) Assertion {
	tok, claims, err := parseAssertion(raw)
	return Assertion{Type: typ, JWT: raw, ClientID: clientID,
		parsed: &parsedAssertion{tok: tok, claims: claims, err: err}}
}

// Client is the client an assertion claims to be, unverified, for what must know it before
// verification (the brute-force guard, the denial's audit event): the client_id parameter
// when sent, else the assertion's iss, else "".
func (a Assertion) Client() string {
	if a.ClientID != "" {
		return a.ClientID
	}
	if _, c, err := a.parse(); err == nil {
		return c.Issuer
	}
	return ""
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
	ID           string `json:"credential_id"`
	AgentID      string `json:"agent_id"`
	Type         Type   `json:"type"`
	Status       Status `json:"status"`
	SecretPrefix string `json:"secret_prefix"`
	// KeyIDs are a private_key_jwt credential's kids (given, or RFC 7638 thumbprints).
	KeyIDs []string `json:"kids,omitempty"`
	// TrustedIssuerID and Subject are a federated credential's external identity.
	TrustedIssuerID *string    `json:"trusted_issuer_id,omitempty"`
	Subject         string     `json:"subject,omitempty"`
	RotatedFrom     *string    `json:"rotated_from"`
	CreatedAt       time.Time  `json:"created_at"`
	ExpiresAt       *time.Time `json:"expires_at"`
	// RevokedAt is when the credential is or was revoked. During a rotation's grace period
	// it lies in the future and Status is still active.
	RevokedAt  *time.Time `json:"revoked_at"`
	LastUsedAt *time.Time `json:"last_used_at"`
}

// Issued is a new credential with its secret, returned once (create, rotate, bootstrap);
// a private_key_jwt or federated credential has no secret.
type Issued struct {
	Credential
	ClientID     string `json:"client_id"` // the agent id
	ClientSecret string `json:"client_secret,omitempty"`
}

// TrustedIssuer is an external token issuer an organization trusts for its agents'
// federated credentials: its keys by value (JWKS) or by address (JWKSURI). Immutable.
type TrustedIssuer struct {
	ID        string          `json:"trusted_issuer_id"`
	OrgID     string          `json:"org_id"`
	Issuer    string          `json:"issuer"`
	JWKSURI   string          `json:"jwks_uri,omitempty"`
	JWKS      json.RawMessage `json:"jwks,omitempty"`
	CreatedAt time.Time       `json:"created_at"`
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
