// Package audit is the audit bounded context: the append-only, hash-chained audit_events
// table, the writers behind platform/audittrail.Recorder (in-transaction and group commit),
// the query and export API, and chain verification. Other modules write events only through
// audittrail.Recorder; this file is what else they (and the CLI) may use.
package audit

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"time"

	"github.com/transparency-dev/formats/log"
	"golang.org/x/mod/sumdb/note"
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
	OrgID *string `json:"org_id"`
	// OrgSeq is the event's number within its organization (1, 2, 3, … with no gaps, from
	// the organization's first event of hash version 3), covered by its hash; null on older
	// events. An organization's export with contiguous org_seq is complete.
	OrgSeq     *int64          `json:"org_seq"`
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

// LogReport is the result of checking a log (an export, or the database's events) against a
// signed checkpoint.
type LogReport struct {
	OK bool `json:"ok"`
	// Origin and TreeSize are the checkpoint's.
	Origin   string `json:"origin"`
	TreeSize int64  `json:"tree_size"`
	// Checked counts the events read, the first bad one included.
	Checked int64 `json:"checked"`
	// FirstBadSeq is the seq of the first event that breaks the log (0 when OK or when the
	// log is short or its root differs).
	FirstBadSeq int64 `json:"first_bad_seq,omitempty"`
	// Reason says what is wrong; empty when OK.
	Reason string `json:"reason"`
}

// ParseCheckpoint opens a signed checkpoint with the note verifier key vkey
// (<name>+<hash>+<key>): its signature must verify under that key and its origin must be
// the key's name (GET /api/v1/audit/checkpoint/key serves the key).
func ParseCheckpoint(checkpoint []byte, vkey string) (*log.Checkpoint, note.Verifier, error) {
	return parseCheckpointImpl(checkpoint, vkey)
}

// VerifyExport checks an NDJSON export (GET /api/v1/audit/export?after_seq=0, every
// organization: seq ascending from 1) against a signed checkpoint and the audit verifier
// key, with no database: each event's hash is recomputed from its fields, each link checked,
// and the Merkle root of the first tree-size events compared with the checkpoint's.
//
// An export that does not start at seq 1 needs the frontier of the archive before it (fr):
// either the events after the archive, or the archive's own events (its events.ndjson).
func VerifyExport(export io.Reader, checkpoint []byte, vkey string, fr *Frontier) (LogReport, error) {
	return verifyExport(export, checkpoint, vkey, fr)
}

// OrgReport is the result of checking one organization's export (VerifyOrgExport).
type OrgReport struct {
	OK    bool   `json:"ok"`
	OrgID string `json:"org_id"`
	// Checked counts the events read, the first bad one included.
	Checked int64 `json:"checked"`
	// FirstOrgSeq and LastOrgSeq are the org_seq range of the events read (0 when none has
	// one). The numbering starts at 1 with the organization's first event of hash version
	// 3; an export after an archive starts later.
	FirstOrgSeq int64 `json:"first_org_seq"`
	LastOrgSeq  int64 `json:"last_org_seq"`
	// Unnumbered counts the events without org_seq (hash versions 1 and 2).
	Unnumbered int64 `json:"unnumbered"`
	// FirstBadSeq is the seq of the first event that breaks the export; 0 when OK.
	FirstBadSeq int64 `json:"first_bad_seq,omitempty"`
	// Reason starts with "altered", "foreign", "deleted" or "reordered or repeated"; empty
	// when OK.
	Reason string `json:"reason"`
}

// VerifyOrgExport checks one organization's NDJSON export (GET
// /api/v1/audit/export?org_id=ORG, in seq order: after_seq=0) with no database and no
// checkpoint: every event's hash recomputes from its fields, every event is the
// organization's (events of hash version 1, which have no org_id, are root's), seq
// increases, and the org_seq of its events of hash version 3 runs on with no gap and no
// repeat. It cannot see events missing after the last one (compare LastOrgSeq with a later
// export, or prove an event's inclusion in a checkpoint).
func VerifyOrgExport(export io.Reader, orgID string) (OrgReport, error) {
	return verifyOrgExport(export, orgID)
}

// LogVerifier checks the events in the database against a signed checkpoint, recomputing
// the tree from the events themselves (not from the stored nodes, which a writer of the
// database could have rewritten too).
type LogVerifier interface {
	VerifyLog(ctx context.Context, checkpoint []byte, vkey string) (LogReport, error)
}

// Frontier is what lets a log cut by an archive verify: written to the archive directory
// (frontier.json) and kept in audit_archives. The tree hashes are compact ranges, left to
// right: Before covers leaves [0, FirstSeq-1), Left [0, ThroughSeq), Right [ThroughSeq,
// TreeSize) (TreeSize: the archive's checkpoint's size).
type Frontier struct {
	Origin     string   `json:"origin"`
	FirstSeq   int64    `json:"first_seq"`
	ThroughSeq int64    `json:"through_seq"`
	PrevHash   string   `json:"prev_hash"` // the prev_hash of event FirstSeq
	LastHash   string   `json:"last_hash"` // the hash of event ThroughSeq
	TreeSize   int64    `json:"tree_size"`
	Before     [][]byte `json:"before"`
	Left       [][]byte `json:"left"`
	Right      [][]byte `json:"right"`
}

// ArchiveReport says what an archive took.
type ArchiveReport struct {
	FirstSeq   int64  `json:"first_seq"`
	ThroughSeq int64  `json:"through_seq"`
	Events     int64  `json:"events"`
	TreeSize   int64  `json:"checkpoint_tree_size"`
	Dir        string `json:"dir"`
}

// Archiver retires old events (agentidp audit archive).
type Archiver interface {
	Archive(ctx context.Context, before time.Time, dir string) (ArchiveReport, error)
}

// InclusionProof is the answer of GET /api/v1/audit/proof/inclusion (hashes base64).
type InclusionProof struct {
	LeafIndex int64    `json:"leaf_index"`
	TreeSize  int64    `json:"tree_size"`
	Hashes    [][]byte `json:"hashes"`
}

// ConsistencyProof is the answer of GET /api/v1/audit/proof/consistency (hashes base64).
type ConsistencyProof struct {
	Hashes [][]byte `json:"hashes"`
}

// ErrOriginConsistent refuses a new origin while the stored tree is consistent with the
// current origin's last checkpoint (nothing to recover from; --force overrides).
var ErrOriginConsistent = errors.New("the audit log is consistent with the last checkpoint of its origin: " +
	"a new origin is for a log found inconsistent (after a restore from an older backup); give --force to start one anyway")

// NewOriginReport says what agentidp audit new-origin did.
type NewOriginReport struct {
	PreviousOrigin string `json:"previous_origin"`
	Origin         string `json:"origin"`
	VerifierKey    string `json:"verifier_key"`
	TreeSize       int64  `json:"tree_size"`
}

// OriginStarter starts a new checkpoint origin (agentidp audit new-origin): it retires the
// current audit key and creates a new one named <issuer host>/audit/<n>, recording
// audit.origin_started, in one transaction. Without force it refuses (ErrOriginConsistent)
// when the tree is consistent with the current origin's last checkpoint. Running replicas
// sign under the new origin from their next checkpoint tick.
type OriginStarter interface {
	NewOrigin(ctx context.Context, force bool) (NewOriginReport, error)
}
