package policy

import (
	"context"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/open-policy-agent/opa/v1/ast"
	"github.com/open-policy-agent/opa/v1/tester"
	"github.com/prometheus/client_golang/prometheus"
	"go.uber.org/fx"
	"go.uber.org/fx/fxtest"
	"go.uber.org/zap"

	"github.com/agentidp/agentidp/policies"
)

func newTestEngine(t testing.TB) Engine {
	t.Helper()
	e, err := New(zap.NewNop(), prometheus.NewRegistry())
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	return e
}

// TestRegoUnitTests runs policies/authz_test.rego with OPA's tester, against
// the same modules and data the engine loads.
func TestRegoUnitTests(t *testing.T) {
	b, err := loadBundle()
	if err != nil {
		t.Fatal(err)
	}
	src, err := policies.TestFiles.ReadFile(policies.TestFile)
	if err != nil {
		t.Fatal(err)
	}
	testMod, err := ast.ParseModuleWithOpts(policies.TestFile, string(src), ast.ParserOptions{RegoVersion: ast.RegoV1})
	if err != nil {
		t.Fatal(err)
	}
	modules := map[string]*ast.Module{policies.TestFile: testMod}
	for name, m := range b.modules {
		modules[name] = m
	}

	ch, err := tester.NewRunner().
		SetDefaultRegoVersion(ast.RegoV1).
		SetStore(b.store()).
		SetModules(modules).
		RaiseBuiltinErrors(true).
		RunTests(context.Background(), nil)
	if err != nil {
		t.Fatalf("rego tests: %v", err)
	}
	n := 0
	for r := range ch {
		n++
		name := r.Package + "." + r.Name
		switch {
		case r.Error != nil:
			t.Errorf("%s: error: %v", name, r.Error)
		case r.Skip:
			t.Logf("%s: skipped", name)
		case !r.Pass():
			t.Errorf("%s: FAIL (%s)", name, r.Location)
		}
	}
	if n == 0 {
		t.Fatal("no rego tests ran")
	}
	t.Logf("%d rego tests ran", n)
}

func TestDecideEveryRoute(t *testing.T) {
	e := newTestEngine(t)
	b, err := loadBundle()
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	for route, want := range b.catalog.Routes {
		method, path, _ := strings.Cut(route, " ")
		t.Run(route, func(t *testing.T) {
			d, err := e.Decide(ctx, Input{Method: method, Path: path, Scopes: want, AgentID: "a"})
			if err != nil {
				t.Fatal(err)
			}
			if !d.Allow || len(d.MissingScopes) != 0 {
				t.Errorf("with %v: got %+v, want allow", want, d)
			}

			// Every other known scope, but none of the route's (nor of its own-organization
			// alternative, which lets a route-level decision through).
			var others []string
			for _, s := range e.KnownScopes() {
				if !slices.Contains(want, s) && !slices.Contains(b.catalog.OwnOrgRoutes[route], s) {
					others = append(others, s)
				}
			}
			d, err = e.Decide(ctx, Input{Method: method, Path: path, Scopes: others, AgentID: "a"})
			if err != nil {
				t.Fatal(err)
			}
			wantMissing := slices.Sorted(slices.Values(want))
			if d.Allow || !slices.Equal(d.MissingScopes, wantMissing) {
				t.Errorf("with %v: got %+v, want deny missing %v", others, d, wantMissing)
			}

			d, err = e.Decide(ctx, Input{Method: method, Path: path})
			if err != nil {
				t.Fatal(err)
			}
			if d.Allow {
				t.Errorf("with no scopes: got allow")
			}

			got, ok := e.RouteScopes(method, path)
			if !ok || !slices.Equal(got, want) {
				t.Errorf("RouteScopes = %v, %v; want %v, true", got, ok, want)
			}
		})
	}
}

func TestDecideUnknownRoute(t *testing.T) {
	e := newTestEngine(t)
	all := e.KnownScopes()
	for _, in := range []Input{
		{Method: "GET", Path: "/api/v1/nope", Scopes: all},
		{Method: "PUT", Path: "/api/v1/agents/{agent_id}", Scopes: all},
		{Method: "get", Path: "/api/v1/agents", Scopes: all},
		{Method: "GET", Path: "/api/v1/agents/0b7c", Scopes: all},
		{Method: "GET", Path: "/api/v1/agents/", Scopes: all},
		{},
	} {
		d, err := e.Decide(context.Background(), in)
		if err != nil {
			t.Fatalf("%+v: %v", in, err)
		}
		if d.Allow || len(d.MissingScopes) != 0 {
			t.Errorf("%+v: got %+v, want deny with no missing scopes", in, d)
		}
		if _, ok := e.RouteScopes(in.Method, in.Path); ok {
			t.Errorf("RouteScopes(%q, %q) found a route", in.Method, in.Path)
		}
	}
}

func TestRoutesUseKnownScopes(t *testing.T) {
	b, err := loadBundle()
	if err != nil {
		t.Fatal(err)
	}
	known := newTestEngine(t).KnownScopes()
	wantKnown := []string{
		"agents:read", "agents:write", "credentials:read", "credentials:write",
		"tokens:introspect", "tokens:revoke", "audit:read", "usage:read", "keys:admin",
		"orgs:admin", "apis:read", "apis:write",
	}
	if !slices.Equal(known, wantKnown) {
		t.Errorf("KnownScopes = %v, want %v (docs/api.md, Scopes and authorization)", known, wantKnown)
	}
	for route, scopes := range b.catalog.Routes {
		if len(scopes) == 0 {
			t.Errorf("%s: no scopes", route)
		}
		for _, s := range scopes {
			if !slices.Contains(known, s) {
				t.Errorf("%s: unknown scope %q", route, s)
			}
		}
	}
	if got, want := len(b.catalog.Routes), 36; got != want {
		t.Errorf("%d routes, want %d", got, want)
	}
}

func TestCatalogValidate(t *testing.T) {
	for name, c := range map[string]catalog{
		"unknown scope": {Scopes: []string{"a:read"}, Routes: map[string][]string{"GET /x": {"b:read"}}},
		"no method":     {Scopes: []string{"a:read"}, Routes: map[string][]string{"/x": {"a:read"}}},
		"lower method":  {Scopes: []string{"a:read"}, Routes: map[string][]string{"get /x": {"a:read"}}},
		"no scopes":     {Scopes: []string{"a:read"}, Routes: map[string][]string{"GET /x": {}}},
		"empty":         {},
	} {
		if err := c.validate(); err == nil {
			t.Errorf("%s: validate accepted %+v", name, c)
		}
	}
}

func TestAccessorsReturnCopies(t *testing.T) {
	e := newTestEngine(t)
	k := e.KnownScopes()
	k[0] = "x"
	if e.KnownScopes()[0] == "x" {
		t.Error("KnownScopes exposes internal slice")
	}
	r, _ := e.RouteScopes("GET", "/api/v1/agents")
	r[0] = "x"
	if got, _ := e.RouteScopes("GET", "/api/v1/agents"); got[0] == "x" {
		t.Error("RouteScopes exposes internal slice")
	}
}

func TestDecisionLatencyRecorded(t *testing.T) {
	reg := prometheus.NewRegistry()
	e, err := New(zap.NewNop(), reg)
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	if _, err := e.Decide(ctx, Input{Method: "GET", Path: "/api/v1/agents", Scopes: []string{"agents:read"}}); err != nil {
		t.Fatal(err)
	}
	if _, err := e.Decide(ctx, Input{Method: "GET", Path: "/api/v1/agents"}); err != nil {
		t.Fatal(err)
	}
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	counts := map[string]uint64{}
	for _, mf := range mfs {
		if mf.GetName() != "agentidp_policy_decision_duration_seconds" {
			continue
		}
		for _, m := range mf.GetMetric() {
			for _, l := range m.GetLabel() {
				if l.GetName() == "decision" {
					counts[l.GetValue()] = m.GetHistogram().GetSampleCount()
				}
			}
		}
	}
	if counts["allow"] != 1 || counts["deny"] != 1 {
		t.Errorf("observations by decision = %v, want allow:1 deny:1", counts)
	}
}

func TestDecideCancelledContext(t *testing.T) {
	e := newTestEngine(t)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	d, err := e.Decide(ctx, Input{Method: "GET", Path: "/api/v1/agents", Scopes: []string{"agents:read"}})
	if err == nil {
		t.Skip("OPA finished before noticing the cancellation")
	}
	if d.Allow {
		t.Error("error decision allows")
	}
}

func TestModule(t *testing.T) {
	var e Engine
	app := fxtest.New(t,
		fx.Supply(zap.NewNop()),
		fx.Provide(func() prometheus.Registerer { return prometheus.NewRegistry() }),
		Module,
		fx.Populate(&e),
	)
	app.RequireStart().RequireStop()
	if e == nil {
		t.Fatal("no Engine")
	}
}

func TestDecideConcurrent(t *testing.T) {
	e := newTestEngine(t)
	ctx := context.Background()
	done := make(chan error, 8)
	for i := range 8 {
		go func() {
			for range 50 {
				in := Input{Method: "GET", Path: "/api/v1/audit", Scopes: []string{"audit:read"}}
				want := true
				if i%2 == 1 {
					in.Scopes = []string{"usage:read"}
					want = false
				}
				d, err := e.Decide(ctx, in)
				if err != nil {
					done <- err
					return
				}
				if d.Allow != want {
					done <- errDecision
					return
				}
			}
			done <- nil
		}()
	}
	for range 8 {
		if err := <-done; err != nil {
			t.Fatal(err)
		}
	}
}

var errDecision = &decisionError{}

type decisionError struct{}

func (*decisionError) Error() string { return "unexpected decision" }

// BenchmarkDecide measures Decide in steady state (decisions memoized) and
// uncached (every call evaluates the Rego query).
func BenchmarkDecide(b *testing.B) {
	memoized := newTestEngine(b)
	uncached, err := newEngine(zap.NewNop(), prometheus.NewRegistry(), false)
	if err != nil {
		b.Fatal(err)
	}
	ctx := context.Background()
	for _, e := range []struct {
		name string
		e    Engine
	}{{"memo", memoized}, {"uncached", uncached}} {
		for _, bc := range []struct {
			name string
			in   Input
		}{
			{"allow", Input{Method: "POST", Path: "/api/v1/agents/{agent_id}/credentials/{credential_id}/rotate",
				Scopes: []string{"agents:read", "agents:write", "credentials:read", "credentials:write"}, AgentID: "0b7c"}},
			{"deny", Input{Method: "GET", Path: "/api/v1/keys", Scopes: []string{"agents:read"}, AgentID: "0b7c"}},
			{"unknown", Input{Method: "GET", Path: "/api/v1/nope", Scopes: []string{"agents:read"}, AgentID: "0b7c"}},
		} {
			b.Run(e.name+"/"+bc.name, func(b *testing.B) {
				b.ReportAllocs()
				for b.Loop() {
					if _, err := e.e.Decide(ctx, bc.in); err != nil {
						b.Fatal(err)
					}
				}
			})
		}
	}
}

// TestMemoMatchesEvaluation compares memoized decisions with fresh
// evaluations for every route and several scope sets, asked twice.
func TestMemoMatchesEvaluation(t *testing.T) {
	memoized, err := newEngine(zap.NewNop(), nil, true)
	if err != nil {
		t.Fatal(err)
	}
	if memoized.memo == nil {
		t.Fatal("the embedded policy should be memoizable")
	}
	uncached, err := newEngine(zap.NewNop(), nil, false)
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	known := memoized.KnownScopes()
	scopeSets := [][]string{nil, {}, known, {"agents:read"}, {"credentials:write", "agents:write"},
		{"agents:write", "credentials:write", "agents:write"}, {"keys:admin", "bogus"}}
	for route := range memoized.cat.Routes {
		method, path, _ := strings.Cut(route, " ")
		for _, scopes := range scopeSets {
			for _, in := range []Input{
				{Method: method, Path: path, Scopes: scopes, AgentID: "x", Via: ViaBearer},
				{Method: method, Path: path, Scopes: scopes, AgentID: "x", Via: ViaClient},
				{Method: method, Path: path, Scopes: scopes, AgentID: "x", Via: ViaClient, Target: &Target{AgentID: "x"}},
				{Method: method, Path: path, Scopes: scopes, AgentID: "x", Via: ViaClient, Target: &Target{AgentID: "y"}},
			} {
				want, err := uncached.Decide(ctx, in)
				if err != nil {
					t.Fatal(err)
				}
				for range 2 {
					got, err := memoized.Decide(ctx, in)
					if err != nil {
						t.Fatal(err)
					}
					if got.Allow != want.Allow || !slices.Equal(got.MissingScopes, want.MissingScopes) {
						t.Errorf("%s %+v: memo %+v, eval %+v", route, in, got, want)
					}
				}
			}
		}
	}
}

func TestMemoKeyIgnoresOrderAndRepeats(t *testing.T) {
	a := memoKey(Input{Method: "GET", Path: "/x", Scopes: []string{"b", "a", "b"}, AgentID: "1"})
	b := memoKey(Input{Method: "GET", Path: "/x", Scopes: []string{"a", "b"}, AgentID: "1"})
	if a != b {
		t.Errorf("keys differ: %q, %q", a, b)
	}
	for _, other := range []Input{
		{Method: "GET", Path: "/x", Scopes: []string{"a"}},
		{Method: "GET", Path: "/x", Scopes: []string{"ab"}},
		{Method: "POST", Path: "/x", Scopes: []string{"a", "b"}},
		{Method: "GET", Path: "/y", Scopes: []string{"a", "b"}},
		{Method: "GET", Path: "/x", Scopes: []string{"a", "b"}, AgentID: "2"},
		{Method: "GET", Path: "/x", Scopes: []string{"a", "b"}, AgentID: "1", Via: ViaClient},
		{Method: "GET", Path: "/x", Scopes: []string{"a", "b"}, AgentID: "1", Target: &Target{}},
		{Method: "GET", Path: "/x", Scopes: []string{"a", "b"}, AgentID: "1", Target: &Target{AgentID: "1"}},
		{Method: "GET", Path: "/x", AgentID: "1:1", Scopes: []string{"a", "b"}},
		{Method: "GET", Path: "/x", AgentID: "", Via: "1", Scopes: []string{"a", "b"}},
	} {
		if memoKey(other) == a {
			t.Errorf("%+v shares the key of {a b}", other)
		}
	}
	// The caller's slice is left as it was.
	s := []string{"b", "a"}
	memoKey(Input{Scopes: s})
	if s[0] != "b" {
		t.Error("memoKey sorted the caller's scopes")
	}
}

func TestMemoReturnsCopies(t *testing.T) {
	e := newTestEngine(t)
	in := Input{Method: "GET", Path: "/api/v1/keys"}
	for range 2 {
		d, err := e.Decide(context.Background(), in)
		if err != nil {
			t.Fatal(err)
		}
		if !slices.Equal(d.MissingScopes, []string{"keys:admin"}) {
			t.Fatalf("got %+v", d)
		}
		d.MissingScopes[0] = "changed"
	}
}

func TestMemoIsBounded(t *testing.T) {
	e, err := newEngine(zap.NewNop(), nil, true)
	if err != nil {
		t.Fatal(err)
	}
	for i := range memoLimit + 10 {
		if _, err := e.Decide(context.Background(), Input{Method: "GET", Path: "/api/v1/keys", AgentID: strconv.Itoa(i)}); err != nil {
			t.Fatal(err)
		}
	}
	if n := e.memo.Len(); n > memoLimit {
		t.Errorf("memo holds %d entries, limit %d", n, memoLimit)
	}
}
