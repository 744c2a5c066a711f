package audit_test

import (
	"strings"
	"testing"

	"github.com/agentidp/agentidp/platform/audittrail"
	"github.com/agentidp/agentidp/platform/testenv"
)

// The database itself refuses UPDATE and DELETE on audit_events (and TRUNCATE on
// PostgreSQL), whoever asks.
func TestIntegrationAuditEventsAreImmutable(t *testing.T) {
	testenv.ForEachBackend(t, func(t *testing.T, b testenv.Backend) {
		e := newEnv(t, b)
		recordN(t, e, 3, audittrail.Event{Action: "agent.created", AgentID: agentA})
		before := rows(t, b.DB)
		stmts := []string{
			"UPDATE audit_events SET action = 'agent.deleted' WHERE seq = 2",
			"UPDATE audit_events SET details = '{}'",
			"DELETE FROM audit_events WHERE seq = 3",
			"DELETE FROM audit_events",
		}
		if b.Name == "postgres" {
			stmts = append(stmts, "TRUNCATE audit_events")
		}
		for _, s := range stmts {
			_, err := b.DB.ExecContext(ctxT(t), s)
			if err == nil || !strings.Contains(err.Error(), "append-only") {
				t.Errorf("%s: want refusal, got %v", s, err)
			}
		}
		after := rows(t, b.DB)
		if len(after) != len(before) {
			t.Fatalf("rows changed: %d → %d", len(before), len(after))
		}
		for i := range after {
			if after[i] != before[i] {
				t.Fatalf("row %d changed: %+v → %+v", i, before[i], after[i])
			}
		}
		mustVerify(t, e)
	})
}
