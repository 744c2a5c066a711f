package audit_test

import (
	"bufio"
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/uptrace/bun"

	"github.com/agentidp/agentidp/modules/audit"
	"github.com/agentidp/agentidp/platform/audittrail"
	"github.com/agentidp/agentidp/platform/httpserver"
	"github.com/agentidp/agentidp/platform/testenv"
)

type page struct {
	Items      []map[string]any `json:"items"`
	NextCursor *string          `json:"next_cursor"`
}

var t0 = time.Date(2026, 11, 1, 12, 0, 0, 0, time.UTC)

// seed writes, in one transaction: 5 token.issued (agent A, success), 3 token.denied (agent
// A, failure), 4 agent.created (agent B), one a minute apart from t0, in that order.
func seed(t *testing.T, e *env) {
	t.Helper()
	var evs []audittrail.Event
	add := func(n int, ev audittrail.Event) {
		for range n {
			ev.OccurredAt = t0.Add(time.Duration(len(evs)) * time.Minute)
			evs = append(evs, ev)
		}
	}
	add(5, audittrail.Event{Action: "token.issued", AgentID: agentA, TargetType: audittrail.TargetToken, TargetID: "jti"})
	add(3, audittrail.Event{Action: "token.denied", AgentID: agentA, Outcome: audittrail.Failure})
	add(4, audittrail.Event{Action: "agent.created", AgentID: agentB, ActorID: agentA, Details: map[string]any{"name": "b"}})
	err := e.b.DB.RunInTx(ctxT(t), nil, func(ctx context.Context, tx bun.Tx) error {
		for _, ev := range evs {
			if err := e.rec.RecordTx(ctx, tx, ev); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

// The list and the export want audit:read; verifying the whole chain, which reads every
// organization's events, wants orgs:admin too.
func TestIntegrationAuditRoutesNeedAuditRead(t *testing.T) {
	testenv.ForEachBackend(t, func(t *testing.T, b testenv.Backend) {
		e := newEnv(t, b)
		other := e.bearers.Issue(agentA, "agents:read", "usage:read", "orgs:admin")
		reader := e.bearers.Issue(agentA, "audit:read")
		admin := e.bearers.Issue(agentA, "audit:read", "orgs:admin")
		for _, path := range []string{"/api/v1/audit", "/api/v1/audit/export", "/api/v1/audit/verify"} {
			resp, _ := get(t, e, path, "")
			if resp.StatusCode != http.StatusUnauthorized || !strings.HasPrefix(resp.Header.Get("WWW-Authenticate"), "Bearer") {
				t.Errorf("%s without bearer: %d %q", path, resp.StatusCode, resp.Header.Get("WWW-Authenticate"))
			}
			if resp, _ := get(t, e, path, other); resp.StatusCode != http.StatusForbidden {
				t.Errorf("%s without audit:read: %d", path, resp.StatusCode)
			}
			want := http.StatusOK
			if path == "/api/v1/audit/verify" {
				want = http.StatusForbidden
			}
			if resp, _ := get(t, e, path, reader); resp.StatusCode != want {
				t.Errorf("%s with audit:read: %d, want %d", path, resp.StatusCode, want)
			}
			if resp, _ := get(t, e, path, admin); resp.StatusCode != http.StatusOK {
				t.Errorf("%s with audit:read and orgs:admin: %d", path, resp.StatusCode)
			}
		}
		resp, body := get(t, e, "/api/v1/audit/verify", reader)
		if !strings.Contains(resp.Header.Get("WWW-Authenticate"), `scope="orgs:admin"`) || !strings.Contains(string(body), "orgs:admin") {
			t.Errorf("verify without orgs:admin: %q %s", resp.Header.Get("WWW-Authenticate"), body)
		}
	})
}

func TestIntegrationListFilters(t *testing.T) {
	testenv.ForEachBackend(t, func(t *testing.T, b testenv.Backend) {
		e := newEnv(t, b)
		seed(t, e)
		tok := e.bearers.Issue(agentA, "audit:read")
		at := func(min int) string {
			return url.QueryEscape(t0.Add(time.Duration(min) * time.Minute).Format(time.RFC3339))
		}
		for query, want := range map[string]int{
			"":                                    12,
			"agent_id=" + agentA:                  8,
			"agent_id=" + strings.ToUpper(agentB): 4,
			"action=token.denied":                 3,
			"outcome=failure":                     3,
			"outcome=success&agent_id=" + agentA:  5,
			"from=" + at(5):                       7, // inclusive
			"to=" + at(5):                         5, // exclusive
			"from=" + at(2) + "&to=" + at(9):      7,
			"from=" + url.QueryEscape("2026-11-01T13:02:30+01:00"):         9, // 12:02:30Z
			"action=" + url.QueryEscape("' OR 1=1 --"):                     0,
			"action=" + url.QueryEscape(`x"; DROP TABLE audit_events; --`): 0,
		} {
			resp, body := get(t, e, "/api/v1/audit?limit=200&"+query, tok)
			if resp.StatusCode != http.StatusOK {
				t.Fatalf("%q: %d %s", query, resp.StatusCode, body)
			}
			if p := decode[page](t, body); len(p.Items) != want || p.NextCursor != nil {
				t.Errorf("%q: %d items (next %v), want %d", query, len(p.Items), p.NextCursor, want)
			}
		}
		if n := count(t, b.DB); n != 12 {
			t.Fatalf("table has %d rows after the injection attempts", n)
		}
		// Shape of one event, newest first.
		_, body := get(t, e, "/api/v1/audit?limit=1", tok)
		ev := decode[page](t, body).Items[0]
		for _, k := range []string{"event_id", "occurred_at", "actor_id", "agent_id", "action", "target_type",
			"target_id", "outcome", "ip", "user_agent", "request_id", "details", "seq", "hash"} {
			if _, ok := ev[k]; !ok {
				t.Errorf("event lacks %q: %v", k, ev)
			}
		}
		if ev["action"] != "agent.created" || ev["agent_id"] != agentB || ev["actor_id"] != agentA ||
			ev["occurred_at"] != t0.Add(11*time.Minute).Format(time.RFC3339) || ev["details"].(map[string]any)["name"] != "b" {
			t.Fatalf("newest event: %v", ev)
		}
		_, body = get(t, e, "/api/v1/audit?limit=1&action=token.issued", tok)
		if ev := decode[page](t, body).Items[0]; ev["actor_id"] != nil || ev["target_id"] != "jti" {
			t.Fatalf("actor_id must be null without an actor: %v", ev)
		}
	})
}

func TestIntegrationListRejectsBadFilters(t *testing.T) {
	testenv.ForEachBackend(t, func(t *testing.T, b testenv.Backend) {
		e := newEnv(t, b)
		seed(t, e)
		tok := e.bearers.Issue(agentA, "audit:read")
		for query, field := range map[string]string{
			"agent_id=not-a-uuid":                         "agent_id",
			"agent_id=" + url.QueryEscape("1' OR '1'='1"): "agent_id",
			"outcome=maybe":                               "outcome",
			"from=yesterday":                              "from",
			"to=2026-11-01":                               "to",
			"from=2026-11-02T00:00:00Z&to=2026-11-01T00:00:00Z": "to",
			"limit=0":                               "limit",
			"limit=201":                             "limit",
			"limit=ten":                             "limit",
			"cursor=%21%21%21":                      "cursor",
			"cursor=" + b64("12.x"):                 "cursor",
			"cursor=" + b64("999999999999999999.1"): "cursor",
			"action=" + strings.Repeat("a", 65):     "action",
			"action=a%00b":                          "action",
			"agent=" + agentA:                       "agent",
			"outcome=success&outcome=failure":       "outcome",
		} {
			resp, body := get(t, e, "/api/v1/audit?"+query, tok)
			p := decode[httpserver.Problem](t, body)
			if resp.StatusCode != http.StatusBadRequest || p.Code != "validation_failed" || len(p.Errors) == 0 || p.Errors[0].Field != field {
				t.Errorf("%q: %d %s, want 400 naming %s", query, resp.StatusCode, body, field)
			}
		}
		resp, body := get(t, e, "/api/v1/audit/export?limit=5", tok)
		if resp.StatusCode != http.StatusBadRequest || !strings.Contains(string(body), `"field":"limit"`) {
			t.Errorf("export with limit: %d %s", resp.StatusCode, body)
		}
	})
}

// Pages follow each other without duplicates or gaps, newest first, including events that
// share one occurred_at (the seq breaks the tie), and events added meanwhile do not shift
// the pages already handed out.
func TestIntegrationListPagination(t *testing.T) {
	testenv.ForEachBackend(t, func(t *testing.T, b testenv.Backend) {
		e := newEnv(t, b)
		seed(t, e)
		same := t0.Add(3 * time.Minute) // the 4th seeded event's time, shared by 11 more
		for range 11 {
			recordN(t, e, 1, audittrail.Event{Action: "agent.updated", AgentID: agentA, OccurredAt: same})
		}
		tok := e.bearers.Issue(agentA, "audit:read")
		var all []map[string]any
		path := "/api/v1/audit?limit=5"
		for pages := 0; ; pages++ {
			resp, body := get(t, e, path, tok)
			if resp.StatusCode != http.StatusOK || pages > 10 {
				t.Fatalf("page %d: %d %s", pages, resp.StatusCode, body)
			}
			p := decode[page](t, body)
			all = append(all, p.Items...)
			if p.NextCursor == nil {
				if len(p.Items) != 3 {
					t.Fatalf("last page has %d items", len(p.Items))
				}
				break
			}
			if len(p.Items) != 5 {
				t.Fatalf("page %d has %d items", pages, len(p.Items))
			}
			if pages == 1 { // a new event meanwhile: newest, so not in the later pages
				recordN(t, e, 1, audittrail.Event{Action: "agent.updated", AgentID: agentA})
			}
			path = "/api/v1/audit?limit=5&cursor=" + *p.NextCursor
		}
		if len(all) != 23 {
			t.Fatalf("%d events over the pages, want 23", len(all))
		}
		seen := map[string]bool{}
		for i, ev := range all {
			id := ev["event_id"].(string)
			if seen[id] {
				t.Fatalf("event %s twice", id)
			}
			seen[id] = true
			if i > 0 {
				prev, cur := all[i-1], ev
				pt, _ := time.Parse(time.RFC3339Nano, prev["occurred_at"].(string))
				ct, _ := time.Parse(time.RFC3339Nano, cur["occurred_at"].(string))
				if ct.After(pt) || (ct.Equal(pt) && cur["seq"].(float64) >= prev["seq"].(float64)) {
					t.Fatalf("not newest first at %d: %v then %v", i, prev, cur)
				}
			}
		}
	})
}

// The export streams every matching event as one JSON line, across its internal pages.
func TestIntegrationExportNDJSON(t *testing.T) {
	testenv.ForEachBackend(t, func(t *testing.T, b testenv.Backend) {
		e := newEnv(t, b)
		seed(t, e)
		err := b.DB.RunInTx(ctxT(t), nil, func(ctx context.Context, tx bun.Tx) error {
			for i := range 1100 {
				if err := e.rec.RecordTx(ctx, tx, audittrail.Event{Action: "token.introspected", AgentID: agentB,
					Details: map[string]any{"i": i}}); err != nil {
					return err
				}
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
		tok := e.bearers.Issue(agentA, "audit:read")
		for query, want := range map[string]int{
			"":                           1112,
			"?action=token.introspected": 1100,
			"?agent_id=" + agentA:        8,
			"?agent_id=" + agentA + "&outcome=failure": 3,
			"?action=nothing":                          0,
		} {
			resp, body := get(t, e, "/api/v1/audit/export"+query, tok)
			if resp.StatusCode != http.StatusOK || resp.Header.Get("Content-Type") != "application/x-ndjson" {
				t.Fatalf("%q: %d %q", query, resp.StatusCode, resp.Header.Get("Content-Type"))
			}
			lines, ids := 0, map[string]bool{}
			sc := bufio.NewScanner(bytes.NewReader(body))
			for sc.Scan() {
				var ev audit.Event
				if err := json.Unmarshal(sc.Bytes(), &ev); err != nil || ev.EventID == "" {
					t.Fatalf("%q line %d: %v %s", query, lines, err, sc.Bytes())
				}
				ids[ev.EventID] = true
				lines++
			}
			if lines != want || len(ids) != want {
				t.Fatalf("%q: %d lines (%d distinct), want %d", query, lines, len(ids), want)
			}
		}
	})
}

func TestIntegrationVerifyRoute(t *testing.T) {
	testenv.ForEachBackend(t, func(t *testing.T, b testenv.Backend) {
		e := newEnv(t, b)
		seed(t, e)
		tok := e.bearers.Issue(agentA, "audit:read", "orgs:admin")
		_, body := get(t, e, "/api/v1/audit/verify", tok)
		if rep := decode[audit.Report](t, body); !rep.OK || rep.Checked != 12 || rep.HeadSeq != 12 {
			t.Fatalf("intact: %s", body)
		}
		tamper(t, b, "UPDATE audit_events SET agent_id = NULL WHERE seq = 8")
		resp, body := get(t, e, "/api/v1/audit/verify", tok)
		rep := decode[audit.Report](t, body)
		if resp.StatusCode != http.StatusOK || rep.OK || rep.FirstBadSeq != 8 || rep.FirstBadEventID == "" {
			t.Fatalf("tampered: %d %s", resp.StatusCode, body)
		}
	})
}

func b64(s string) string { return base64.RawURLEncoding.EncodeToString([]byte(s)) }
