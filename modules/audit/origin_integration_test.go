package audit_test

import (
	"errors"
	"fmt"
	"net/http"
	"strings"
	"testing"

	"go.uber.org/fx"

	"github.com/agentidp/agentidp/modules/audit"
	"github.com/agentidp/agentidp/platform/audittrail"
	"github.com/agentidp/agentidp/platform/testenv"
)

// A restore from an older backup, simulated: after a checkpoint of 10 events, someone
// holding the database drops the events and tree nodes after 4 and appends other events
// until the tree is larger than 10. Both replicas stop signing and fail /readyz; after
// new-origin both load the new key at their next tick, sign the whole tree under
// <host>/audit/2, pass /readyz and serve the new key, and the log verifies against the new
// origin's checkpoint, audit.origin_started included.
func TestIntegrationNewOriginAfterARestore(t *testing.T) {
	testenv.ForEachBackend(t, func(t *testing.T, b testenv.Backend) {
		ctx := ctxT(t)
		var starter audit.OriginStarter
		var logs audit.LogVerifier
		a, c := checkpointEnvs(t, b, fx.Populate(&starter, &logs))
		admin := a.bearers.Issue(agentA, "audit:read", "orgs:admin")
		recordN(t, a, 10, audittrail.Event{Action: "agent.created", TargetType: "agent", TargetID: "before"})
		_, key1 := get(t, a, "/api/v1/audit/checkpoint/key", "")
		vkey1 := strings.TrimSpace(string(key1))
		latestCheckpoint(t, a, admin, vkey1, 10)
		origin1 := strings.SplitN(vkey1, "+", 2)[0]

		if _, err := starter.NewOrigin(ctx, false); !errors.Is(err, audit.ErrOriginConsistent) {
			t.Fatalf("new origin on a consistent log: %v", err)
		}

		tamper(t, b, "DELETE FROM audit_events WHERE seq > 4", "DELETE FROM audit_tree_nodes WHERE ((idx + 1) << level) > 4")
		recordN(t, c, 10, audittrail.Event{Action: "agent.deleted", TargetType: "agent", TargetID: "after"})
		for _, e := range []*env{a, c} {
			waitFor(t, "readiness to fail", func() bool {
				resp, _ := get(t, e, "/readyz", "")
				return resp.StatusCode == http.StatusServiceUnavailable
			})
		}
		if _, body := get(t, c, "/api/v1/audit/checkpoint", admin); !strings.HasPrefix(string(body), origin1+"\n10\n") {
			t.Fatalf("a checkpoint was signed after the restore: %q", body)
		}

		rep, err := starter.NewOrigin(ctx, false)
		if err != nil {
			t.Fatal(err)
		}
		origin2 := origin1 + "/2"
		if rep.PreviousOrigin != origin1 || rep.Origin != origin2 || rep.TreeSize != 14 || !strings.HasPrefix(rep.VerifierKey, origin2+"+") {
			t.Fatalf("new origin: %+v", rep)
		}
		var note string
		for _, e := range []*env{a, c} {
			waitFor(t, "the new key served", func() bool {
				_, body := get(t, e, "/api/v1/audit/checkpoint/key", "")
				return strings.TrimSpace(string(body)) == rep.VerifierKey
			})
			_, note = latestCheckpoint(t, e, admin, rep.VerifierKey, 15) // the 14 events and audit.origin_started
			waitFor(t, "readiness to pass", func() bool {
				resp, _ := get(t, e, "/readyz", "")
				return resp.StatusCode == http.StatusOK
			})
		}
		lr, err := logs.VerifyLog(ctx, []byte(note), rep.VerifierKey)
		if err != nil || !lr.OK || lr.Origin != origin2 || lr.TreeSize != 15 {
			t.Fatalf("the log against the new origin's checkpoint: %+v %v", lr, err)
		}
		last := rows(t, b.DB)[14]
		if last.Action != "audit.origin_started" || !strings.Contains(last.Details, fmt.Sprintf(`"previous_origin":%q`, origin1)) ||
			!strings.Contains(last.Details, `"tree_size":14`) {
			t.Fatalf("the last event: %+v", last)
		}
		// The old series stays stored; nothing more is signed under it.
		var old int
		if err := b.DB.NewSelect().Table("audit_checkpoints").ColumnExpr("count(*)").Where("origin = ?", origin1).
			Where("tree_size > 10").Scan(ctx, &old); err != nil || old != 0 {
			t.Fatalf("checkpoints of %s after size 10: %d %v", origin1, old, err)
		}
	})
}
