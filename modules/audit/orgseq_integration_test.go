package audit_test

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"testing"

	"github.com/uptrace/bun"

	"github.com/agentidp/agentidp/platform/audittrail"
	"github.com/agentidp/agentidp/platform/testenv"
)

// orgsOf are n organization ids.
func orgsOf(n int) []string {
	out := make([]string, n)
	for i := range out {
		out[i] = fmt.Sprintf("0191f0a4-1c2d-7e3f-8a4b-%012x", 0xa00+i)
	}
	return out
}

// orgSeqRow is an event's organization numbering as stored.
type orgSeqRow struct {
	Seq         int64  `bun:"seq"`
	OrgID       string `bun:"org_id"`
	OrgSeq      *int64 `bun:"org_seq"`
	HashVersion int    `bun:"hash_version"`
}

// checkOrgSeqs asserts that each organization's events are numbered 1, 2, 3, … in seq
// order, with no gap and no repeat, that audit_org_heads holds each one's last number, and
// that the chain verifies; it returns the number of events of each organization.
func checkOrgSeqs(t *testing.T, e *env) map[string]int64 {
	t.Helper()
	ctx := ctxT(t)
	var rows []orgSeqRow
	if err := e.b.DB.NewSelect().Table("audit_events").Column("seq", "org_id", "org_seq", "hash_version").
		OrderExpr("seq ASC").Scan(ctx, &rows); err != nil {
		t.Fatal(err)
	}
	last := map[string]int64{}
	for _, r := range rows {
		if r.HashVersion != 3 || r.OrgID == "" || r.OrgSeq == nil {
			t.Fatalf("seq %d: version %d, org %q, org_seq %v", r.Seq, r.HashVersion, r.OrgID, r.OrgSeq)
		}
		if *r.OrgSeq != last[r.OrgID]+1 {
			t.Fatalf("seq %d: org %s numbered %d after %d", r.Seq, r.OrgID, *r.OrgSeq, last[r.OrgID])
		}
		last[r.OrgID] = *r.OrgSeq
	}
	var heads []struct {
		OrgID  string `bun:"org_id"`
		OrgSeq int64  `bun:"org_seq"`
	}
	if err := e.b.DB.NewSelect().Table("audit_org_heads").Column("org_id", "org_seq").Scan(ctx, &heads); err != nil {
		t.Fatal(err)
	}
	if len(heads) != len(last) {
		t.Fatalf("%d heads for %d organizations", len(heads), len(last))
	}
	for _, h := range heads {
		if last[h.OrgID] != h.OrgSeq {
			t.Fatalf("head of %s is %d, its last event has %d", h.OrgID, h.OrgSeq, last[h.OrgID])
		}
	}
	mustVerify(t, e)
	return last
}

// Two replicas' group-commit writers and transactional writers append to the same
// organizations at once: every organization's events are numbered 1..n in chain order,
// whichever path wrote them. First in turns, so that each writer's cached organization
// heads go stale (another writer numbered the same organization meanwhile) or are read
// from the table on the fast path (an organization first seen after the writer's head).
func TestIntegrationOrgSeqAcrossWritersAndOrgs(t *testing.T) {
	testenv.ForEachBackend(t, func(t *testing.T, b testenv.Backend) {
		a := newEnv(t, b)
		c := newReplica(t, a)
		ctx := ctxT(t)
		orgs := orgsOf(7)
		record := func(e *env, org string, i int) error {
			return e.rec.Record(ctx, audittrail.Event{Action: "token.issued", OrgID: org,
				TargetType: audittrail.TargetToken, TargetID: fmt.Sprint(i)})
		}
		recordTx := func(e *env, org string) error {
			return b.DB.RunInTx(ctx, nil, func(ctx context.Context, tx bun.Tx) error {
				return e.rec.RecordTx(ctx, tx, audittrail.Event{Action: "agent.updated", OrgID: org,
					TargetType: audittrail.TargetAgent, TargetID: agentB})
			})
		}
		// a numbers org 0 (the long way: its first batch, caching org 0 at 1); c numbers
		// org 1 (the long way) and then org 0 on its fast path, reading org 0's head (1) from
		// audit_org_heads: 2. a's cache says 1, but its statement fails on the stale chain
		// head and the batch is numbered under the lock: 3. Then a, with a fresh head, meets
		// org 1 on its fast path (read from the table: 1, so 2) and org 2 (none yet: 1).
		for i, step := range []struct {
			e   *env
			org string
		}{{a, orgs[0]}, {c, orgs[1]}, {c, orgs[0]}, {a, orgs[0]}, {a, orgs[1]}, {a, orgs[2]}} {
			if err := record(step.e, step.org, i); err != nil {
				t.Fatal(err)
			}
		}
		if got := checkOrgSeqs(t, a); got[orgs[0]] != 3 || got[orgs[1]] != 2 || got[orgs[2]] != 1 {
			t.Fatalf("after the turns: %v", got)
		}
		stale := func(e *env) float64 {
			return testenv.CounterValue(t, e.reg, "agentidp_audit_stale_head_total", nil)
		}
		if sa, sc := stale(a), stale(c); sa != 1 || sc != 0 {
			t.Fatalf("stale heads a=%v c=%v, want 1 and 0", sa, sc)
		}
		// At once: both group writers and transactional writers, over every organization.
		var wg sync.WaitGroup
		errs := make(chan error, 600)
		for i := range 200 {
			for _, e := range []*env{a, c} {
				wg.Go(func() { errs <- record(e, orgs[i%len(orgs)], i) })
			}
			if i%5 == 0 {
				wg.Go(func() { errs <- recordTx(a, orgs[(i/5)%len(orgs)]) })
			}
		}
		wg.Wait()
		close(errs)
		for err := range errs {
			if err != nil {
				t.Fatal(err)
			}
		}
		got := checkOrgSeqs(t, a)
		total := int64(0)
		for _, n := range got {
			total += n
		}
		if total != 6+400+40 || len(got) != len(orgs) {
			t.Fatalf("numbered %d events over %d organizations: %v", total, len(got), got)
		}
	})
}

// An org_seq changed in the table (with the triggers off, as a superuser could) is an
// altered row: the hash covers it. So is an org_seq given to a row of version 2.
func TestIntegrationOrgSeqTamperingIsCaught(t *testing.T) {
	testenv.ForEachBackend(t, func(t *testing.T, b testenv.Backend) {
		e := newEnv(t, b)
		org := orgsOf(1)[0]
		recordN(t, e, 4, audittrail.Event{Action: "agent.updated", OrgID: org, TargetType: audittrail.TargetAgent, TargetID: agentA})
		checkOrgSeqs(t, e)
		tamper(t, b, "UPDATE audit_events SET org_seq = 7 WHERE seq = 3")
		rep, err := e.verifier.VerifyChain(ctxT(t))
		if err != nil || rep.OK || rep.FirstBadSeq != 3 || !strings.HasPrefix(rep.Reason, "altered") {
			t.Fatalf("report after changing an org_seq: %+v %v", rep, err)
		}
	})
}
