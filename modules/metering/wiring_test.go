package metering_test

import (
	"bytes"
	"encoding/json"
	"net/http"
	"testing"

	"github.com/google/uuid"
	"go.uber.org/fx"

	"github.com/agentidp/agentidp/modules/agents"
	"github.com/agentidp/agentidp/modules/apis"
	"github.com/agentidp/agentidp/modules/audit"
	"github.com/agentidp/agentidp/modules/metering"
	"github.com/agentidp/agentidp/modules/orgs"
	"github.com/agentidp/agentidp/platform/testenv"
)

// With the real agents and audit modules: the usage API finds agents through the
// Directory, and quota.exceeded and rate.limited events are accepted by the audit log.
func TestIntegrationWithAgentsAndAudit(t *testing.T) {
	testenv.ForEachBackend(t, func(t *testing.T, b testenv.Backend) {
		cfg := testenv.Config(t)
		cfg.FreeTierMonthlyTokens = 2
		cfg.AuthFailuresPerClientIP = 1
		cfg.AuthFailuresPerIP = 1000
		bearers := testenv.NewBearers()
		var m metering.Meter
		app := testenv.NewApp(t, cfg, b, orgs.Module, apis.Module, agents.Module, audit.Module, metering.Module,
			bearers.Option(), fx.Populate(&m))
		admin := bearers.Issue(uuid.NewString(), "agents:write", "usage:read", "audit:read")
		ctx := ctxFor(t)

		req, _ := http.NewRequestWithContext(ctx, http.MethodPost, app.URL+"/api/v1/agents",
			bytes.NewReader([]byte(`{"name":"metered"}`)))
		req.Header.Set("Authorization", "Bearer "+admin)
		req.Header.Set("Content-Type", "application/json")
		resp, err := testenv.Client.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		var created struct {
			ID   string `json:"agent_id"`
			Plan string `json:"plan"`
		}
		_ = json.NewDecoder(resp.Body).Decode(&created)
		resp.Body.Close()
		if resp.StatusCode != http.StatusCreated || created.ID == "" {
			t.Fatalf("creating an agent: %d %+v", resp.StatusCode, created)
		}

		consume(t, m, created.ID, created.Plan, 2)
		limited(t, m.ConsumeToken(ctx, created.ID, created.Plan), "quota_exceeded")
		m.RecordAuthFailure(ctx, created.ID, "192.0.2.1")
		limited(t, m.CheckAuthFailures(ctx, created.ID, "192.0.2.1"), "rate_limited")

		e := &env{App: app}
		var u usageBody
		if st := e.get(t, "/api/v1/agents/"+created.ID+"/usage", admin, &u); st != http.StatusOK {
			t.Fatalf("usage: %d", st)
		}
		if u.Plan != "free" || len(u.Months) == 0 || u.Months[0].TokensIssued != 2 ||
			u.Months[0].Remaining == nil || *u.Months[0].Remaining != 0 {
			t.Fatalf("usage: %+v", u)
		}
		if st := e.get(t, "/api/v1/agents/"+uuid.NewString()+"/usage", admin, nil); st != http.StatusNotFound {
			t.Fatalf("unknown agent: %d", st)
		}

		for _, action := range []string{metering.ActionQuotaExceeded, metering.ActionRateLimited} {
			var page struct {
				Items []struct {
					AgentID string         `json:"agent_id"`
					Outcome string         `json:"outcome"`
					Details map[string]any `json:"details"`
				} `json:"items"`
			}
			if st := e.get(t, "/api/v1/audit?action="+action+"&agent_id="+created.ID, admin, &page); st != http.StatusOK {
				t.Fatalf("audit query: %d", st)
			}
			if len(page.Items) != 1 || page.Items[0].Outcome != "failure" {
				t.Fatalf("%s events: %+v, want one failure", action, page.Items)
			}
		}
	})
}
