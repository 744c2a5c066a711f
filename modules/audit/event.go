package audit

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/google/uuid"
	"github.com/uptrace/bun"

	"github.com/agentidp/agentidp/platform/audittrail"
	"github.com/agentidp/agentidp/platform/database"
	"github.com/agentidp/agentidp/platform/ident"
	"github.com/agentidp/agentidp/platform/log"
	"github.com/agentidp/agentidp/platform/reqctx"
)

// ErrInvalidEvent is returned (wrapped, naming the field) for an event that cannot be
// recorded: no action, an unknown outcome, or an actor/agent id that is not a UUID.
var ErrInvalidEvent = errors.New("audit: invalid event")

// Field limits; longer values are cut (at a rune boundary) rather than refused.
const (
	maxActionLen    = 64
	maxTargetLen    = 256
	maxUserAgentLen = 512
	maxShortLen     = 128 // ip, request id
	// maxDetailsBytes bounds the encoded details: room for org.updated, which holds an
	// organization's metadata (up to 8 KiB) before and after the change, even where the
	// scrubbing makes some strings longer.
	maxDetailsBytes = 64 << 10
)

// eventRow is one row of audit_events.
type eventRow struct {
	bun.BaseModel `bun:"table:audit_events"`

	Seq        int64     `bun:"seq,pk"`
	EventID    string    `bun:"event_id"`
	OccurredAt time.Time `bun:"occurred_at"`
	ActorID    string    `bun:"actor_id,nullzero"`
	AgentID    string    `bun:"agent_id,nullzero"`
	OrgID      string    `bun:"org_id,nullzero"` // NULL on rows written before organizations
	// OrgSeq is the row's number within its organization (1, 2, 3, …; chain.go): NULL (0)
	// on rows of hash versions 1 and 2.
	OrgSeq     int64  `bun:"org_seq,nullzero"`
	Action     string `bun:"action"`
	TargetType string `bun:"target_type"`
	TargetID   string `bun:"target_id"`
	Outcome    string `bun:"outcome"`
	IP         string `bun:"ip"`
	UserAgent  string `bun:"user_agent"`
	RequestID  string `bun:"request_id"`
	Details    string `bun:"details"` // canonical JSON object text, stored verbatim
	PrevHash   string `bun:"prev_hash"`
	Hash       string `bun:"hash"`
	// HashVersion is the canonical encoding the hash covers (hash.go): 1 for rows written
	// before organizations, hashVersion for new ones.
	HashVersion int `bun:"hash_version"`
}

// newRow validates e, fills what it leaves empty from ctx (actor, IP, user agent, request
// id), defaults, canonicalises and scrubs it: the details (scrubDetails) and the user
// agent, which is whatever the client sent and may hold a secret or a token as well. Seq,
// PrevHash and Hash are set by the chain; an empty OrgID by the recorder (fillOrg).
func newRow(ctx context.Context, e audittrail.Event, now time.Time) (*eventRow, error) {
	info := reqctx.InfoFrom(ctx)
	r := &eventRow{
		Action:     clean(e.Action, maxActionLen),
		TargetType: clean(e.TargetType, maxTargetLen),
		TargetID:   clean(e.TargetID, maxTargetLen),
		Outcome:    e.Outcome,
		IP:         clean(or(e.IP, info.ClientIP), maxShortLen),
		UserAgent:  clean(log.Scrub(or(e.UserAgent, info.UserAgent)), maxUserAgentLen), // scrubbed whole, then cut
		RequestID:  clean(or(e.RequestID, info.RequestID), maxShortLen),
		OccurredAt: e.OccurredAt,
		// Every new row is hashed with the current encoding.
		HashVersion: hashVersion,
	}
	if r.Action == "" {
		return nil, fmt.Errorf("%w: action is required", ErrInvalidEvent)
	}
	switch r.Outcome {
	case "":
		r.Outcome = audittrail.Success
	case audittrail.Success, audittrail.Failure:
	default:
		return nil, fmt.Errorf("%w: outcome must be %q or %q", ErrInvalidEvent, audittrail.Success, audittrail.Failure)
	}
	var err error
	if r.ActorID, err = optionalUUID("actor_id", or(e.ActorID, reqctx.ActorID(ctx))); err != nil {
		return nil, err
	}
	if r.AgentID, err = optionalUUID("agent_id", e.AgentID); err != nil {
		return nil, err
	}
	if r.OrgID, err = optionalUUID("org_id", e.OrgID); err != nil {
		return nil, err
	}
	if r.OccurredAt.IsZero() {
		r.OccurredAt = now
	}
	r.OccurredAt = database.Time(r.OccurredAt)
	if r.Details, err = encodeDetails(e.Details, actorChain(ctx, r.ActorID)); err != nil {
		return nil, err
	}
	id, err := uuid.NewV7()
	if err != nil {
		return nil, err
	}
	r.EventID = id.String()
	return r, nil
}

// detailActorChain is the detail naming a delegated caller's chain (audittrail.Event).
const detailActorChain = "actor_chain"

// actorChain is the delegation chain of the request's caller (SPEC §13: subject first, the
// holder last) when the event's actor is that caller (the subject of its delegated token),
// else nil.
func actorChain(ctx context.Context, actorID string) []string {
	p := reqctx.PrincipalFrom(ctx)
	if p == nil || len(p.Chain) == 0 || actorID == "" {
		return nil
	}
	if id, ok := ident.Canonical(p.AgentID); !ok || id != actorID {
		return nil
	}
	return p.Chain
}

// encodeDetails scrubs d, adds chain (when not nil) as actor_chain, and encodes it as a
// JSON object (keys sorted, so the text is canonical); nothing is "{}". The chain holds
// agent ids only and is added after the scrubbing, in place of any actor_chain of d.
func encodeDetails(d map[string]any, chain []string) (string, error) {
	if len(d) == 0 && chain == nil {
		return "{}", nil
	}
	tree, err := scrubDetails(d)
	if err != nil {
		return "", fmt.Errorf("%w: details are not JSON-encodable", ErrInvalidEvent)
	}
	if chain != nil {
		tree[detailActorChain] = chain
	}
	// Without HTML escaping (<, > and & as themselves): the text stays as long as what was
	// given, and is stored and hashed as it is.
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(tree); err != nil {
		return "", fmt.Errorf("%w: details are not JSON-encodable", ErrInvalidEvent)
	}
	b := bytes.TrimSuffix(buf.Bytes(), []byte("\n"))
	if len(b) > maxDetailsBytes {
		return "", fmt.Errorf("%w: details exceed %d bytes", ErrInvalidEvent, maxDetailsBytes)
	}
	return string(b), nil
}

// optionalUUID canonicalises a UUID (lower case, hyphenated, as PostgreSQL prints it, so the
// hash recomputes) or refuses a value that is not one; "" stays "" (NULL).
func optionalUUID(field, s string) (string, error) {
	if s == "" {
		return "", nil
	}
	id, ok := ident.Canonical(s)
	if !ok {
		return "", fmt.Errorf("%w: %s is not a UUID", ErrInvalidEvent, field)
	}
	return id, nil
}

// clean makes s storable in a text column on both stores (valid UTF-8, no NUL) and cuts it
// to at most n bytes at a rune boundary (a copy, so that a long request header is not kept
// alive by the queued row). Scrub before cutting: a token cut in two is no longer
// recognisable as one.
func clean(s string, n int) string {
	s = strings.ToValidUTF8(s, "\uFFFD")
	s = strings.ReplaceAll(s, "\x00", "")
	if len(s) <= n {
		return s
	}
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return strings.Clone(s[:n])
}

func or(a, b string) string {
	if a != "" {
		return a
	}
	return b
}
