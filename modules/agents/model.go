package agents

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strings"
	"time"

	"github.com/uptrace/bun"
)

// agentRow is the agents table. Arrays and metadata are JSON text (jsonb on PostgreSQL),
// so that the repository stays dialect-neutral.
type agentRow struct {
	bun.BaseModel `bun:"table:agents"`

	ID               string    `bun:"agent_id,pk"`
	OrgID            string    `bun:"org_id"`
	Name             string    `bun:"name"`
	NameLower        string    `bun:"name_lower"`
	Description      string    `bun:"description"`
	Owner            string    `bun:"owner"`
	Status           string    `bun:"status"`
	AllowedScopes    string    `bun:"allowed_scopes"`
	AllowedAudiences string    `bun:"allowed_audiences"`
	Plan             string    `bun:"plan"`
	Metadata         string    `bun:"metadata"`
	IsAdmin          bool      `bun:"is_admin"`
	RequireDPoP      bool      `bun:"require_dpop"`
	CreatedAt        time.Time `bun:"created_at"`
	UpdatedAt        time.Time `bun:"updated_at"`
	TokensNotBefore  time.Time `bun:"tokens_not_before,nullzero"`
}

// toRow serialises a to its row.
func toRow(a *Agent, isAdmin bool) (*agentRow, error) {
	scopes, err := json.Marshal(nonNilSlice(a.AllowedScopes))
	if err != nil {
		return nil, err
	}
	auds, err := json.Marshal(nonNilSlice(a.AllowedAudiences))
	if err != nil {
		return nil, err
	}
	meta, err := marshalMetadata(a.Metadata)
	if err != nil {
		return nil, err
	}
	return &agentRow{
		ID:               a.ID,
		OrgID:            a.OrgID,
		Name:             a.Name,
		NameLower:        strings.ToLower(a.Name),
		Description:      a.Description,
		Owner:            a.Owner,
		Status:           string(a.Status),
		AllowedScopes:    string(scopes),
		AllowedAudiences: string(auds),
		Plan:             string(a.Plan),
		Metadata:         meta,
		IsAdmin:          isAdmin,
		RequireDPoP:      a.RequireDPoP,
		CreatedAt:        a.CreatedAt,
		UpdatedAt:        a.UpdatedAt,
		TokensNotBefore:  a.TokensNotBefore,
	}, nil
}

// toAgent parses a row into the read model. Slices and the metadata map are never nil.
func (r *agentRow) toAgent() (*Agent, error) {
	a := &Agent{
		ID:              r.ID,
		OrgID:           r.OrgID,
		Name:            r.Name,
		Description:     r.Description,
		Owner:           r.Owner,
		Status:          Status(r.Status),
		Plan:            Plan(r.Plan),
		RequireDPoP:     r.RequireDPoP,
		CreatedAt:       r.CreatedAt.UTC(),
		UpdatedAt:       r.UpdatedAt.UTC(),
		TokensNotBefore: r.TokensNotBefore,
	}
	if !a.TokensNotBefore.IsZero() {
		a.TokensNotBefore = a.TokensNotBefore.UTC()
	}
	if err := json.Unmarshal([]byte(r.AllowedScopes), &a.AllowedScopes); err != nil {
		return nil, fmt.Errorf("agent %s: allowed_scopes: %w", r.ID, err)
	}
	if err := json.Unmarshal([]byte(r.AllowedAudiences), &a.AllowedAudiences); err != nil {
		return nil, fmt.Errorf("agent %s: allowed_audiences: %w", r.ID, err)
	}
	meta, err := decodeObject([]byte(r.Metadata))
	if err != nil {
		return nil, fmt.Errorf("agent %s: metadata: %w", r.ID, err)
	}
	a.Metadata = meta
	a.AllowedScopes = nonNilSlice(a.AllowedScopes)
	a.AllowedAudiences = nonNilSlice(a.AllowedAudiences)
	return a, nil
}

// marshalMetadata serialises metadata compactly (keys sorted, no HTML escaping); nil is {}.
func marshalMetadata(m map[string]any) (string, error) {
	if m == nil {
		return "{}", nil
	}
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(m); err != nil {
		return "", err
	}
	return strings.TrimSuffix(buf.String(), "\n"), nil
}

func nonNilSlice(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}
