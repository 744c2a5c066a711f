package audit_test

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/uptrace/bun"

	"github.com/agentidp/agentidp/modules/audit"
	"github.com/agentidp/agentidp/platform/audittrail"
	"github.com/agentidp/agentidp/platform/testenv"
)

// follow opens GET /api/v1/audit/export?follow=true&after_seq=N on e and returns the
// events as they arrive, and the function that disconnects.
func follow(t *testing.T, e *env, token string, after int64, extra string) (<-chan audit.Event, func()) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	req, err := http.NewRequestWithContext(ctx, http.MethodGet,
		fmt.Sprintf("%s/api/v1/audit/export?follow=true&after_seq=%d%s", e.app.URL, after, extra), nil)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer "+token)
	resp, err := testenv.Client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	if resp.StatusCode != http.StatusOK || resp.Header.Get("Content-Type") != "application/x-ndjson" {
		t.Fatalf("follow: %d %s", resp.StatusCode, resp.Header.Get("Content-Type"))
	}
	out := make(chan audit.Event, 100)
	go func() {
		defer close(out)
		sc := bufio.NewScanner(resp.Body)
		for sc.Scan() {
			var ev audit.Event
			if json.Unmarshal(sc.Bytes(), &ev) == nil {
				out <- ev
			}
		}
	}()
	stop := func() { cancel(); _ = resp.Body.Close() }
	t.Cleanup(stop)
	return out, stop
}

// expectSeqs reads the next events from ch and checks their seqs.
func expectSeqs(t *testing.T, ch <-chan audit.Event, want ...int64) {
	t.Helper()
	for _, w := range want {
		select {
		case ev, ok := <-ch:
			if !ok || ev.Seq != w {
				t.Fatalf("got seq %d (open %v), want %d", ev.Seq, ok, w)
			}
		case <-time.After(30 * time.Second): // a hang, not a speed check
			t.Fatalf("no event with seq %d", w)
		}
	}
}

// A follower gets the existing events after after_seq, then new ones as they commit
// (through either writer, on either replica); after a disconnect it resumes, on the other
// replica, after the last seq it read, missing nothing and repeating nothing. An org
// member follows its own org's events only. The seq-ordered export checks out against a
// signed checkpoint with no database.
func TestIntegrationExportFollowResumes(t *testing.T) {
	testenv.ForEachBackend(t, func(t *testing.T, b testenv.Backend) {
		a, c := checkpointEnvs(t, b)
		ctx := ctxT(t)
		admin := a.bearers.Issue(agentA, "audit:read", "orgs:admin")
		record := func(e *env, org string, n int) {
			for i := range n {
				if err := e.rec.Record(ctx, audittrail.Event{Action: "token.issued", OrgID: org, TargetID: fmt.Sprint(i),
					Details: map[string]any{"html": "<a>&</a>"}}); err != nil {
					t.Fatal(err)
				}
			}
		}
		record(a, rootOrg, 3)
		ch, disconnect := follow(t, a, admin, 1, "")
		expectSeqs(t, ch, 2, 3)
		record(a, orgX, 2) // this replica's writer wakes the follower
		expectSeqs(t, ch, 4, 5)
		err := b.DB.RunInTx(ctx, nil, func(ctx context.Context, tx bun.Tx) error {
			return c.rec.RecordTx(ctx, tx, audittrail.Event{Action: "agent.created", OrgID: orgX})
		})
		if err != nil {
			t.Fatal(err)
		}
		expectSeqs(t, ch, 6) // another replica's, in a transaction: found by the poll
		disconnect()
		record(c, rootOrg, 2)
		ch2, _ := follow(t, c, admin, 6, "")
		expectSeqs(t, ch2, 7, 8)

		member := a.bearers.IssueIn(orgX, agentB, "audit:read")
		mine, _ := follow(t, a, member, 0, "")
		expectSeqs(t, mine, 4, 5, 6)
		record(a, rootOrg, 1)
		record(a, orgX, 1)
		expectSeqs(t, mine, 10)
		expectSeqs(t, ch2, 9, 10)

		for _, bad := range []string{"?follow=yes", "?after_seq=-1", "?after_seq=x", "?follow=true&org_id=" + orgX + "&after_seq=0&x=1"} {
			if resp, body := get(t, a, "/api/v1/audit/export"+bad, admin); resp.StatusCode != http.StatusBadRequest {
				t.Errorf("%s: %d %s", bad, resp.StatusCode, body)
			}
		}

		_, key := get(t, a, "/api/v1/audit/checkpoint/key", "")
		_, note := latestCheckpoint(t, a, admin, strings.TrimSpace(string(key)), 10)
		_, export := get(t, c, "/api/v1/audit/export?after_seq=0", admin)
		rep, err := audit.VerifyExport(bytes.NewReader(export), []byte(note), string(key), nil)
		if err != nil || !rep.OK || rep.Checked != 10 {
			t.Fatalf("offline verification of the export: %+v %v", rep, err)
		}
	})
}
