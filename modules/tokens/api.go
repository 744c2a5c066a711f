// Package tokens is the OAuth 2.0 bounded context: the token endpoint (client
// credentials), RFC 9068 JWT access tokens, signing keys and their rotation, JWKS and
// discovery metadata, introspection, revocation, and the bearer verifier the API's auth
// middleware uses. This file is the only surface other modules may use.
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
	ListKeys(ctx context.Context) ([]KeyInfo, error)
	RotateKey(ctx context.Context) (KeyInfo, error)
}
