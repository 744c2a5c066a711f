// Package tokens is the OAuth 2.0 bounded context: the token endpoint (client
// credentials), RFC 9068 JWT access tokens, signing keys and their rotation, JWKS and
// discovery metadata, introspection, revocation, and the bearer verifier the API's auth
// middleware uses. This file is the only surface other modules (and the CLI) may use.
package tokens

import (
	"context"
	"time"
)

// KeyState is a signing key's place in its life.
type KeyState string

const (
	KeyPending KeyState = "pending" // published in the JWKS, not yet signing
	KeyActive  KeyState = "active"  // signing
	KeyRetired KeyState = "retired" // published until its last token expires
)

// KeyInfo describes a signing key, never its private part.
type KeyInfo struct {
	KID         string     `json:"kid"`
	Alg         string     `json:"alg"`
	State       KeyState   `json:"state"`
	CreatedAt   time.Time  `json:"created_at"`
	ActivatesAt time.Time  `json:"activates_at"`
	RetiresAt   *time.Time `json:"retires_at"`
}

// KeyAdmin lists and rotates signing keys (API and CLI).
type KeyAdmin interface {
	// ListKeys returns every key, newest first.
	ListKeys(ctx context.Context) ([]KeyInfo, error)
	// RotateKey makes a key of AGENTIDP_SIGNING_ALG, published at once and signing after
	// AGENTIDP_KEY_PUBLISH_DELAY, when the current key retires. Audited (key.rotated).
	RotateKey(ctx context.Context) (KeyInfo, error)
}

// Signing algorithms (JWA names), chosen by AGENTIDP_SIGNING_ALG.
const (
	AlgRS256 = "RS256" // RSA-2048, PKCS #1 v1.5, SHA-256 (default)
	AlgES256 = "ES256" // ECDSA P-256, SHA-256
	AlgEdDSA = "EdDSA" // Ed25519
)

// Routes of the module.
const (
	PathToken      = "/api/v1/token"
	PathIntrospect = "/api/v1/token/introspect"
	PathRevoke     = "/api/v1/token/revoke"
	PathJWKS       = "/.well-known/jwks.json"
	PathOAuthMeta  = "/.well-known/oauth-authorization-server"
	PathOIDCMeta   = "/.well-known/openid-configuration"
	// An organization's own metadata, by RFC 8414 path insertion and the OpenID way.
	PathOrgOAuthMeta = "/.well-known/oauth-authorization-server/orgs/{org_id}"
	PathOrgOIDCMeta  = "/orgs/{org_id}/.well-known/openid-configuration"
	PathKeys         = "/api/v1/keys"
	PathKeysRotate   = "/api/v1/keys/rotate"
)

// Audit actions the module records.
const (
	ActionTokenIssued       = "token.issued"
	ActionTokenExchanged    = "token.exchanged" // a token of the token exchange (SPEC §13)
	ActionTokenDenied       = "token.denied"
	ActionTokenIntrospected = "token.introspected"
	ActionTokenRevoked      = "token.revoked"
	ActionKeyCreated        = "key.created" // the first key, on first start
	ActionKeyRotated        = "key.rotated"
)

// Broadcast channels (platform/cache Broadcaster) between replicas.
const (
	// KeysChangedChannel: a key was created or rotated; reload the key ring now (every
	// replica also reloads every 2 s on its own).
	KeysChangedChannel = "keys.changed"
	// RevokedChannel: "<jti> <exp unix>" was revoked; add it to the in-process set now
	// (every replica also syncs from token_revocations every second).
	RevokedChannel = "tokens.revoked"
)
