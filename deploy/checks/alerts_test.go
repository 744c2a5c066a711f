package checks

import (
	"log/slog"
	"slices"
	"testing"

	"github.com/prometheus/common/model"
	"github.com/prometheus/prometheus/model/rulefmt"
	promparser "github.com/prometheus/prometheus/promql/parser"
)

const alertsFile = "../prometheus/alerts.yaml"

// wantAlerts are the conditions the rules must cover (issue 13), by alert name.
var wantAlerts = []string{
	"AgentIdPDown", "AgentIdPTokenEndpoint5xx", "AgentIdPServiceUnavailable", "AgentIdPNotReady",
	"AgentIdPCacheErrors", "AgentIdPMeteringCacheErrors", "AgentIdPQuotaRefusalsSpike",
	"AgentIdPRateLimitSpike", "AgentIdPAuditQueueBacklog", "AgentIdPAuditWriteSlow",
	"AgentIdPAuditStaleHeads", "AgentIdPAuditCheckpointPublishFailing", "AgentIdPMeteringFlushErrors",
}

func TestAlertRules(t *testing.T) {
	groups, errs := rulefmt.ParseFile(alertsFile, false, model.UTF8Validation,
		promparser.NewParser(promparser.Options{}), slog.New(slog.DiscardHandler))
	for _, err := range errs {
		t.Error(err)
	}
	if len(errs) > 0 {
		t.FailNow()
	}
	exported := exportedMetrics(t)
	var names []string
	for _, g := range groups.Groups {
		for _, r := range g.Rules {
			if r.Alert == "" {
				t.Errorf("group %s: recording rule %s: only alerts belong here", g.Name, r.Record)
				continue
			}
			names = append(names, r.Alert)
			if r.Labels["severity"] == "" || r.Annotations["summary"] == "" {
				t.Errorf("%s: wants a severity label and a summary annotation", r.Alert)
			}
			if m := unexported(t, exported, r.Expr); len(m) > 0 {
				t.Errorf("%s uses %v, which the server does not export", r.Alert, m)
			}
		}
	}
	for _, w := range wantAlerts {
		if !slices.Contains(names, w) {
			t.Errorf("no alert %s", w)
		}
	}
}
