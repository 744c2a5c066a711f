package agents

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/uptrace/bun"
	"go.uber.org/fx"

	"github.com/agentidp/agentidp/platform/testenv"
)

func TestIntegrationPatch(t *testing.T) {
	testenv.ForEachBackend(t, func(t *testing.T, b testenv.Backend) {
		e := newEnv(t, b, nil)
		a := e.create(map[string]any{
			"name": "patchy", "description": "before", "owner": "team-a",
			"allowed_scopes": []string{"agents:read"}, "metadata": map[string]any{"secret_sauce": "ketchup"},
		})
		path := "/api/v1/agents/" + a.ID
		time.Sleep(2 * time.Millisecond) // updated_at must move on

		got := e.do(http.MethodPatch, path, e.admin, map[string]any{
			"name": "patched", "metadata": map[string]any{"secret_sauce": "mustard", "n": 1},
		}).agent(t, http.StatusOK)
		if got.Name != "patched" || got.Description != "before" || got.Owner != "team-a" ||
			!slices.Equal(got.AllowedScopes, []string{"agents:read"}) || got.Plan != PlanFree ||
			got.Metadata["secret_sauce"] != "mustard" {
			t.Errorf("partial update: %+v", got)
		}
		if !got.UpdatedAt.After(a.UpdatedAt) || !got.CreatedAt.Equal(a.CreatedAt) {
			t.Errorf("times: created %v→%v, updated %v→%v", a.CreatedAt, got.CreatedAt, a.UpdatedAt, got.UpdatedAt)
		}
		if reread := e.do(http.MethodGet, path, e.admin, nil).agent(t, 200); reread.Name != "patched" || !reread.UpdatedAt.Equal(got.UpdatedAt) {
			t.Errorf("re-read %+v", reread)
		}
		evs := e.events(a.ID)
		if len(evs) != 2 || evs[1].Action != ActionUpdated {
			t.Fatalf("events %+v", evs)
		}
		var details struct{ Fields []string }
		if err := json.Unmarshal([]byte(evs[1].Details), &details); err != nil {
			t.Fatal(err)
		}
		if !slices.Equal(details.Fields, []string{"name", "metadata"}) {
			t.Errorf("agent.updated fields %v", details.Fields)
		}
		for _, v := range []string{"ketchup", "mustard"} {
			if strings.Contains(evs[1].Details, v) {
				t.Errorf("agent.updated details carry a metadata value: %s", evs[1].Details)
			}
		}

		// Clearing with empty values; the other fields; scopes replaced as a whole.
		got = e.do(http.MethodPatch, path, e.admin, map[string]any{
			"description": "", "owner": "", "allowed_scopes": []string{}, "allowed_audiences": []string{"https://rs.example"},
			"plan": "unlimited", "metadata": map[string]any{},
		}).agent(t, http.StatusOK)
		if got.Description != "" || got.Owner != "" || len(got.AllowedScopes) != 0 || got.Plan != PlanUnlimited ||
			len(got.Metadata) != 0 || !slices.Equal(got.AllowedAudiences, []string{"https://rs.example"}) {
			t.Errorf("clearing: %+v", got)
		}

		// An empty patch, or one that repeats the current values, changes nothing and
		// records nothing.
		before := len(e.events(a.ID))
		same := e.do(http.MethodPatch, path, e.admin, map[string]any{}).agent(t, http.StatusOK)
		e.do(http.MethodPatch, path, e.admin, map[string]any{"name": "patched", "plan": "unlimited"}).agent(t, http.StatusOK)
		if !same.UpdatedAt.Equal(got.UpdatedAt) || len(e.events(a.ID)) != before {
			t.Errorf("a no-op patch changed updated_at or was audited")
		}

		// Bad values: one problem, nothing changed.
		p := e.do(http.MethodPatch, path, e.admin, map[string]any{"name": "", "plan": "gold", "allowed_scopes": []string{"x"}}).
			problem(t, http.StatusBadRequest, "validation_failed")
		if len(p.Errors) != 3 {
			t.Errorf("errors %+v", p.Errors)
		}
		for _, body := range []string{`{"name": null}`, `{"owner": null}`, `{"metadata": null}`, `{"allowed_audiences": null}`, `{"agent_id": "x"}`, `{"status": "active"}`, `{"created_at": "2020-01-01T00:00:00Z"}`} {
			e.do(http.MethodPatch, path, e.admin, body).problem(t, http.StatusBadRequest, "validation_failed")
		}
		e.do(http.MethodPatch, path, e.admin, `{"name":`).problem(t, http.StatusBadRequest, "malformed_body")
		if reread := e.do(http.MethodGet, path, e.admin, nil).agent(t, 200); reread.Name != "patched" || !reread.UpdatedAt.Equal(got.UpdatedAt) {
			t.Errorf("bad patches changed the agent: %+v", reread)
		}
		e.do(http.MethodPatch, "/api/v1/agents/0b1c2d3e-4f50-4617-8293-a4b5c6d7e8f9", e.admin, map[string]any{"name": "x"}).
			problem(t, http.StatusNotFound, "not_found")
	})
}

func TestIntegrationLifecycle(t *testing.T) {
	testenv.ForEachBackend(t, func(t *testing.T, b testenv.Backend) {
		var mu sync.Mutex
		var seen, after []LifecycleEvent
		var committedStatus []string // the status another connection reads in the after-commit hook
		e := newEnv(t, b, nil, fx.Invoke(func(l Lifecycle) {
			l.OnStatusChange(func(_ context.Context, _ bun.Tx, ev LifecycleEvent) error {
				mu.Lock()
				seen = append(seen, ev)
				mu.Unlock()
				return nil
			})
			l.AfterStatusChange(func(ctx context.Context, ev LifecycleEvent) {
				var st string
				if err := b.DB.NewRaw(`SELECT status FROM agents WHERE agent_id = ?`, ev.AgentID).Scan(ctx, &st); err != nil {
					t.Errorf("after-commit hook: reading the agent: %v", err)
				}
				mu.Lock()
				after = append(after, ev)
				committedStatus = append(committedStatus, st)
				mu.Unlock()
			})
		}))
		a := e.create(map[string]any{"name": "cycler"})
		path := "/api/v1/agents/" + a.ID
		look := func() *Agent {
			t.Helper()
			got, err := e.dir.Lookup(t.Context(), a.ID)
			if err != nil {
				t.Fatal(err)
			}
			return got
		}
		if !look().TokensNotBefore.IsZero() {
			t.Fatal("a new agent has tokens_not_before set")
		}

		s := e.do(http.MethodPost, path+"/suspend", e.admin, nil).agent(t, http.StatusOK)
		if s.Status != StatusSuspended {
			t.Fatalf("suspend: %+v", s)
		}
		tnb := look().TokensNotBefore
		if tnb.IsZero() || look().Status != StatusSuspended {
			t.Fatalf("after suspend: %+v", look())
		}
		// Suspending again is a no-op 200: no event, no hook, tokens_not_before kept.
		if again := e.do(http.MethodPost, path+"/suspend", e.admin, nil).agent(t, http.StatusOK); again.Status != StatusSuspended {
			t.Errorf("second suspend: %+v", again)
		}
		if !look().TokensNotBefore.Equal(tnb) {
			t.Errorf("second suspend moved tokens_not_before")
		}

		r := e.do(http.MethodPost, path+"/reactivate", e.admin, nil).agent(t, http.StatusOK)
		if r.Status != StatusActive || !look().TokensNotBefore.Equal(tnb) {
			t.Errorf("reactivate must keep tokens_not_before: %+v %v", r, look().TokensNotBefore)
		}
		e.do(http.MethodPost, path+"/reactivate", e.admin, nil).agent(t, http.StatusOK)

		if d := e.do(http.MethodDelete, path, e.admin, nil); d.Status != http.StatusNoContent || len(d.Body) != 0 {
			t.Fatalf("delete: %d %s", d.Status, d.Body)
		}
		if got := look(); got.Status != StatusDecommissioned || !got.TokensNotBefore.After(tnb) {
			t.Errorf("after decommission: %+v", got)
		}
		if d := e.do(http.MethodDelete, path, e.admin, nil); d.Status != http.StatusNoContent {
			t.Errorf("repeated delete: %d %s", d.Status, d.Body)
		}
		// Final: everything else is 409, and the agent is still there to read.
		e.do(http.MethodPost, path+"/suspend", e.admin, nil).problem(t, http.StatusConflict, "conflict")
		e.do(http.MethodPost, path+"/reactivate", e.admin, nil).problem(t, http.StatusConflict, "conflict")
		e.do(http.MethodPatch, path, e.admin, map[string]any{"name": "zombie"}).problem(t, http.StatusConflict, "conflict")
		if got := e.do(http.MethodGet, path, e.admin, nil).agent(t, 200); got.Status != StatusDecommissioned || got.Name != "cycler" {
			t.Errorf("GET after decommission: %+v", got)
		}

		want := []string{ActionCreated, ActionSuspended, ActionReactivated, ActionDecommissioned}
		if got := e.actions(a.ID); !slices.Equal(got, want) {
			t.Errorf("audit actions %v, want %v", got, want)
		}
		mu.Lock()
		defer mu.Unlock()
		wantHooks := []LifecycleEvent{
			{AgentID: a.ID, From: StatusActive, To: StatusSuspended},
			{AgentID: a.ID, From: StatusSuspended, To: StatusActive},
			{AgentID: a.ID, From: StatusActive, To: StatusDecommissioned},
		}
		if len(seen) != len(wantHooks) {
			t.Fatalf("hooks saw %+v", seen)
		}
		for i, ev := range seen {
			w := wantHooks[i]
			if ev.AgentID != w.AgentID || ev.From != w.From || ev.To != w.To || ev.At.IsZero() {
				t.Errorf("hook event %d: %+v, want %+v", i, ev, w)
			}
		}
		// The after-commit hooks saw the same changes (not the idempotent repeats), each
		// after its commit: another connection already read the new status.
		if !slices.Equal(after, seen) {
			t.Errorf("after-commit hooks saw %+v, want %+v", after, seen)
		}
		for i, st := range committedStatus {
			if i < len(wantHooks) && st != string(wantHooks[i].To) {
				t.Errorf("after-commit hook %d read status %q, want the committed %q", i, st, wantHooks[i].To)
			}
		}

		for _, op := range []string{"/suspend", "/reactivate"} {
			e.do(http.MethodPost, "/api/v1/agents/0b1c2d3e-4f50-4617-8293-a4b5c6d7e8f9"+op, e.admin, nil).problem(t, 404, "not_found")
		}
	})
}

// A hook's writes commit with the status change; a failing hook rolls back the change,
// the other hooks' writes and the audit event, and no after-commit hook runs.
func TestIntegrationLifecycleHookInTransaction(t *testing.T) {
	testenv.ForEachBackend(t, func(t *testing.T, b testenv.Backend) {
		if _, err := b.DB.ExecContext(t.Context(), `CREATE TABLE hook_probe (agent_id TEXT NOT NULL, status TEXT NOT NULL)`); err != nil {
			t.Fatal(err)
		}
		var failing atomic.Bool
		var afterCommit atomic.Int64
		e := newEnv(t, b, nil, fx.Invoke(func(l Lifecycle) {
			l.AfterStatusChange(func(context.Context, LifecycleEvent) { afterCommit.Add(1) })
			l.OnStatusChange(func(ctx context.Context, tx bun.Tx, ev LifecycleEvent) error {
				_, err := tx.ExecContext(ctx, `INSERT INTO hook_probe (agent_id, status) VALUES (?, ?)`, ev.AgentID, string(ev.To))
				return err
			})
			l.OnStatusChange(func(context.Context, bun.Tx, LifecycleEvent) error {
				if failing.Load() {
					return errors.New("credentials store refused")
				}
				return nil
			})
		}))
		a := e.create(map[string]any{"name": "hooked"})
		path := "/api/v1/agents/" + a.ID
		probe := func() []string {
			var out []string
			if err := b.DB.NewRaw(`SELECT status FROM hook_probe WHERE agent_id = ?`, a.ID).Scan(t.Context(), &out); err != nil {
				t.Fatal(err)
			}
			return out
		}

		failing.Store(true)
		r := e.do(http.MethodPost, path+"/suspend", e.admin, nil)
		r.problem(t, http.StatusInternalServerError, "internal_error")
		if strings.Contains(string(r.Body), "credentials store refused") {
			t.Errorf("the internal cause leaked: %s", r.Body)
		}
		e.do(http.MethodDelete, path, e.admin, nil).problem(t, http.StatusInternalServerError, "internal_error")
		if got := e.do(http.MethodGet, path, e.admin, nil).agent(t, 200); got.Status != StatusActive {
			t.Fatalf("a failed hook left status %s", got.Status)
		}
		if got, _ := e.dir.Lookup(t.Context(), a.ID); got.Status != StatusActive || !got.TokensNotBefore.IsZero() {
			t.Fatalf("directory after failed suspend: %+v", got)
		}
		if p := probe(); len(p) != 0 {
			t.Errorf("the first hook's write survived the rollback: %v", p)
		}
		if got := e.actions(a.ID); !slices.Equal(got, []string{ActionCreated}) {
			t.Errorf("events after failed changes: %v", got)
		}
		if n := afterCommit.Load(); n != 0 {
			t.Errorf("after-commit hooks ran %d times for changes that rolled back", n)
		}

		failing.Store(false)
		e.do(http.MethodPost, path+"/suspend", e.admin, nil).agent(t, http.StatusOK)
		if p := probe(); !slices.Equal(p, []string{"suspended"}) {
			t.Errorf("hook writes %v", p)
		}
		if n := afterCommit.Load(); n != 1 {
			t.Errorf("after-commit hooks ran %d times after one committed change", n)
		}
	})
}

// An audit write that fails fails the change: the agent is neither created nor changed.
func TestIntegrationAuditFailureRollsBack(t *testing.T) {
	testenv.ForEachBackend(t, func(t *testing.T, b testenv.Backend) {
		e := newFakeEnv(t, b, nil)
		a := e.create(map[string]any{"name": "audited"})
		e.rec.fail.Store(true)
		e.do(http.MethodPost, "/api/v1/agents", e.admin, map[string]any{"name": "unaudited"}).problem(t, 500, "internal_error")
		e.do(http.MethodPatch, "/api/v1/agents/"+a.ID, e.admin, map[string]any{"name": "renamed"}).problem(t, 500, "internal_error")
		e.do(http.MethodPost, "/api/v1/agents/"+a.ID+"/suspend", e.admin, nil).problem(t, 500, "internal_error")
		e.rec.fail.Store(false)
		all := e.listAll("", 10)
		if len(all) != 1 || all[0].Name != "audited" || all[0].Status != StatusActive {
			t.Errorf("after failed audit writes: %+v", all)
		}
	})
}
