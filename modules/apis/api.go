// Package apis is the APIs bounded context: the resource servers registered in an
// organization (their identifier is the aud of their tokens, their scopes what agents may be
// granted), the server's own API built in, and agents' grants on them. This file is the only
// surface other modules may use.
package apis

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"time"

	"github.com/uptrace/bun"
)

// BuiltinID is the api_id of the server's own API (identifier: the issuer; scopes: the
// policy's known scopes). It has no row: it is built in, and cannot be changed or deleted.
const BuiltinID = "00000000-0000-0000-0000-0000000000a1"

// Scope is one scope an API defines.
type Scope struct {
	Value       string `json:"value"`
	Description string `json:"description"`
}

// API is the read model other modules see: a live (not deleted) registered API.
type API struct {
	ID    string
	OrgID string
	// Identifier is the aud of the API's tokens, in its normalised form.
	Identifier string
	Name       string
	Scopes     []Scope
	// TokenTTL is the lifetime of the API's tokens; 0 for the server's AGENTIDP_TOKEN_TTL.
	TokenTTL    time.Duration
	RequireDPoP bool
	CreatedAt   time.Time
	UpdatedAt   time.Time
}

// HasScope reports whether the API defines the scope value.
func (a *API) HasScope(value string) bool {
	for _, s := range a.Scopes {
		if s.Value == value {
			return true
		}
	}
	return false
}

// ErrNotFound is returned by Directory for an unknown or deleted API.
var ErrNotFound = errors.New("api not found")

// Directory is the cached, read-only view of the registered APIs on the token path (issuing
// and validating tokens): no database or Redis round trip once an API is cached. A change
// reaches every replica at once by broadcast and within about a second when the broadcast
// is lost (a poll of the apis table). Deleted APIs are not found.
type Directory interface {
	// ByIdentifier returns the live API of org whose identifier is identifier (normalised
	// first, so any spelling of it that normalises the same finds it).
	ByIdentifier(ctx context.Context, orgID, identifier string) (*API, error)
	// ByID returns the live API with id.
	ByID(ctx context.Context, id string) (*API, error)
}

// Grant is an agent's grant on one API of its organization: the audience (the API's
// identifier) and the scopes of that API it may get in tokens for it.
type Grant struct {
	Audience string   `json:"audience"`
	Scopes   []string `json:"scopes"`
	// APIID is the API the grant is on (set by this module; never read from a request).
	APIID string `json:"-"`
}

// UnmarshalJSON reads a grant as a request sends it, {audience, scopes}, refusing any other
// member (an api_id included) whatever decoder the grant is read by.
func (g *Grant) UnmarshalJSON(b []byte) error {
	var in struct {
		Audience string   `json:"audience"`
		Scopes   []string `json:"scopes"`
	}
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&in); err != nil {
		return err
	}
	*g = Grant{Audience: in.Audience, Scopes: in.Scopes}
	return nil
}

// Grants is agents' grants on APIs. SetInTx runs inside the agents module's transaction
// that creates or changes the agent; the reads are cached (platform/readcache) and dropped
// on every replica when the agent's grants change.
type Grants interface {
	// SetInTx replaces the grants of agent agentID of organization orgID inside tx and
	// returns the grants it had before and has after (audiences as registered: the
	// accountable values of the change). Each audience must be the identifier of a live API
	// of orgID (not the server's own API: allowed_scopes is the grant for it), each scope one
	// of that API's scopes; otherwise a 400 validation_failed naming the field
	// (grants[i].audience, grants[i].scopes[j]). The caller's authority to set grants is
	// the policy's (policy.Change{Grants: true}); SetInTx checks only the grants themselves.
	// Call Committed once tx has committed.
	SetInTx(ctx context.Context, tx bun.Tx, orgID, agentID string, grants []Grant) (before, after []Grant, err error)
	// Committed drops the agent's cached grants on every replica; call it after the
	// transaction that ran SetInTx has committed.
	Committed(ctx context.Context, agentID string)
	// Of returns the agent's grants (cached; empty, never nil, when it has none). The
	// slice is shared and must not be modified.
	Of(ctx context.Context, agentID string) ([]Grant, error)
	// OfAgents returns the grants of many agents at once (one query, for lists); agents
	// without grants are absent from the map.
	OfAgents(ctx context.Context, agentIDs []string) (map[string][]Grant, error)
	// HasAny reports whether the agent holds any grant (cached): the policy then counts
	// apis:write in its authority.
	HasAny(ctx context.Context, agentID string) (bool, error)
}

// Route templates of the module (the keys of policies/data/scopes.json).
const (
	PathAPIs             = "/api/v1/apis"
	PathAPI              = "/api/v1/apis/{api_id}"
	PathResourceMetadata = "/api/v1/apis/{api_id}/resource-metadata"
)

// Audit actions the module records.
const (
	ActionCreated = "api.created"
	ActionUpdated = "api.updated"
	ActionDeleted = "api.deleted"
)

// Broadcast channels between replicas.
const (
	// ChangedChannel carries the cache keys of an API that changed (after commit).
	ChangedChannel = "apis.changed"
	// GrantsChangedChannel carries the id of an agent whose grants changed (after commit).
	GrantsChangedChannel = "apis.grants.changed"
)
