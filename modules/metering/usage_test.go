package metering_test

import (
	"net/http"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/agentidp/agentidp/modules/agents"
	"github.com/agentidp/agentidp/platform/testenv"
)

type usageBody struct {
	AgentID string `json:"agent_id"`
	Plan    string `json:"plan"`
	Months  []struct {
		Month        string `json:"month"`
		TokensIssued int64  `json:"tokens_issued"`
		Limit        *int64 `json:"limit"`
		Remaining    *int64 `json:"remaining"`
	} `json:"months"`
	Days []struct {
		Date         string `json:"date"`
		TokensIssued int64  `json:"tokens_issued"`
	} `json:"days"`
	AgentsByStatus map[string]int `json:"agents_by_status"`
}

// The usage API's shape: months newest first (the current month from the live counter),
// 30 days newest first with zeros filled, limit and remaining null on plan unlimited, the
// totals over every agent, and the usual 401/403/404.
func TestIntegrationUsageAPI(t *testing.T) {
	testenv.ForEachBackend(t, func(t *testing.T, b testenv.Backend) {
		cfg := testenv.Config(t)
		cfg.FreeTierMonthlyTokens = 100
		clk := newClock(mustTime("2026-09-10T08:00:00Z"))
		statuses := fakeStatuses{"active": 2, "suspended": 1}
		e := newEnv(t, b, envOptions{cfg: cfg, clock: clk, statuses: statuses})
		free, unl := e.Dir.add(agents.PlanFree), e.Dir.add(agents.PlanUnlimited)

		// History: September 2, October 3 (on the 31st), November 4 on the 1st, 5 on the
		// 26th, then 6 today (the 27th), not flushed: today comes from the live counter.
		consume(t, e.Meter, free, "free", 2)
		clk.set(mustTime("2026-10-31T23:00:00Z"))
		consume(t, e.Meter, free, "free", 3)
		clk.set(mustTime("2026-11-01T00:30:00Z"))
		consume(t, e.Meter, free, "free", 4)
		consume(t, e.Meter, unl, "unlimited", 7)
		clk.set(mustTime("2026-11-26T10:00:00Z"))
		consume(t, e.Meter, free, "free", 5)
		e.flush(t)
		clk.set(mustTime("2026-11-27T12:00:00Z"))
		consume(t, e.Meter, free, "free", 6)

		reader := e.Bearers.Issue(uuid.NewString(), "usage:read")
		var u usageBody
		if st := e.get(t, "/api/v1/agents/"+free+"/usage", reader, &u); st != http.StatusOK {
			t.Fatalf("status %d", st)
		}
		if u.AgentID != free || u.Plan != "free" {
			t.Fatalf("agent_id %q plan %q", u.AgentID, u.Plan)
		}
		wantMonths := []struct {
			month  string
			issued int64
		}{{"2026-11", 15}, {"2026-10", 3}, {"2026-09", 2}}
		if len(u.Months) != len(wantMonths) {
			t.Fatalf("months %+v, want %v", u.Months, wantMonths)
		}
		for i, w := range wantMonths {
			m := u.Months[i]
			if m.Month != w.month || m.TokensIssued != w.issued || m.Limit == nil || *m.Limit != 100 ||
				m.Remaining == nil || *m.Remaining != 100-w.issued {
				t.Fatalf("months[%d] = %+v, want %s %d of 100", i, m, w.month, w.issued)
			}
		}
		wantDays := map[string]int64{"2026-11-27": 6, "2026-11-26": 5, "2026-11-01": 4, "2026-10-31": 3}
		if len(u.Days) != 30 {
			t.Fatalf("%d days, want 30", len(u.Days))
		}
		day := mustTime("2026-11-27T00:00:00Z")
		for i, d := range u.Days {
			if want := day.AddDate(0, 0, -i).Format("2006-01-02"); d.Date != want {
				t.Fatalf("days[%d].date = %s, want %s (newest first, no gaps)", i, d.Date, want)
			}
			if d.TokensIssued != wantDays[d.Date] {
				t.Fatalf("days[%d] = %+v, want %d", i, d, wantDays[d.Date])
			}
		}
		if u.Days[29].Date != "2026-10-29" {
			t.Fatalf("the oldest day is %s, want 2026-10-29", u.Days[29].Date)
		}

		// Plan unlimited: limit and remaining are JSON null.
		var raw map[string]any
		if st := e.get(t, "/api/v1/agents/"+unl+"/usage", reader, &raw); st != http.StatusOK {
			t.Fatalf("status %d", st)
		}
		m0 := raw["months"].([]any)[0].(map[string]any)
		if lim, ok := m0["limit"]; !ok || lim != nil {
			t.Fatalf("unlimited: limit = %v (present %v), want null", lim, ok)
		}
		if rem, ok := m0["remaining"]; !ok || rem != nil {
			t.Fatalf("unlimited: remaining = %v (present %v), want null", rem, ok)
		}
		if m0["tokens_issued"].(float64) != 7 || raw["plan"] != "unlimited" {
			t.Fatalf("unlimited: %v", raw)
		}

		// All agents: from the store, so flush today's tokens first.
		e.flush(t)
		var o usageBody
		if st := e.get(t, "/api/v1/usage", reader, &o); st != http.StatusOK {
			t.Fatalf("overview status %d", st)
		}
		if len(o.Months) != 3 || o.Months[0].Month != "2026-11" || o.Months[0].TokensIssued != 22 ||
			o.Months[1].TokensIssued != 3 || o.Months[2].TokensIssued != 2 || o.Months[0].Limit != nil {
			t.Fatalf("overview months %+v", o.Months)
		}
		wantTotals := map[string]int64{"2026-11-27": 6, "2026-11-26": 5, "2026-11-01": 11, "2026-10-31": 3}
		if len(o.Days) != 30 {
			t.Fatalf("overview: %d days", len(o.Days))
		}
		for i, d := range o.Days {
			if want := day.AddDate(0, 0, -i).Format("2006-01-02"); d.Date != want || d.TokensIssued != wantTotals[d.Date] {
				t.Fatalf("overview days[%d] = %+v, want %s %d", i, d, want, wantTotals[want])
			}
		}
		if o.AgentsByStatus["active"] != 2 || o.AgentsByStatus["suspended"] != 1 {
			t.Fatalf("agents_by_status %v", o.AgentsByStatus)
		}
		if v, ok := o.AgentsByStatus["decommissioned"]; !ok || v != 0 {
			t.Fatalf("agents_by_status lacks decommissioned: %v", o.AgentsByStatus)
		}
	})
}

func TestIntegrationUsageAPIErrors(t *testing.T) {
	testenv.ForEachBackend(t, func(t *testing.T, b testenv.Backend) {
		e := newEnv(t, b, envOptions{})
		id := e.Dir.add(agents.PlanFree)
		reader := e.Bearers.Issue(uuid.NewString(), "usage:read")
		other := e.Bearers.Issue(uuid.NewString(), "agents:read", "audit:read")

		cases := []struct {
			name, path, bearer string
			status             int
			code               string
		}{
			{"no token", "/api/v1/agents/" + id + "/usage", "", 401, "unauthorized"},
			{"unknown token", "/api/v1/usage", "nope", 401, "invalid_token"},
			{"wrong scope", "/api/v1/agents/" + id + "/usage", other, 403, "insufficient_scope"},
			{"wrong scope overview", "/api/v1/usage", other, 403, "insufficient_scope"},
			{"unknown agent", "/api/v1/agents/" + uuid.NewString() + "/usage", reader, 404, "not_found"},
			{"not a uuid", "/api/v1/agents/not-a-uuid/usage", reader, 404, "not_found"},
			{"sql in the id", "/api/v1/agents/x'%20OR%20'1'='1/usage", reader, 404, "not_found"},
		}
		for _, tc := range cases {
			var p struct {
				Code string `json:"code"`
			}
			if st := e.get(t, tc.path, tc.bearer, &p); st != tc.status || p.Code != tc.code {
				t.Errorf("%s: %d %q, want %d %q", tc.name, st, p.Code, tc.status, tc.code)
			}
		}

		// Without a StatusCounter, agents_by_status is null; an agent with no usage has a
		// current month of 0 and 30 zero days.
		var raw map[string]any
		if st := e.get(t, "/api/v1/usage", reader, &raw); st != http.StatusOK {
			t.Fatalf("overview status %d", st)
		}
		if v, ok := raw["agents_by_status"]; !ok || v != nil {
			t.Fatalf("agents_by_status = %v (present %v), want null", v, ok)
		}
		var u usageBody
		if st := e.get(t, "/api/v1/agents/"+id+"/usage", reader, &u); st != http.StatusOK {
			t.Fatalf("status %d", st)
		}
		month := time.Now().UTC().Format("2006-01")
		if len(u.Months) != 1 || u.Months[0].Month != month || u.Months[0].TokensIssued != 0 || len(u.Days) != 30 {
			t.Fatalf("empty usage: %+v", u)
		}
	})
}

// Usage is per organization: another organization's agent answers as a missing one, and the
// totals hold only the caller's organization, unless it holds orgs:admin (then every one,
// or the one ?org_id= names).
func TestIntegrationUsageIsolation(t *testing.T) {
	testenv.ForEachBackend(t, func(t *testing.T, b testenv.Backend) {
		clk := newClock(mustTime("2026-11-27T12:00:00Z"))
		e := newEnv(t, b, envOptions{clock: clk})
		o1, o2 := uuid.NewString(), uuid.NewString()
		mine, theirs := e.Dir.add(agents.PlanFree), e.Dir.add(agents.PlanFree)
		e.Dir.mu.Lock()
		e.Dir.agents[mine].OrgID, e.Dir.agents[theirs].OrgID = o1, o2
		e.Dir.mu.Unlock()
		consume(t, e.Meter, mine, "free", 2)
		consume(t, e.Meter, theirs, "free", 5)
		e.flush(t)

		reader := e.Bearers.IssueIn(o1, uuid.NewString(), "usage:read")
		if st := e.get(t, "/api/v1/agents/"+theirs+"/usage", reader, nil); st != http.StatusNotFound {
			t.Fatalf("another org's agent: status %d, want 404", st)
		}
		if st := e.get(t, "/api/v1/agents/"+mine+"/usage", reader, nil); st != http.StatusOK {
			t.Fatalf("own agent: status %d", st)
		}
		total := func(bearer, query string) int64 {
			t.Helper()
			var o usageBody
			if st := e.get(t, "/api/v1/usage"+query, bearer, &o); st != http.StatusOK {
				t.Fatalf("overview%s: status %d", query, st)
			}
			return o.Months[0].TokensIssued
		}
		if n := total(reader, ""); n != 2 {
			t.Errorf("org one's total %d, want 2", n)
		}
		if st := e.get(t, "/api/v1/usage?org_id="+o2, reader, nil); st != http.StatusNotFound {
			t.Errorf("another org's totals: status %d, want 404", st)
		}
		operator := e.Bearers.Issue(uuid.NewString(), "usage:read", "orgs:admin")
		if n := total(operator, ""); n != 7 {
			t.Errorf("every org's total %d, want 7", n)
		}
		if n := total(operator, "?org_id="+o2); n != 5 {
			t.Errorf("org two's total %d, want 5", n)
		}
	})
}
