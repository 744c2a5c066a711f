package orgs

import (
	"fmt"
	"time"

	"github.com/uptrace/bun"
)

// orgRow is the orgs table. max_agents NULL means the configured default
// (AGENTIDP_FREE_TIER_MAX_AGENTS): root, made at start, has it, and so has an org created
// without max_agents.
type orgRow struct {
	bun.BaseModel `bun:"table:orgs"`

	ID              string    `bun:"org_id,pk"`
	Name            string    `bun:"name"`
	NameLower       string    `bun:"name_lower"`
	Status          string    `bun:"status"`
	MaxAgents       *int      `bun:"max_agents"`
	Metadata        string    `bun:"metadata"`
	CreatedAt       time.Time `bun:"created_at"`
	UpdatedAt       time.Time `bun:"updated_at"`
	TokensNotBefore time.Time `bun:"tokens_not_before,nullzero"`
}

// toOrg is the read model of r, with defaultMax for an unset max_agents. Metadata numbers
// keep their digits (json.Number).
func (r *orgRow) toOrg(defaultMax int) (*Org, error) {
	o := &Org{ID: r.ID, Name: r.Name, Status: Status(r.Status), MaxAgents: defaultMax,
		CreatedAt: r.CreatedAt.UTC(), UpdatedAt: r.UpdatedAt.UTC()}
	if r.MaxAgents != nil {
		o.MaxAgents = *r.MaxAgents
	}
	if !r.TokensNotBefore.IsZero() {
		o.TokensNotBefore = r.TokensNotBefore.UTC()
	}
	md, err := decodeObject([]byte(r.Metadata))
	if err != nil {
		return nil, fmt.Errorf("org %s: metadata: %w", r.ID, err)
	}
	o.Metadata = md
	return o, nil
}
