package checks

import (
	"encoding/json"
	"os"
	"strings"
	"testing"
)

const dashboardFile = "../grafana/agentidp.json"

// grafanaVars stand in for the dashboard's variables so that its expressions parse as PromQL.
var grafanaVars = strings.NewReplacer("$__rate_interval", "5m", "$__interval", "1m", "$job", ".*")

// wantPanelMetrics are metrics the dashboard must chart (issue 13).
var wantPanelMetrics = []string{
	"agentidp_quota_refusals_total", "agentidp_rate_limited_total", "agentidp_audit_batch_size_bucket",
	"agentidp_audit_stale_head_total", "agentidp_metering_flush_errors_total",
}

func TestGrafanaDashboard(t *testing.T) {
	b, err := os.ReadFile(dashboardFile)
	if err != nil {
		t.Fatal(err)
	}
	var dash struct {
		UID    string `json:"uid"`
		Panels []struct {
			ID      int    `json:"id"`
			Title   string `json:"title"`
			Targets []struct {
				Expr string `json:"expr"`
			} `json:"targets"`
		} `json:"panels"`
	}
	if err := json.Unmarshal(b, &dash); err != nil {
		t.Fatal(err)
	}
	if dash.UID == "" || len(dash.Panels) == 0 {
		t.Fatalf("dashboard without uid or panels")
	}
	exported := exportedMetrics(t)
	charted, ids := map[string]bool{}, map[int]bool{}
	for _, p := range dash.Panels {
		if ids[p.ID] {
			t.Errorf("panel id %d twice", p.ID)
		}
		ids[p.ID] = true
		if len(p.Targets) == 0 {
			t.Errorf("panel %q has no query", p.Title)
		}
		for _, tg := range p.Targets {
			expr := grafanaVars.Replace(tg.Expr)
			if m := unexported(t, exported, expr); len(m) > 0 {
				t.Errorf("panel %q uses %v, which the server does not export", p.Title, m)
			}
			used, _ := exprMetrics(expr)
			for _, m := range used {
				charted[m] = true
			}
		}
	}
	for _, m := range wantPanelMetrics {
		if !charted[m] {
			t.Errorf("no panel charts %s", m)
		}
	}
}
