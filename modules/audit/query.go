package audit

import (
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/agentidp/agentidp/platform/apperr"
	"github.com/agentidp/agentidp/platform/audittrail"
	"github.com/agentidp/agentidp/platform/cursor"
	"github.com/agentidp/agentidp/platform/httpserver"
	"github.com/agentidp/agentidp/platform/ident"
)

// List limits.
const (
	defaultLimit = 50
	maxLimit     = 200
)

// filter selects events: every set field must match; the time range is [From, To).
type filter struct {
	AgentID string
	// OrgID is the organization whose events to select ("" for every one); root's include
	// the events written before organizations (org_id NULL).
	OrgID   string
	Action  string
	Outcome string
	From    *time.Time
	To      *time.Time
}

// position is a keyset position in the newest-first order: (occurred_at, seq).
type position struct {
	At  time.Time
	Seq int64
}

// listQuery is a parsed GET /api/v1/audit.
type listQuery struct {
	filter
	Limit int
	After *position
}

// parseFilter reads the filters of q, rejecting parameters other than the filters and
// extra (those the caller parses itself); each bad field is named.
func parseFilter(q url.Values, bad *apperr.Fields, extra ...string) filter {
	var f filter
	for name, vs := range q {
		switch {
		case !isFilter(name) && !slices.Contains(extra, name):
			bad.Add(name, "unknown parameter; filters are agent_id, org_id, action, outcome, from, to")
		case len(vs) > 1:
			bad.Add(name, "give it at most once")
		}
	}
	if v := q.Get("agent_id"); v != "" {
		if id, ok := ident.Canonical(v); !ok {
			bad.Add("agent_id", "must be a UUID")
		} else {
			f.AgentID = id
		}
	}
	f.OrgID = httpserver.QueryUUID(q, bad, "org_id")
	if v := q.Get("action"); v != "" {
		if len(v) > maxActionLen || !utf8.ValidString(v) || strings.ContainsRune(v, 0) {
			bad.Add("action", "must be an action name of at most %d characters, e.g. token.issued", maxActionLen)
		} else {
			f.Action = v
		}
	}
	switch v := q.Get("outcome"); v {
	case "", audittrail.Success, audittrail.Failure:
		f.Outcome = v
	default:
		bad.Add("outcome", "must be %q or %q", audittrail.Success, audittrail.Failure)
	}
	f.From = parseTime(q, "from", bad)
	f.To = parseTime(q, "to", bad)
	if f.From != nil && f.To != nil && !f.From.Before(*f.To) {
		bad.Add("to", "must be after from (the range is from inclusive, to exclusive)")
	}
	return f
}

func parseTime(q url.Values, name string, bad *apperr.Fields) *time.Time {
	v := q.Get(name)
	if v == "" {
		return nil
	}
	t, err := time.Parse(time.RFC3339Nano, v)
	if err != nil {
		bad.Add(name, "must be an RFC 3339 time, e.g. 2026-11-28T10:00:00Z")
		return nil
	}
	t = t.UTC()
	if t.Year() < 1 || t.Year() > 9999 {
		bad.Add(name, "must lie between the years 0001 and 9999")
		return nil
	}
	return &t
}

// parseList reads a GET /api/v1/audit query: the filters, limit and cursor.
func parseList(q url.Values) (listQuery, error) {
	var bad apperr.Fields
	lq := listQuery{filter: parseFilter(q, &bad, "limit", "cursor"), Limit: defaultLimit}
	lq.Limit = httpserver.QueryLimit(q, &bad, defaultLimit, maxLimit)
	if v := q.Get("cursor"); v != "" {
		p, err := decodeCursor(v)
		if err != nil {
			bad.Add("cursor", "is not a cursor this API returned")
		} else {
			lq.After = &p
		}
	}
	return lq, bad.Err()
}

// exportQuery is a parsed GET /api/v1/audit/export.
type exportQuery struct {
	filter
	// InSeqOrder: the events with seq > AfterSeq in the chain's order (after_seq or
	// follow given); else every match, newest first.
	InSeqOrder bool
	AfterSeq   int64
	// Follow: after the existing events, stream new ones as they commit.
	Follow bool
}

// parseExport reads a GET /api/v1/audit/export query: the filters, after_seq (≥ 0) and
// follow (true or false).
func parseExport(q url.Values) (exportQuery, error) {
	var bad apperr.Fields
	eq := exportQuery{filter: parseFilter(q, &bad, "after_seq", "follow")}
	if v, ok := q["after_seq"]; ok {
		n, err := strconv.ParseInt(v[0], 10, 64)
		if err != nil || n < 0 {
			bad.Add("after_seq", "must be a whole number of at least 0 (the last seq read)")
		}
		eq.InSeqOrder, eq.AfterSeq = true, n
	}
	switch q.Get("follow") {
	case "", "false":
	case "true":
		eq.InSeqOrder, eq.Follow = true, true
	default:
		bad.Add("follow", "must be true or false")
	}
	return eq, bad.Err()
}

// encodeCursor makes the opaque cursor after p (occurred_at and seq, platform/cursor).
func encodeCursor(p position) string { return cursor.Encode(p.At, strconv.FormatInt(p.Seq, 10)) }

func decodeCursor(s string) (position, error) {
	at, key, err := cursor.Decode(s)
	if err != nil {
		return position{}, err
	}
	n, err := strconv.ParseInt(key, 10, 64)
	if err != nil || n < 1 || at.IsZero() {
		return position{}, cursor.ErrInvalid
	}
	return position{At: at, Seq: n}, nil
}

func isFilter(name string) bool {
	switch name {
	case "agent_id", "org_id", "action", "outcome", "from", "to":
		return true
	}
	return false
}
