// Package audit is the audit bounded context: the append-only, hash-chained audit_events
// table, the writers behind platform/audittrail.Recorder (in-transaction and group commit),
// the query and export API, and chain verification. Other modules write events only through
// audittrail.Recorder; this file is what else they (and the CLI) may use.
package audit

import (
	"context"
	"encoding/json"
	"time"
)

// Report is the result of walking the hash chain.
type Report struct {
	OK bool `json:"ok"`
	// Checked counts the rows read, the first bad one included.
	Checked int64 `json:"checked"`
	// FirstBadEventID names the first row that is altered, follows a deleted row, or is out
	// of order; empty when OK.
	FirstBadEventID string `json:"first_bad_event_id"`
	// FirstBadSeq is that row's chain position; 0 when OK.
	FirstBadSeq int64 `json:"first_bad_seq,omitempty"`
	// Reason starts with "altered", "deleted" or "reordered", then says what was found.
	Reason string `json:"reason"`
	// HeadSeq and HeadHash are the last row checked (the chain's head when OK): keep them
	// outside the database to detect later truncation of the tail.
	HeadSeq  int64  `json:"head_seq"`
	HeadHash string `json:"head_hash"`
}

// ChainVerifier walks the chain from the first row.
type ChainVerifier interface {
	VerifyChain(ctx context.Context) (Report, error)
}

// Event is an audit event as the API shows it (GET /api/v1/audit, the NDJSON export).
type Event struct {
	EventID    string    `json:"event_id"`
	Seq        int64     `json:"seq"`
	OccurredAt time.Time `json:"occurred_at"`
	ActorID    *string   `json:"actor_id"`
	AgentID    *string   `json:"agent_id"`
	// OrgID is the organization the event belongs to: the org of the agent it concerns,
	// else the actor's. Null on events written before organizations (they are root's).
	OrgID      *string         `json:"org_id"`
	Action     string          `json:"action"`
	TargetType string          `json:"target_type"`
	TargetID   string          `json:"target_id"`
	Outcome    string          `json:"outcome"`
	IP         string          `json:"ip"`
	UserAgent  string          `json:"user_agent"`
	RequestID  string          `json:"request_id"`
	Details    json.RawMessage `json:"details"`
	// PrevHash is the previous event's hash (64 zeros for seq 1), and HashVersion the
	// canonical encoding Hash covers (README, "Hash chain"): with them a verifier
	// recomputes Hash, and so the Merkle leaf, from the event alone.
	PrevHash    string `json:"prev_hash"`
	HashVersion int    `json:"hash_version"`
	Hash        string `json:"hash"`
}

// Proofs answers what the CLI asks of the store directly: checkpoints, the verifier key and
// consistency proofs (the same answers as the routes, for an operator on the server host).
type Proofs interface {
	// Checkpoint is the latest signed checkpoint (size 0) or the one of size leaves.
	Checkpoint(ctx context.Context, size int64) (string, error)
	// VerifierKey is the audit key's note verifier key.
	VerifierKey() (string, error)
	// Consistency proves that the tree of from leaves is a prefix of the tree of to.
	Consistency(ctx context.Context, from, to int64) ([][]byte, error)
	// SignCheckpoint signs a checkpoint now if the log grew since the last one, and
	// returns the latest.
	SignCheckpoint(ctx context.Context) (string, error)
	// ExportAfter calls emit with the events after afterSeq in seq order, a page at a time.
	ExportAfter(ctx context.Context, afterSeq int64, emit func([]Event) error) error
}
