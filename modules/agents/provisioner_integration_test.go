package agents

import (
	"context"
	"errors"
	"net/http"
	"strings"
	"testing"

	"github.com/google/uuid"
	"github.com/uptrace/bun"

	"github.com/agentidp/agentidp/platform/apperr"
	"github.com/agentidp/agentidp/platform/config"
	"github.com/agentidp/agentidp/platform/testenv"
)

func TestIntegrationProvisioner(t *testing.T) {
	testenv.ForEachBackend(t, func(t *testing.T, b testenv.Backend) {
		// A free plan with no room: the bootstrap admin is on plan unlimited.
		e := newEnv(t, b, func(c *config.Config) { c.FreeTierMaxAgents = 0 })
		ctx := t.Context()
		inTx := func(fn func(ctx context.Context, tx bun.Tx) error) error {
			return b.DB.RunInTx(ctx, nil, fn)
		}
		if ok, err := e.prov.AdminExists(ctx); err != nil || ok {
			t.Fatalf("AdminExists on an empty store: %v %v", ok, err)
		}
		// An ordinary agent is not an admin.
		e.create(map[string]any{"name": "ordinary", "plan": "unlimited", "allowed_scopes": []string{"agents:write"}})
		if ok, _ := e.prov.AdminExists(ctx); ok {
			t.Fatal("an ordinary agent counts as admin")
		}

		// The caller's rollback takes the agent and its event with it.
		rolled := uuid.NewString()
		errAbort := errors.New("abort")
		err := inTx(func(ctx context.Context, tx bun.Tx) error {
			if _, err := e.prov.CreateInTx(ctx, tx, NewAgent{ID: rolled, Name: "admin", Plan: PlanUnlimited}); err != nil {
				return err
			}
			return errAbort
		})
		if !errors.Is(err, errAbort) {
			t.Fatal(err)
		}
		if ok, _ := e.prov.AdminExists(ctx); ok {
			t.Fatal("a rolled back admin exists")
		}
		if evs := e.events(rolled); len(evs) != 0 {
			t.Fatalf("events of a rolled back admin: %+v", evs)
		}

		id := uuid.NewString()
		var a *Agent
		err = inTx(func(ctx context.Context, tx bun.Tx) error {
			var err error
			a, err = e.prov.CreateInTx(ctx, tx, NewAgent{ID: strings.ToUpper(id), Name: "bootstrap admin",
				AllowedScopes: []string{"agents:read", "agents:write", "keys:admin"}, Plan: PlanUnlimited})
			return err
		})
		if err != nil {
			t.Fatal(err)
		}
		if a.ID != id || a.Plan != PlanUnlimited || a.Status != StatusActive || len(a.AllowedScopes) != 3 {
			t.Errorf("admin %+v", a)
		}
		if ok, err := e.prov.AdminExists(ctx); err != nil || !ok {
			t.Fatalf("AdminExists after bootstrap: %v %v", ok, err)
		}
		evs := e.events(id)
		if len(evs) != 1 || evs[0].Action != ActionCreated || !strings.Contains(evs[0].Details, `"bootstrap_admin":true`) {
			t.Errorf("bootstrap event %+v", evs)
		}
		e.do(http.MethodGet, "/api/v1/agents/"+id, e.admin, nil).agent(t, http.StatusOK)

		// Bad input and a taken id.
		for _, in := range []NewAgent{
			{ID: "nope", Name: "x", Plan: PlanUnlimited},
			{Name: "", Plan: PlanUnlimited},
			{Name: "x", Plan: "gold"},
			{Name: "x", AllowedScopes: []string{"root"}, Plan: PlanUnlimited},
			{ID: id, Name: "again", Plan: PlanUnlimited},
			{Name: "free admin"}, // plan free by default, and the free plan is full
		} {
			err := inTx(func(ctx context.Context, tx bun.Tx) error {
				_, err := e.prov.CreateInTx(ctx, tx, in)
				return err
			})
			var ae *apperr.Error
			if !errors.As(err, &ae) || ae.Status/100 != 4 {
				t.Errorf("CreateInTx(%+v): %v, want a 4xx error", in, err)
			}
		}

		// A decommissioned admin is no admin.
		if r := e.do(http.MethodDelete, "/api/v1/agents/"+id, e.admin, nil); r.Status != http.StatusNoContent {
			t.Fatal(r.Status)
		}
		if ok, _ := e.prov.AdminExists(ctx); ok {
			t.Error("a decommissioned admin still counts")
		}
	})
}
