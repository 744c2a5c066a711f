package agents

import (
	"fmt"
	"net/http"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/agentidp/agentidp/modules/orgs"
	"github.com/agentidp/agentidp/platform/config"
	"github.com/agentidp/agentidp/platform/testenv"
)

func TestIntegrationFreePlanLimit(t *testing.T) {
	testenv.ForEachBackend(t, func(t *testing.T, b testenv.Backend) {
		e := newEnv(t, b, func(c *config.Config) { c.FreeTierMaxAgents = 3 })
		var free []*Agent
		for i := range 3 {
			free = append(free, e.create(map[string]any{"name": fmt.Sprintf("free-%d", i)}))
		}
		// Suspended agents count too.
		e.do(http.MethodPost, "/api/v1/agents/"+free[0].ID+"/suspend", e.admin, nil).agent(t, 200)
		p := e.do(http.MethodPost, "/api/v1/agents", e.admin, map[string]any{"name": "one too many"}).
			problem(t, http.StatusConflict, "conflict")
		if !strings.Contains(p.Detail, "free plan") || !strings.Contains(p.Detail, "3") {
			t.Errorf("detail %q does not explain the limit", p.Detail)
		}
		// Plan unlimited is not limited, but moving it to free is.
		u := e.create(map[string]any{"name": "paid", "plan": "unlimited"})
		e.do(http.MethodPatch, "/api/v1/agents/"+u.ID, e.admin, map[string]any{"plan": "free"}).
			problem(t, http.StatusConflict, "conflict")
		if got := e.do(http.MethodGet, "/api/v1/agents/"+u.ID, e.admin, nil).agent(t, 200); got.Plan != PlanUnlimited {
			t.Errorf("refused patch changed the plan: %s", got.Plan)
		}
		// Patching a free agent's other fields (plan free included) is not a new agent.
		e.do(http.MethodPatch, "/api/v1/agents/"+free[1].ID, e.admin, map[string]any{"plan": "free", "name": "renamed"}).agent(t, 200)

		// A decommissioned agent frees its place.
		if r := e.do(http.MethodDelete, "/api/v1/agents/"+free[2].ID, e.admin, nil); r.Status != http.StatusNoContent {
			t.Fatalf("delete %d", r.Status)
		}
		e.create(map[string]any{"name": "replacement"})
		e.do(http.MethodPost, "/api/v1/agents", e.admin, map[string]any{"name": "again too many"}).problem(t, http.StatusConflict, "conflict")
		// Moving a free agent to unlimited frees a place too.
		e.do(http.MethodPatch, "/api/v1/agents/"+free[1].ID, e.admin, map[string]any{"plan": "unlimited"}).agent(t, 200)
		e.create(map[string]any{"name": "after upgrade"})
		if n := e.countFree(); n != 3 {
			t.Errorf("free live agents %d, want 3", n)
		}
	})
}

// Concurrent creates never push the free plan past its limit.
func TestIntegrationFreePlanLimitConcurrent(t *testing.T) {
	testenv.ForEachBackend(t, func(t *testing.T, b testenv.Backend) {
		const limit, tries = 4, 16
		e := newEnv(t, b, func(c *config.Config) { c.FreeTierMaxAgents = limit })
		var created, refused atomic.Int32
		parallel(tries, func(i int) {
			r := e.do(http.MethodPost, "/api/v1/agents", e.admin, map[string]any{"name": fmt.Sprintf("racer-%d", i)})
			switch r.Status {
			case http.StatusCreated:
				created.Add(1)
			case http.StatusConflict:
				refused.Add(1)
			default:
				t.Errorf("status %d: %s", r.Status, r.Body)
			}
		})
		if created.Load() != limit || refused.Load() != tries-limit {
			t.Errorf("created %d refused %d, want %d and %d", created.Load(), refused.Load(), limit, tries-limit)
		}
		if n := e.countFree(); n != limit {
			t.Errorf("free live agents in the database: %d, want %d", n, limit)
		}
	})
}

func (e *env) countFree() int64 {
	e.t.Helper()
	n, err := newRepository().countFreeLive(e.t.Context(), e.b.DB, orgs.RootID)
	if err != nil {
		e.t.Fatal(err)
	}
	return n
}
