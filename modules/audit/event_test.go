package audit

import (
	"context"
	"encoding/json"
	"errors"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/agentidp/agentidp/platform/audittrail"
	"github.com/agentidp/agentidp/platform/reqctx"
)

func TestNewRowDefaultsAndCanonicalForm(t *testing.T) {
	now := time.Date(2026, 11, 28, 10, 0, 0, 123456789, time.FixedZone("X", 3600))
	r, err := newRow(context.Background(), audittrail.Event{Action: "agent.created",
		AgentID: "0191F0A4-1C2D-7E3F-8A4B-5C6D7E8F9A0B", UserAgent: strings.Repeat("é", 400) + "\x00"}, now)
	if err != nil {
		t.Fatal(err)
	}
	if r.Outcome != audittrail.Success || r.AgentID != "0191f0a4-1c2d-7e3f-8a4b-5c6d7e8f9a0b" || r.ActorID != "" ||
		r.Details != "{}" || !r.OccurredAt.Equal(now.Truncate(time.Microsecond)) || r.OccurredAt.Location() != time.UTC {
		t.Fatalf("row: %+v", r)
	}
	if len(r.UserAgent) > maxUserAgentLen || !strings.HasSuffix(r.UserAgent, "é") || strings.Contains(r.UserAgent, "\x00") {
		t.Fatalf("user agent not cut at a rune boundary: %q", r.UserAgent[len(r.UserAgent)-4:])
	}
	if len(r.EventID) != 36 {
		t.Fatalf("event id %q", r.EventID)
	}
}

// The user agent is scrubbed as the details are, whole and then cut: a token that crosses
// the 512-byte cut is redacted, not left as a piece.
func TestNewRowScrubsUserAgent(t *testing.T) {
	secret := "sk_live_" + strings.Repeat("s", 43)
	jwt := "eyJhbGciOiJFUzI1NiJ9." + strings.Repeat("eyJzdWIiOiJ4In0", 40) + ".c2lnbmF0dXJl"
	for _, ua := range []string{"agent/1 " + secret + " " + jwt, strings.Repeat("x", 480) + " " + jwt} {
		r, err := newRow(context.Background(), audittrail.Event{Action: "x", UserAgent: ua}, time.Now())
		if err != nil {
			t.Fatal(err)
		}
		if strings.Contains(r.UserAgent, "sk_live_") || strings.Contains(r.UserAgent, "eyJ") || !strings.Contains(r.UserAgent, "[REDACTED]") {
			t.Fatalf("user agent %q", r.UserAgent)
		}
	}
}

func TestNewRowRefusesWithoutEchoingValues(t *testing.T) {
	secret := "sk_live_" + strings.Repeat("x", 43)
	_, err := newRow(context.Background(), audittrail.Event{Action: "x", AgentID: secret}, time.Now())
	if !errors.Is(err, ErrInvalidEvent) || strings.Contains(err.Error(), secret) {
		t.Fatalf("got %v", err)
	}
	_, err = newRow(context.Background(), audittrail.Event{Action: "x",
		Details: map[string]any{"big": strings.Repeat("a", maxDetailsBytes)}}, time.Now())
	if !errors.Is(err, ErrInvalidEvent) {
		t.Fatalf("oversized details: %v", err)
	}
}

// An event whose actor is a delegated token's caller names the token's whole chain in
// details.actor_chain (taking the place of any the caller set); an event of a plain
// token's caller, or of another actor, names none.
func TestActorChain(t *testing.T) {
	const a, b, c = "0191f0a4-1c2d-7e3f-8a4b-5c6d7e8f9a01", "0191f0a4-1c2d-7e3f-8a4b-5c6d7e8f9a02", "0191f0a4-1c2d-7e3f-8a4b-5c6d7e8f9a03"
	delegated := reqctx.WithPrincipal(context.Background(), &reqctx.Principal{AgentID: a, ClientID: c, Delegated: true, Chain: []string{a, b, c}})
	plain := reqctx.WithPrincipal(context.Background(), &reqctx.Principal{AgentID: a, ClientID: a})
	for name, tc := range map[string]struct {
		ctx     context.Context
		e       audittrail.Event
		details string
	}{
		"delegated":              {delegated, audittrail.Event{Action: "x"}, `{"actor_chain":["` + a + `","` + b + `","` + c + `"]}`},
		"delegated, with others": {delegated, audittrail.Event{Action: "x", ActorID: a, Details: map[string]any{"via": "bearer", "actor_chain": "forged"}}, `{"actor_chain":["` + a + `","` + b + `","` + c + `"],"via":"bearer"}`},
		"another actor":          {delegated, audittrail.Event{Action: "x", ActorID: b}, `{}`},
		"plain":                  {plain, audittrail.Event{Action: "x", Details: map[string]any{"via": "bearer"}}, `{"via":"bearer"}`},
		"no caller":              {context.Background(), audittrail.Event{Action: "x"}, `{}`},
	} {
		r, err := newRow(tc.ctx, tc.e, time.Now())
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if r.Details != tc.details {
			t.Errorf("%s: details %s, want %s", name, r.Details, tc.details)
		}
	}
}

func TestScrubDetails(t *testing.T) {
	type inner struct {
		Password string `json:"password"`
		Note     string `json:"note"`
	}
	jwt := "eyJhbGciOiJFUzI1NiJ9.eyJzdWIiOiJ4In0.c2lnbmF0dXJl"
	got, err := encodeDetails(map[string]any{
		"access_token":  jwt,
		"tokens_issued": 12,
		"struct":        inner{Password: "hunter2", Note: "sk_live_abcdefghijklmnop"},
		"list":          []string{"ok", "Bearer abcdefghijklmnop"},
		"big":           uint64(12345678901234567890),
		"fine":          "agent renamed",
	}, nil)
	if err != nil {
		t.Fatal(err)
	}
	for _, leak := range []string{"eyJ", "hunter2", "sk_live_", "abcdefghijklmnop"} {
		if strings.Contains(got, leak) {
			t.Fatalf("%q survives: %s", leak, got)
		}
	}
	for _, keep := range []string{`"tokens_issued":12`, `"big":12345678901234567890`, `"fine":"agent renamed"`, `"ok"`} {
		if !strings.Contains(got, keep) {
			t.Fatalf("%s lost: %s", keep, got)
		}
	}
}

// The fast path for flat details encodes exactly as the encode-decode round trip does, so
// the stored text (and the hash over it) does not depend on which path ran.
func TestScrubFlatMatchesScrubTree(t *testing.T) {
	for _, d := range []map[string]any{
		{"scope": "agents:read audit:read", "aud": "https://api.example/<x>&y", "exp": int64(1_800_000_000),
			"kid": "k1", "credential_id": "0191f0a4-1c2d-7e3f-8a4b-5c6d7e8f9a0b"},
		{"reason": "invalid_client", "client_id_malformed": true, "n": 0, "big": uint64(1 << 63)},
		{"client_secret": "sk_live_abcdefghijklmnopqrstuvwxyz0123456789ABCDEFG", "note": "Bearer abcdefghijklmnop",
			"unicode": "é✓ \u2028 \"quoted\""},
	} {
		flat, ok := scrubFlat(d)
		if !ok {
			t.Fatalf("flat details %v not taken by the fast path", d)
		}
		tree, err := scrubTree(d)
		if err != nil {
			t.Fatal(err)
		}
		a, _ := json.Marshal(flat)
		b, _ := json.Marshal(tree)
		if string(a) != string(b) {
			t.Fatalf("fast path %s\nround trip %s", a, b)
		}
	}
	for _, d := range []map[string]any{
		{"f": 1.5}, {"l": []string{"a"}}, {"m": map[string]any{}}, {"bad": "\xff"},
	} {
		if _, ok := scrubFlat(d); ok {
			t.Fatalf("details %v taken by the fast path", d)
		}
	}
}

func TestCursorRoundTrip(t *testing.T) {
	p := position{At: time.Date(2026, 11, 28, 1, 2, 3, 456789000, time.UTC), Seq: 77}
	got, err := decodeCursor(encodeCursor(p))
	if err != nil || !got.At.Equal(p.At) || got.Seq != p.Seq {
		t.Fatalf("%+v %v", got, err)
	}
	for _, bad := range []string{"", "!!", "MTIz", encodeCursor(position{At: p.At, Seq: 0})} {
		if _, err := decodeCursor(bad); err == nil {
			t.Errorf("%q decoded", bad)
		}
	}
}

func TestParseListDefaults(t *testing.T) {
	q, err := parseList(url.Values{})
	if err != nil || q.Limit != defaultLimit || q.After != nil || q.From != nil {
		t.Fatalf("%+v %v", q, err)
	}
	q, err = parseList(url.Values{"from": {"2026-11-28T10:00:00+02:00"}, "limit": {"200"}})
	if err != nil || q.Limit != 200 || !q.From.Equal(time.Date(2026, 11, 28, 8, 0, 0, 0, time.UTC)) {
		t.Fatalf("%+v %v", q, err)
	}
}
