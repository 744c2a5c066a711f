package audit_test

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/agentidp/agentidp/modules/audit"
	"github.com/agentidp/agentidp/platform/audittrail"
	"github.com/agentidp/agentidp/platform/testenv"
)

// chainOf records n events, alternating RecordTx and Record, some with an explicit
// occurred_at in another zone and with nanoseconds (canonicalised before hashing).
func chainOf(t *testing.T, e *env, n int) []row {
	t.Helper()
	zone := time.FixedZone("X", 5*3600+1800)
	for i := range n {
		ev := audittrail.Event{Action: "agent.updated", AgentID: agentA, TargetType: audittrail.TargetAgent,
			TargetID: agentA, Details: map[string]any{"i": i, "name": fmt.Sprintf("n-%d", i)}}
		if i%3 == 0 {
			ev.OccurredAt = time.Date(2026, 11, 28, 10, 0, i, 123456789, zone)
		}
		if i%2 == 0 {
			recordN(t, e, 1, ev)
		} else if err := e.rec.Record(ctxT(t), ev); err != nil {
			t.Fatal(err)
		}
	}
	return rows(t, e.b.DB)
}

// verifyWith walks the chain three rows per page, so that page boundaries are crossed.
func verifyWith(t *testing.T, e *env) audit.Report {
	t.Helper()
	rep, err := audit.NewVerifier(e.b.DB, 3).VerifyChain(ctxT(t))
	if err != nil {
		t.Fatal(err)
	}
	return rep
}

func TestIntegrationVerifyIntactChain(t *testing.T) {
	testenv.ForEachBackend(t, func(t *testing.T, b testenv.Backend) {
		e := newEnv(t, b)
		if rep := mustVerify(t, e); rep.Checked != 0 || rep.HeadSeq != 0 {
			t.Fatalf("empty chain: %+v", rep)
		}
		rs := chainOf(t, e, 14)
		for i, r := range rs {
			if r.Seq != int64(i+1) || (i > 0 && r.PrevHash != rs[i-1].Hash) || len(r.Hash) != 64 {
				t.Fatalf("row %d not chained: %+v", i, r)
			}
		}
		for _, rep := range []audit.Report{mustVerify(t, e), verifyWith(t, e)} {
			if !rep.OK || rep.Checked != 14 || rep.HeadSeq != 14 || rep.HeadHash != rs[13].Hash || rep.FirstBadEventID != "" {
				t.Fatalf("report: %+v", rep)
			}
		}
	})
}

// Each kind of tampering, done as a superuser with the triggers out of the way, is found
// and the first bad row named.
func TestIntegrationVerifyDetectsTampering(t *testing.T) {
	cases := []struct {
		name    string
		tamper  func(rs []row) []string
		badSeq  int64
		reason  string
		checked int64
	}{
		{"altered action", func([]row) []string {
			return []string{"UPDATE audit_events SET action = 'agent.created' WHERE seq = 7"}
		}, 7, "altered", 7},
		{"altered details", func([]row) []string {
			return []string{`UPDATE audit_events SET details = '{"i":3,"name":"x"}' WHERE seq = 4`}
		}, 4, "altered", 4},
		{"altered time", func([]row) []string {
			return []string{"UPDATE audit_events SET occurred_at = occurred_at WHERE seq = 5", // no-op: still intact
				"UPDATE audit_events SET outcome = 'failure' WHERE seq = 12"}
		}, 12, "altered", 12},
		{"altered org_id", func([]row) []string {
			return []string{"UPDATE audit_events SET org_id = '0191f0a4-1c2d-7e3f-8a4b-5c6d7e8f0001' WHERE seq = 3"}
		}, 3, "altered", 3},
		{"org_id removed", func([]row) []string {
			return []string{"UPDATE audit_events SET org_id = NULL WHERE seq = 11"}
		}, 11, "altered", 11},
		{"hash version downgraded", func([]row) []string {
			return []string{"UPDATE audit_events SET hash_version = 1 WHERE seq = 6"}
		}, 6, "altered", 6},
		{"rehashed without relinking", func(rs []row) []string {
			// the attacker recomputes nothing but swaps in the next row's hash
			return []string{fmt.Sprintf("UPDATE audit_events SET hash = '%s' WHERE seq = 9", rs[9].Hash)}
		}, 9, "altered", 9},
		{"deleted middle", func([]row) []string {
			return []string{"DELETE FROM audit_events WHERE seq = 10"}
		}, 11, "deleted", 10},
		{"deleted first", func([]row) []string {
			return []string{"DELETE FROM audit_events WHERE seq = 1"}
		}, 2, "deleted", 1},
		{"deleted and renumbered", func([]row) []string {
			s := []string{"DELETE FROM audit_events WHERE seq = 6"}
			for i := 7; i <= 14; i++ {
				s = append(s, fmt.Sprintf("UPDATE audit_events SET seq = %d WHERE seq = %d", i-1, i))
			}
			return s
		}, 6, "deleted", 6},
		{"reordered", func([]row) []string {
			return []string{
				"UPDATE audit_events SET seq = -1 WHERE seq = 5",
				"UPDATE audit_events SET seq = 5 WHERE seq = 6",
				"UPDATE audit_events SET seq = 6 WHERE seq = -1",
			}
		}, 5, "reordered", 5},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			testenv.ForEachBackend(t, func(t *testing.T, b testenv.Backend) {
				e := newEnv(t, b)
				rs := chainOf(t, e, 14)
				tamper(t, b, c.tamper(rs)...)
				after := rows(t, b.DB)
				var wantID string
				for _, r := range after {
					if r.Seq == c.badSeq {
						wantID = r.EventID
					}
				}
				for _, rep := range []audit.Report{verifyWith(t, e), mustVerifyBroken(t, e)} {
					if rep.OK || rep.FirstBadSeq != c.badSeq || rep.FirstBadEventID != wantID ||
						!strings.HasPrefix(rep.Reason, c.reason) || rep.Checked != c.checked {
						t.Fatalf("want seq %d (%s) %q after %d rows, got %+v", c.badSeq, wantID, c.reason, c.checked, rep)
					}
				}
			})
		})
	}
}

func mustVerifyBroken(t *testing.T, e *env) audit.Report {
	t.Helper()
	rep, err := e.verifier.VerifyChain(ctxT(t))
	if err != nil {
		t.Fatal(err)
	}
	return rep
}
