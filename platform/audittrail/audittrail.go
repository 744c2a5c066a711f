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
)

// Event is one audit event to record. ActorID, IP, UserAgent and RequestID are taken from
// the context (platform/reqctx) when left empty; OccurredAt defaults to now; Outcome to
// Success. Details must never hold a secret or a token.
type Event struct {
	Action     string // e.g. "agent.created", "token.issued"
	AgentID    string // the agent the event concerns ("" for none)
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
