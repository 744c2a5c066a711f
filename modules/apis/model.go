package apis

import (
	"encoding/json"
	"fmt"
	"time"

	"github.com/uptrace/bun"
)

// apiRow is the apis table. scopes is JSON text (jsonb on PostgreSQL).
type apiRow struct {
	bun.BaseModel `bun:"table:apis"`

	ID          string    `bun:"api_id,pk"`
	OrgID       string    `bun:"org_id"`
	Identifier  string    `bun:"identifier"`
	Name        string    `bun:"name"`
	Scopes      string    `bun:"scopes"`
	TokenTTL    *int      `bun:"token_ttl_seconds"`
	RequireDPoP bool      `bun:"require_dpop"`
	CreatedAt   time.Time `bun:"created_at"`
	UpdatedAt   time.Time `bun:"updated_at"`
	DeletedAt   time.Time `bun:"deleted_at,nullzero"`
	ReusableAt  time.Time `bun:"reusable_at,nullzero"`
}

// toRow serialises a (live) to its row.
func toRow(a *API) (*apiRow, error) {
	scopes, err := json.Marshal(nonNilScopes(a.Scopes))
	if err != nil {
		return nil, err
	}
	r := &apiRow{ID: a.ID, OrgID: a.OrgID, Identifier: a.Identifier, Name: a.Name, Scopes: string(scopes),
		RequireDPoP: a.RequireDPoP, CreatedAt: a.CreatedAt, UpdatedAt: a.UpdatedAt}
	if a.TokenTTL > 0 {
		s := int(a.TokenTTL / time.Second)
		r.TokenTTL = &s
	}
	return r, nil
}

// toAPI parses a row into the read model; Scopes is never nil.
func (r *apiRow) toAPI() (*API, error) {
	a := &API{ID: r.ID, OrgID: r.OrgID, Identifier: r.Identifier, Name: r.Name, RequireDPoP: r.RequireDPoP,
		CreatedAt: r.CreatedAt.UTC(), UpdatedAt: r.UpdatedAt.UTC()}
	if r.TokenTTL != nil {
		a.TokenTTL = time.Duration(*r.TokenTTL) * time.Second
	}
	if err := json.Unmarshal([]byte(r.Scopes), &a.Scopes); err != nil {
		return nil, fmt.Errorf("api %s: scopes: %w", r.ID, err)
	}
	a.Scopes = nonNilScopes(a.Scopes)
	return a, nil
}

// deleted reports a deleted API's row.
func (r *apiRow) deleted() bool { return !r.DeletedAt.IsZero() }

// grantsRow is the api_grants table: one agent's grants.
type grantsRow struct {
	bun.BaseModel `bun:"table:api_grants"`

	AgentID   string    `bun:"agent_id,pk"`
	OrgID     string    `bun:"org_id"`
	Grants    string    `bun:"grants"`
	UpdatedAt time.Time `bun:"updated_at"`
}

// storedGrant is one grant as the table keeps it.
type storedGrant struct {
	APIID    string   `json:"api_id"`
	Audience string   `json:"audience"`
	Scopes   []string `json:"scopes"`
}

// decodeGrants parses the grants column; never nil.
func decodeGrants(agentID, raw string) ([]Grant, error) {
	var stored []storedGrant
	if err := json.Unmarshal([]byte(raw), &stored); err != nil {
		return nil, fmt.Errorf("grants of agent %s: %w", agentID, err)
	}
	out := make([]Grant, len(stored))
	for i, g := range stored {
		out[i] = Grant{APIID: g.APIID, Audience: g.Audience, Scopes: nonNil(g.Scopes)}
	}
	return out, nil
}

// encodeGrants serialises grants for the grants column.
func encodeGrants(grants []Grant) (string, error) {
	stored := make([]storedGrant, len(grants))
	for i, g := range grants {
		stored[i] = storedGrant{APIID: g.APIID, Audience: g.Audience, Scopes: nonNil(g.Scopes)}
	}
	b, err := json.Marshal(stored)
	return string(b), err
}

func nonNil(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}

func nonNilScopes(s []Scope) []Scope {
	if s == nil {
		return []Scope{}
	}
	return s
}
