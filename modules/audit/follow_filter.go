package audit

import (
	"github.com/agentidp/agentidp/modules/orgs"
	"github.com/agentidp/agentidp/platform/database"
)

// followMatches reports whether r, a row of a kept group-commit batch, is one the export's
// query would select with f (repository.filtered): it must decide exactly as the SQL does,
// since a follower takes either. Rows and filters are canonical (UUIDs lower-case, so a text
// comparison is PostgreSQL's uuid one); times compare at the microsecond, as the query
// sends them (bun formats a time parameter to the microsecond, truncating).
func followMatches(f *filter, r *eventRow) bool {
	switch f.OrgID {
	case "":
	case orgs.RootID: // org_id = root OR org_id IS NULL
		if r.OrgID != f.OrgID && r.OrgID != "" {
			return false
		}
	default:
		if r.OrgID != f.OrgID {
			return false
		}
	}
	switch {
	case f.AgentID != "" && r.AgentID != f.AgentID,
		f.Action != "" && r.Action != f.Action,
		f.Outcome != "" && r.Outcome != f.Outcome,
		f.From != nil && r.OccurredAt.Before(database.Time(*f.From)),
		f.To != nil && !r.OccurredAt.Before(database.Time(*f.To)):
		return false
	}
	return true
}
