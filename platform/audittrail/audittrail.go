// Package audittrail is the small publisher interface through which every module writes
// audit events. The audit module implements it (tables, hash chain, group commit); other
// modules depend only on this interface, never on the audit module.
package audittrail

import (
	"context"
	"time"

	"github.com/uptrace/bun"
)

// Outcomes.
const (
	Success = "success"
	Failure = "failure"
)

// Target types.
const (
	TargetAgent      = "agent"
	TargetCredential = "credential"
	TargetToken      = "token"
	TargetKey        = "key"
	TargetAPI        = "api"
	TargetOrg        = "org"
	TargetIssuer     = "trusted_issuer"
)

// Event is one audit event to record. ActorID, IP, UserAgent and RequestID are taken from
// the context (platform/reqctx) when left empty; OccurredAt defaults to now; Outcome to
// Success. Details must never hold a secret or a token.
//
// An event whose actor is the caller of a delegated token (reqctx.Principal.Chain, SPEC §13)
// names the whole chain: the recorder adds details.actor_chain, the agent ids of the
// subject (the actor_id), then each actor, the holder last. Callers never set it.
//
// OrgID is the organization the event belongs to: the org of the agent it concerns, else
// the actor's. A caller that knows it sets it (the token path always does, so that
// recording costs no lookup there); left empty, the recorder finds it: the agent's org
// through AgentOrgs, else the calling agent's (reqctx), else the root organization's (the
// server's own events: a key made at start, a CLI command).
type Event struct {
	Action     string // e.g. "agent.created", "token.issued"
	AgentID    string // the agent the event concerns ("" for none)
	OrgID      string // the organization the event belongs to ("": found by the recorder)
	TargetType string
	TargetID   string
	Outcome    string
	Details    map[string]any

	ActorID    string
	IP         string
	UserAgent  string
	RequestID  string
	OccurredAt time.Time
}

// AgentOrgs tells the recorder the organization of an agent, for events that name an agent
// but not its organization. The agents module provides it.
type AgentOrgs interface {
	// AgentOrg returns agentID's organization, "" when there is no such agent. tx is the
	// change's transaction when the event is recorded in one (an agent created in it is
	// found there), nil otherwise (then the answer may come from a cache).
	AgentOrg(ctx context.Context, tx bun.IDB, agentID string) (string, error)
}

// Recorder writes audit events durably.
type Recorder interface {
	// RecordTx writes e inside the caller's transaction: the change and its event commit
	// together or not at all.
	RecordTx(ctx context.Context, tx bun.Tx, e Event) error
	// Record writes e through the group-commit writer and returns once it is durably
	// committed (events of concurrent callers share one insert). An error means the event
	// is not stored, and the caller must not acknowledge the action it records.
	Record(ctx context.Context, e Event) error
}
