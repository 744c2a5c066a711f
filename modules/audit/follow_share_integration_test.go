package audit_test

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"net/http"
	"net/url"
	"sync"
	"testing"
	"time"

	"github.com/uptrace/bun"

	"github.com/agentidp/agentidp/platform/audittrail"
	"github.com/agentidp/agentidp/platform/testenv"
)

// followLines opens GET /api/v1/audit/export?follow=true&after_seq=0 with query on e and
// returns its raw NDJSON lines as they arrive.
func followLines(t *testing.T, e *env, token, query string) <-chan []byte {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, e.app.URL+"/api/v1/audit/export?follow=true&after_seq=0"+query, nil)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer "+token)
	resp, err := testenv.Client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("follow %s: %d", query, resp.StatusCode)
	}
	out := make(chan []byte, 1000)
	go func() {
		defer close(out)
		sc := bufio.NewScanner(resp.Body)
		sc.Buffer(nil, 1<<20)
		for sc.Scan() {
			out <- bytes.Clone(sc.Bytes())
		}
	}()
	t.Cleanup(func() { cancel(); _ = resp.Body.Close() })
	return out
}

// A follower's lines equal the plain export's (after_seq=0, the same filters), byte for
// byte, whether its events came from the group-commit batches kept in memory or from the
// store: events written by Record on this replica (concurrently, so batches hold several),
// by Record on another replica and by RecordTx in between (gaps the follower must read from
// the store), under each filter, for an orgs:admin caller and an organization's member.
// Each round waits until every follower has caught up, so the next round's batches reach
// them in memory; the metric proves both paths ran.
func TestIntegrationFollowSharesBatchesWithParity(t *testing.T) {
	testenv.ForEachBackend(t, func(t *testing.T, b testenv.Backend) {
		a, c := checkpointEnvs(t, b)
		ctx := ctxT(t)
		admin := a.bearers.Issue(agentA, "audit:read", "orgs:admin")
		member := a.bearers.IssueIn(orgX, agentB, "audit:read")
		t0 := time.Date(2026, 12, 6, 10, 0, 0, 0, time.UTC)
		at := func(i int) time.Time { return t0.Add(time.Duration(i) * time.Microsecond) }
		// from/to with nanoseconds: the query compares at the microsecond (truncating). Events 3
		// and 27 are in the first batches of rounds 0 and 2, which reach the followers in memory.
		from := url.QueryEscape(at(3).Add(999 * time.Nanosecond).Format(time.RFC3339Nano))
		to := url.QueryEscape(at(27).Add(1 * time.Nanosecond).Format(time.RFC3339Nano))
		type follower struct {
			token, query string
			ch           <-chan []byte
			got          [][]byte
		}
		var fs []*follower
		for _, tq := range []struct{ token, query string }{
			{admin, ""},
			{admin, "&org_id=" + orgX},
			{admin, "&org_id=" + rootOrg},
			{admin, "&agent_id=" + agentA},
			{admin, "&action=token.revoked&outcome=failure"},
			{admin, "&outcome=success&org_id=" + rootOrg},
			{admin, "&from=" + from},
			{admin, "&to=" + to},
			{admin, "&from=" + from + "&to=" + to + "&agent_id=" + agentB},
			{member, ""},
			{member, "&action=token.issued"},
		} {
			fs = append(fs, &follower{token: tq.token, query: tq.query, ch: followLines(t, a, tq.token, tq.query)})
		}
		// catchUp reads each follower's lines until it has as many as the plain export
		// holds, and compares them.
		catchUp := func() {
			t.Helper()
			for _, f := range fs {
				resp, body := get(t, a, "/api/v1/audit/export?after_seq=0"+f.query, f.token)
				if resp.StatusCode != http.StatusOK {
					t.Fatalf("export %s: %d %s", f.query, resp.StatusCode, body)
				}
				want := bytes.Split(bytes.TrimSuffix(body, []byte("\n")), []byte("\n"))
				if len(body) == 0 {
					want = nil
				}
				for i := range want {
					for len(f.got) <= i {
						select {
						case l, ok := <-f.ch:
							if !ok {
								t.Fatalf("follower %q ended", f.query)
							}
							f.got = append(f.got, l)
						case <-time.After(30 * time.Second): // a hang, not a speed check
							t.Fatalf("follower %q: %d lines of %d", f.query, len(f.got), len(want))
						}
					}
					if !bytes.Equal(f.got[i], want[i]) {
						t.Fatalf("follower %q line %d:\n got %s\nwant %s", f.query, i, f.got[i], want[i])
					}
				}
			}
		}
		n := 0
		event := func() audittrail.Event {
			i := n
			n++
			ev := audittrail.Event{Action: "token.issued", AgentID: agentA, OrgID: rootOrg, OccurredAt: at(i),
				TargetID: fmt.Sprint(i), Details: map[string]any{"html": "<a>&</a>", "i": i}}
			if i%2 == 1 {
				ev.AgentID = agentB
			}
			if i%3 == 1 {
				ev.OrgID = orgX
			}
			if i%4 == 3 {
				ev.Action, ev.Outcome = "token.revoked", audittrail.Failure
			}
			return ev
		}
		recordMany := func(e *env, k int) {
			evs := make([]audittrail.Event, k)
			for i := range evs {
				evs[i] = event()
			}
			var wg sync.WaitGroup
			for _, ev := range evs {
				wg.Go(func() {
					if err := e.rec.Record(ctx, ev); err != nil {
						t.Error(err)
					}
				})
			}
			wg.Wait()
		}
		recordTx := func() {
			err := b.DB.RunInTx(ctx, nil, func(ctx context.Context, tx bun.Tx) error {
				return a.rec.RecordTx(ctx, tx, event())
			})
			if err != nil {
				t.Fatal(err)
			}
		}
		catchUp()
		for round := range 6 {
			recordMany(a, 6) // batches in memory
			catchUp()
			switch round % 3 {
			case 0:
				recordTx() // a gap before the next batch
			case 1:
				recordMany(c, 3) // another replica's: a gap as well
			}
			recordMany(a, 4)
			catchUp()
		}
		memory := testenv.CounterValue(t, a.reg, "agentidp_audit_follow_events_total", map[string]string{"source": "memory"})
		store := testenv.CounterValue(t, a.reg, "agentidp_audit_follow_events_total", map[string]string{"source": "store"})
		t.Logf("%d events; lines to followers from memory %v, from the store %v", n, memory, store)
		if memory == 0 || store == 0 {
			t.Fatalf("lines from memory %v, from the store %v: both paths should have run", memory, store)
		}
	})
}
