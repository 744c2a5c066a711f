package apis_test

import (
	"errors"
	"net/http"
	"reflect"
	"slices"
	"testing"

	"github.com/google/uuid"

	"github.com/agentidp/agentidp/modules/apis"
	"github.com/agentidp/agentidp/modules/orgs"
	"github.com/agentidp/agentidp/platform/apperr"
	"github.com/agentidp/agentidp/platform/testenv"
)

// validationFields returns the fields a validation error names, failing the test for any
// other error.
func validationFields(t *testing.T, err error) map[string]string {
	t.Helper()
	var ae *apperr.Error
	if !errors.As(err, &ae) || ae.Code != "validation_failed" {
		t.Fatalf("error %v, want validation_failed", err)
	}
	m := map[string]string{}
	for _, f := range ae.Fields {
		m[f.Field] = f.Message
	}
	return m
}

// Grants name APIs of the agent's org by identifier and their scopes only; the grants are
// read back (cached) and replaced as a whole.
func TestIntegrationGrants(t *testing.T) {
	testenv.ForEachBackend(t, func(t *testing.T, b testenv.Backend) {
		e := newEnv(t, b, nil)
		billing := e.create(e.admin, map[string]any{"identifier": "https://billing.example", "name": "billing", "scopes": scopes("read", "write", "admin")})
		e.create(e.admin, map[string]any{"identifier": "https://orders.example", "name": "orders", "scopes": scopes("read")})
		theirs := e.create(e.otherAdmin, map[string]any{"identifier": "https://theirs.example", "name": "theirs", "scopes": scopes("read")})
		agent := uuid.NewString()

		if g := e.grantsOf(agent); len(g) != 0 {
			t.Fatalf("grants of a new agent: %v", g)
		}
		_, err := e.setGrants(orgs.RootID, agent, []apis.Grant{
			{Audience: "https://theirs.example", Scopes: []string{"read"}},          // another org's API
			{Audience: "https://billing.example", Scopes: []string{"read", "nope"}}, // not a scope of it
			{Audience: e.cfg.Issuer, Scopes: []string{}},                            // the built-in API
			{Audience: "https://unknown.example"},                                   // no such API
		})
		fields := validationFields(t, err)
		for _, f := range []string{"grants[2].audience"} {
			if _, ok := fields[f]; !ok || len(fields) != 1 {
				t.Fatalf("fields %v, want %s alone (the form is checked before the APIs)", fields, f)
			}
		}
		_, err = e.setGrants(orgs.RootID, agent, []apis.Grant{
			{Audience: "https://theirs.example", Scopes: []string{"read"}},
			{Audience: "https://billing.example", Scopes: []string{"read", "nope"}},
			{Audience: "https://unknown.example"},
		})
		if got := validationFields(t, err); !reflect.DeepEqual(keys(got), []string{"grants[0].audience", "grants[1].scopes[1]", "grants[2].audience"}) {
			t.Fatalf("fields %v", got)
		}
		_, err = e.setGrants(orgs.RootID, agent, []apis.Grant{
			{Audience: "https://billing.example", Scopes: []string{"read", "read", "BAD"}},
			{Audience: "HTTPS://BILLING.EXAMPLE/"},
			{Audience: "ftp://x"},
		})
		if got := validationFields(t, err); !reflect.DeepEqual(keys(got), []string{"grants[0].scopes[1]", "grants[0].scopes[2]", "grants[1].audience", "grants[2].audience"}) {
			t.Fatalf("fields %v", got)
		}
		if g := e.grantsOf(agent); len(g) != 0 {
			t.Fatalf("refused grants were kept: %v", g)
		}

		before, err := e.setGrants(orgs.RootID, agent, []apis.Grant{
			{Audience: "HTTPS://Billing.Example:443", Scopes: []string{"write", "read"}},
			{Audience: "https://orders.example"},
		})
		if err != nil || len(before) != 0 {
			t.Fatalf("set: %v, before %v", err, before)
		}
		got := e.grantsOf(agent)
		if len(got) != 2 || got[0].Audience != "https://billing.example" || !reflect.DeepEqual(got[0].Scopes, []string{"write", "read"}) ||
			got[0].APIID != billing.ID || got[1].Audience != "https://orders.example" || len(got[1].Scopes) != 0 {
			t.Fatalf("grants %+v", got)
		}
		if ok, _ := e.grants.HasAny(t.Context(), agent); !ok {
			t.Fatal("HasAny: false")
		}
		many, err := e.grants.OfAgents(t.Context(), []string{agent, uuid.NewString()})
		if err != nil || len(many) != 1 || !reflect.DeepEqual(many[agent], got) {
			t.Fatalf("OfAgents %v %v", many, err)
		}
		before, err = e.setGrants(orgs.RootID, agent, []apis.Grant{})
		if err != nil || !reflect.DeepEqual(before, got) {
			t.Fatalf("cleared: %v, before %+v", err, before)
		}
		if g := e.grantsOf(agent); len(g) != 0 {
			t.Fatalf("cleared grants: %v", g)
		}
		if ok, _ := e.grants.HasAny(t.Context(), agent); ok {
			t.Fatal("HasAny after clearing: true")
		}
		// An agent of the other org may be granted its own org's API.
		if _, err := e.setGrants(e.other, uuid.NewString(), []apis.Grant{{Audience: theirs.Identifier, Scopes: []string{"read"}}}); err != nil {
			t.Fatal(err)
		}
	})
}

// Removing a scope from an API removes it from every grant; deleting an API removes its
// grants; other grants stay.
func TestIntegrationGrantsFollowTheirAPI(t *testing.T) {
	testenv.ForEachBackend(t, func(t *testing.T, b testenv.Backend) {
		e := newEnv(t, b, nil)
		billing := e.create(e.admin, map[string]any{"identifier": "https://billing.example", "name": "billing", "scopes": scopes("read", "write")})
		orders := e.create(e.admin, map[string]any{"identifier": "https://orders.example", "name": "orders", "scopes": scopes("read")})
		a1, a2 := uuid.NewString(), uuid.NewString()
		for _, a := range []string{a1, a2} {
			if _, err := e.setGrants(orgs.RootID, a, []apis.Grant{
				{Audience: billing.Identifier, Scopes: []string{"read", "write"}},
				{Audience: orders.Identifier, Scopes: []string{"read"}},
			}); err != nil {
				t.Fatal(err)
			}
		}
		e.do(http.MethodPatch, apis.PathAPIs+"/"+billing.ID, e.admin, map[string]any{"scopes": scopes("read", "export")}).api(t, http.StatusOK)
		for _, a := range []string{a1, a2} {
			g := e.grantsOf(a)
			if len(g) != 2 || !reflect.DeepEqual(g[0].Scopes, []string{"read"}) || !reflect.DeepEqual(g[1].Scopes, []string{"read"}) {
				t.Fatalf("after removing write: %+v", g)
			}
		}
		ev := e.events(apis.ActionUpdated)
		if len(ev) != 1 || len(ev[0].Details["grants_changed"].([]any)) != 2 {
			t.Fatalf("api.updated %+v", ev)
		}
		e.do(http.MethodDelete, apis.PathAPIs+"/"+orders.ID, e.admin, nil)
		for _, a := range []string{a1, a2} {
			if g := e.grantsOf(a); len(g) != 1 || g[0].APIID != billing.ID {
				t.Fatalf("after deleting orders: %+v", g)
			}
		}
		if ev := e.events(apis.ActionDeleted); len(ev) != 1 || len(ev[0].Details["grants_removed"].([]any)) != 2 {
			t.Fatalf("api.deleted %+v", ev)
		}
		// A grant on the deleted API's identifier is refused now.
		_, err := e.setGrants(orgs.RootID, a1, []apis.Grant{{Audience: orders.Identifier}})
		if got := validationFields(t, err); len(got) != 1 {
			t.Fatalf("fields %v", got)
		}
	})
}

func keys(m map[string]string) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	slices.Sort(out)
	return out
}
