package audit

import (
	"fmt"
	"io"

	"github.com/agentidp/agentidp/modules/orgs"
	"github.com/agentidp/agentidp/platform/ident"
)

// orgChecker checks one organization's export (GET /api/v1/audit/export?org_id=X): every
// event's hash recomputes from its fields, every event is the organization's, seq
// increases, and the events of hash version 3 carry org_seq with no gap and no repeat.
// Events of versions 1 and 2 (written before org_seq) are counted, not numbered.
type orgChecker struct {
	org     string
	lastSeq int64
	rep     OrgReport
	done    bool
}

func (c *orgChecker) fail(seq int64, format string, args ...any) {
	c.rep.OK, c.rep.FirstBadSeq, c.rep.Reason, c.done = false, seq, fmt.Sprintf(format, args...), true
}

// add checks the next event; false once the export is found broken.
func (c *orgChecker) add(r *eventRow) bool {
	if c.done {
		return false
	}
	c.rep.Checked++
	switch {
	case !rowIntact(r):
		c.fail(r.Seq, "altered: the event's content does not match its hash")
	case r.OrgID != c.org && (r.OrgID != "" || c.org != orgs.RootID):
		// An event with no org_id (version 1, before organizations) is root's.
		c.fail(r.Seq, "foreign: the event belongs to another organization")
	case r.Seq <= c.lastSeq:
		c.fail(r.Seq, "reordered or repeated: seq %d after seq %d", r.Seq, c.lastSeq)
	case r.OrgSeq == 0:
		c.rep.Unnumbered++
	case c.rep.LastOrgSeq == 0:
		c.rep.FirstOrgSeq, c.rep.LastOrgSeq = r.OrgSeq, r.OrgSeq
	case r.OrgSeq > c.rep.LastOrgSeq+1:
		c.fail(r.Seq, "deleted: org_seq %d where org_seq %d was expected (%d events missing)",
			r.OrgSeq, c.rep.LastOrgSeq+1, r.OrgSeq-c.rep.LastOrgSeq-1)
	case r.OrgSeq <= c.rep.LastOrgSeq:
		c.fail(r.Seq, "reordered or repeated: org_seq %d after org_seq %d", r.OrgSeq, c.rep.LastOrgSeq)
	default:
		c.rep.LastOrgSeq = r.OrgSeq
	}
	c.lastSeq = r.Seq
	return !c.done
}

// verifyOrgExport is VerifyOrgExport.
func verifyOrgExport(export io.Reader, orgID string) (OrgReport, error) {
	org, ok := ident.Canonical(orgID)
	if !ok {
		return OrgReport{}, fmt.Errorf("the organization id is not a UUID")
	}
	c := &orgChecker{org: org, rep: OrgReport{OK: true, OrgID: org}}
	if err := readExport(export, c.add); err != nil {
		return OrgReport{}, err
	}
	return c.rep, nil
}
