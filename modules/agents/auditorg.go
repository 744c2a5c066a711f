package agents

import (
	"context"
	"errors"

	"github.com/uptrace/bun"

	"github.com/agentidp/agentidp/platform/audittrail"
	"github.com/agentidp/agentidp/platform/database"
)

// auditOrgs implements audittrail.AgentOrgs: the audit recorder asks it for the
// organization of the agent an event concerns when the event does not say. In a change's
// transaction it reads the row there (an agent created in that transaction is found);
// otherwise it answers from the Directory, whose entry the token path has just loaded.
type auditOrgs struct {
	repo repository
	dir  *directory
}

var _ audittrail.AgentOrgs = auditOrgs{}

func (a auditOrgs) AgentOrg(ctx context.Context, tx bun.IDB, agentID string) (string, error) {
	if tx == nil {
		ag, err := a.dir.Lookup(ctx, agentID)
		if errors.Is(err, ErrNotFound) {
			return "", nil
		}
		if err != nil {
			return "", err
		}
		return ag.OrgID, nil
	}
	row, err := a.repo.get(ctx, tx, agentID)
	if errors.Is(err, database.ErrNotFound) {
		return "", nil
	}
	if err != nil {
		return "", err
	}
	return row.OrgID, nil
}
