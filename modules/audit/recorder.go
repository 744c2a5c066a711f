package audit

import (
	"context"
	"time"

	"github.com/uptrace/bun"
	"go.uber.org/fx"

	"github.com/agentidp/agentidp/modules/orgs"
	"github.com/agentidp/agentidp/platform/audittrail"
	"github.com/agentidp/agentidp/platform/ident"
	"github.com/agentidp/agentidp/platform/reqctx"
)

// recorder implements audittrail.Recorder.
type recorder struct {
	writer *groupWriter
	orgs   audittrail.AgentOrgs // nil in an app without the agents module
	now    func() time.Time
}

// recorderParams are the recorder's dependencies; AgentOrgs comes from the agents module.
type recorderParams struct {
	fx.In
	Writer *groupWriter
	Orgs   audittrail.AgentOrgs `optional:"true"`
}

func newRecorder(p recorderParams) *recorder {
	return &recorder{writer: p.Writer, orgs: p.Orgs, now: time.Now}
}

// RecordTx appends e to the chain inside tx, so the change and its event commit together or
// not at all. On PostgreSQL it takes the chain lock, held until tx ends: call it as the last
// statement of the transaction to keep that short.
func (r *recorder) RecordTx(ctx context.Context, tx bun.Tx, e audittrail.Event) error {
	row, err := newRow(ctx, e, r.now())
	if err != nil {
		return err
	}
	if err := r.fillOrg(ctx, tx, row); err != nil {
		return err
	}
	_, err = appendRows(ctx, tx, []*eventRow{row})
	if isNoPartition(err) && r.writer != nil {
		partitionsAfterFailure(r.writer.db, r.writer.log)
	}
	return err
}

// Record hands e to the group-commit writer and returns once its batch is committed (nil)
// or has failed (the error; the event is then not stored).
func (r *recorder) Record(ctx context.Context, e audittrail.Event) error {
	row, err := newRow(ctx, e, r.now())
	if err != nil {
		return err
	}
	if err := r.fillOrg(ctx, nil, row); err != nil {
		return err
	}
	return r.writer.submit(ctx, row)
}

// fillOrg sets the organization of an event that does not name one: the org of the agent
// it concerns, else the actor's, else root's (the server's own events: a key made at
// start, a CLI command, a refused client that names no agent). The calling agent's org
// comes from the request (reqctx), any other agent's from AgentOrgs: read in tx when
// recording in a transaction (an agent created there is found), else from the agents'
// cached Directory. The token path names the org itself and costs no lookup.
func (r *recorder) fillOrg(ctx context.Context, tx bun.IDB, row *eventRow) error {
	if row.OrgID != "" {
		return nil
	}
	p := reqctx.PrincipalFrom(ctx)
	for _, agentID := range []string{row.AgentID, row.ActorID} {
		if agentID == "" {
			continue
		}
		if p != nil && p.AgentID == agentID && p.OrgID != "" {
			row.OrgID = canonicalOr(p.OrgID, orgs.RootID)
			return nil
		}
		if r.orgs == nil {
			continue
		}
		org, err := r.orgs.AgentOrg(ctx, tx, agentID)
		if err != nil {
			return err
		}
		if org != "" {
			row.OrgID = canonicalOr(org, orgs.RootID)
			return nil
		}
	}
	row.OrgID = orgs.RootID
	return nil
}

// canonicalOr is id in its canonical form, or def when it is not a UUID.
func canonicalOr(id, def string) string {
	if c, ok := ident.Canonical(id); ok {
		return c
	}
	return def
}
