// Package policy decides whether a caller may use a route (docs/api.md, "Scopes and
// authorization"). It evaluates the embedded Rego policy (policies/authz.rego) against
// the embedded route→scope table (policies/data/scopes.json) in process with OPA's Go
// API; the query is prepared once, in New.
package policy

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strconv"
	"strings"
	"time"

	lru "github.com/hashicorp/golang-lru/v2"
	"github.com/open-policy-agent/opa/v1/ast"
	"github.com/open-policy-agent/opa/v1/metrics"
	"github.com/open-policy-agent/opa/v1/rego"
	"github.com/open-policy-agent/opa/v1/storage"
	"github.com/open-policy-agent/opa/v1/storage/inmem"
	"github.com/open-policy-agent/opa/v1/topdown"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promauto"
	"go.uber.org/zap"

	"github.com/agentidp/agentidp/policies"
)

// How a caller authenticated (Input.Via).
const (
	// ViaBearer: an access token of this server (the API's auth middleware, or a bearer
	// token at introspection and revocation).
	ViaBearer = "bearer"
	// ViaClient: the agent's own client credentials at an OAuth endpoint (introspection,
	// revocation); Scopes are then the agent's allowed scopes.
	ViaClient = "client_credentials"
)

// Input is what a decision is made on.
type Input struct {
	// Method is the HTTP method, upper case ("GET").
	Method string
	// Path is the gorilla/mux route template ("/api/v1/agents/{agent_id}"),
	// not the request path.
	Path string
	// Scopes are the caller's scopes: its access token's, or (ViaClient) its agent's
	// allowed scopes.
	Scopes []string
	// AgentID is the calling agent.
	AgentID string
	// OrgID is the calling agent's organization.
	OrgID string
	// Via is how the caller authenticated: ViaBearer or ViaClient.
	Via string
	// Target describes the object the call acts on, for an object-level decision; nil for
	// the route-level decision made before the object is known.
	Target *Target
}

// Target is what the policy knows of the object a call acts on.
type Target struct {
	// AgentID is the agent the object belongs to (for a token: its subject).
	AgentID string
	// OrgID is the organization the object belongs to; AllOrgs for a list over every one.
	OrgID string
}

// AllOrgs is the Target.OrgID of a list over every organization.
const AllOrgs = "*"

// Decision is the policy's answer.
type Decision struct {
	// Allow is true only for a known route whose every scope the caller holds.
	Allow bool
	// MissingScopes are the route's scopes the caller lacks, sorted; empty
	// when allowed and for an unknown route.
	MissingScopes []string
	// NotFound: the target is hidden from the caller (another organization's object):
	// answer as for a missing one.
	NotFound bool
}

// Engine makes authorization decisions. It is safe for concurrent use.
type Engine interface {
	// Decide evaluates the policy, or returns the memoized answer to the same input.
	// On error the decision denies.
	Decide(ctx context.Context, in Input) (Decision, error)
	// KnownScopes returns the scopes the server knows, in the order of
	// policies/data/scopes.json.
	KnownScopes() []string
	// RouteScopes returns the scopes a route needs, and false for an
	// unknown route.
	RouteScopes(method, path string) ([]string, bool)
	// Routes returns every route the policy has an entry for, as "METHOD /template",
	// sorted.
	Routes() []string
}

const (
	// dataRoot is where DataFile is mounted: data.scopes.routes, data.scopes.scopes.
	dataRoot = "scopes"
	// query evaluates both rules in one pass.
	query = "allow := data.agentidp.authz.allow; missing := data.agentidp.authz.missing_scopes; hidden := data.agentidp.authz.not_found"
)

// catalog is the content of policies.DataFile.
type catalog struct {
	Scopes []string            `json:"scopes"`
	Routes map[string][]string `json:"routes"`
}

// bundle is the policy and data as loaded from the embedded files.
type bundle struct {
	modules map[string]*ast.Module
	data    map[string]any // mounted at data.scopes
	catalog catalog
}

// loadBundle parses the embedded policy and data and checks the data.
func loadBundle() (*bundle, error) {
	src, err := policies.Files.ReadFile(policies.PolicyFile)
	if err != nil {
		return nil, fmt.Errorf("policy: read %s: %w", policies.PolicyFile, err)
	}
	mod, err := ast.ParseModuleWithOpts(policies.PolicyFile, string(src), ast.ParserOptions{RegoVersion: ast.RegoV1})
	if err != nil {
		return nil, fmt.Errorf("policy: parse %s: %w", policies.PolicyFile, err)
	}
	raw, err := policies.Files.ReadFile(policies.DataFile)
	if err != nil {
		return nil, fmt.Errorf("policy: read %s: %w", policies.DataFile, err)
	}
	var cat catalog
	if err := json.Unmarshal(raw, &cat); err != nil {
		return nil, fmt.Errorf("policy: parse %s: %w", policies.DataFile, err)
	}
	if err := cat.validate(); err != nil {
		return nil, fmt.Errorf("policy: %s: %w", policies.DataFile, err)
	}
	var data map[string]any
	if err := json.Unmarshal(raw, &data); err != nil {
		return nil, fmt.Errorf("policy: parse %s: %w", policies.DataFile, err)
	}
	return &bundle{
		modules: map[string]*ast.Module{policies.PolicyFile: mod},
		data:    map[string]any{dataRoot: data},
		catalog: cat,
	}, nil
}

// store returns a fresh in-memory store holding the data, read back as AST
// values so evaluation does not convert it on every read.
func (b *bundle) store() storage.Store {
	return inmem.NewFromObjectWithOpts(b.data, inmem.OptReturnASTValuesOnRead(true))
}

// validate refuses a table that the policy would read wrongly: a key that is
// not "METHOD /path", or a scope that is not known.
func (c catalog) validate() error {
	if len(c.Scopes) == 0 {
		return errors.New("no known scopes")
	}
	if len(c.Routes) == 0 {
		return errors.New("no routes")
	}
	var errs []error
	for route, scopes := range c.Routes {
		method, path, ok := strings.Cut(route, " ")
		if !ok || method == "" || method != strings.ToUpper(method) || !strings.HasPrefix(path, "/") || strings.Contains(path, " ") {
			errs = append(errs, fmt.Errorf("route %q: want \"METHOD /template\"", route))
		}
		if len(scopes) == 0 {
			errs = append(errs, fmt.Errorf("route %q: no scopes", route))
		}
		for _, s := range scopes {
			if !slices.Contains(c.Scopes, s) {
				errs = append(errs, fmt.Errorf("route %q: unknown scope %q", route, s))
			}
		}
	}
	return errors.Join(errs...)
}

// memoLimit bounds the decision memo: the least recently used decisions are
// forgotten past it. The input names the calling agent, so real traffic needs
// about one entry per active agent and route it calls.
const memoLimit = 16384

type engine struct {
	query  rego.PreparedEvalQuery
	cancel topdown.Cancel // never cancelled: Decide checks ctx itself
	known  []string
	routes map[string][]string

	// memo caches decisions by the whole input (a decision is a function of the
	// input alone: the data is embedded and never changes); nil in tests that
	// measure evaluation.
	memo *lru.Cache[string, Decision]

	allowed, denied, failed prometheus.Observer
}

// New loads the embedded policy and data and prepares the query. reg may be
// nil, then the latency histogram is not registered.
func New(log *zap.Logger, reg prometheus.Registerer) (Engine, error) {
	return newEngine(log, reg, true)
}

func newEngine(log *zap.Logger, reg prometheus.Registerer, useMemo bool) (*engine, error) {
	log = log.Named("policy")
	b, err := loadBundle()
	if err != nil {
		return nil, err
	}
	opts := []func(*rego.Rego){
		rego.Query(query),
		rego.Store(b.store()),
		rego.SetRegoVersion(ast.RegoV1),
	}
	for _, mod := range b.modules {
		opts = append(opts, rego.ParsedModule(mod))
	}
	pq, err := rego.New(opts...).PrepareForEval(context.Background())
	if err != nil {
		return nil, fmt.Errorf("policy: prepare: %w", err)
	}
	hist := decisionHistogram(reg)
	e := &engine{
		query:   pq,
		cancel:  topdown.NewCancel(),
		known:   b.catalog.Scopes,
		routes:  b.catalog.Routes,
		allowed: hist.WithLabelValues("allow"),
		denied:  hist.WithLabelValues("deny"),
		failed:  hist.WithLabelValues("error"),
	}
	if useMemo {
		e.memo, _ = lru.New[string, Decision](memoLimit) // only a size ≤ 0 fails
	}
	log.Info("policy loaded",
		zap.Int("routes", len(b.catalog.Routes)),
		zap.Int("scopes", len(b.catalog.Scopes)),
		zap.Bool("memoized", e.memo != nil))
	return e, nil
}

// decisionHistogram is the decision latency histogram, registered in reg (nil: nowhere).
func decisionHistogram(reg prometheus.Registerer) *prometheus.HistogramVec {
	return promauto.With(reg).NewHistogramVec(prometheus.HistogramOpts{
		Name: "agentidp_policy_decision_duration_seconds",
		Help: "Time to evaluate the authorization policy, by decision (allow, deny, error).",
		// 100 ns .. ~1.5 ms: memoized decisions take well under a microsecond.
		Buckets: prometheus.ExponentialBuckets(1e-7, 2.5, 12),
	}, []string{"decision"})
}

func (e *engine) Decide(ctx context.Context, in Input) (Decision, error) {
	start := time.Now()
	d, err := e.decide(ctx, in)
	elapsed := time.Since(start).Seconds()
	switch {
	case err != nil:
		e.failed.Observe(elapsed)
		return Decision{}, err
	case d.Allow:
		e.allowed.Observe(elapsed)
	default:
		e.denied.Observe(elapsed)
	}
	return d, nil
}

func (e *engine) decide(ctx context.Context, in Input) (Decision, error) {
	if err := ctx.Err(); err != nil {
		return Decision{}, fmt.Errorf("policy: %w", err)
	}
	if e.memo == nil {
		return e.eval(ctx, in)
	}
	key := memoKey(in)
	if d, ok := e.memo.Get(key); ok {
		return d.clone(), nil // a copy: callers cannot alter a cached decision
	}
	d, err := e.eval(ctx, in)
	if err != nil {
		return Decision{}, err
	}
	e.memo.Add(key, d)
	return d.clone(), nil
}

// eval runs the prepared query. The per-call options spare what a decision
// does not need: OPA's metrics map and its cancellation goroutine.
func (e *engine) eval(ctx context.Context, in Input) (Decision, error) {
	rs, err := e.query.Eval(ctx,
		rego.EvalParsedInput(in.value()),
		rego.EvalMetrics(noMetrics),
		rego.EvalExternalCancel(e.cancel),
	)
	if err != nil {
		return Decision{}, fmt.Errorf("policy: eval: %w", err)
	}
	if len(rs) != 1 {
		return Decision{}, fmt.Errorf("policy: eval: %d results, want 1", len(rs))
	}
	allow, ok := rs[0].Bindings["allow"].(bool)
	if !ok {
		return Decision{}, fmt.Errorf("policy: eval: allow is %T, want bool", rs[0].Bindings["allow"])
	}
	missing, ok := rs[0].Bindings["missing"].([]any)
	if !ok {
		return Decision{}, fmt.Errorf("policy: eval: missing_scopes is %T, want a set", rs[0].Bindings["missing"])
	}
	hidden, ok := rs[0].Bindings["hidden"].(bool)
	if !ok {
		return Decision{}, fmt.Errorf("policy: eval: not_found is %T, want bool", rs[0].Bindings["hidden"])
	}
	d := Decision{Allow: allow, NotFound: hidden}
	if len(missing) > 0 {
		d.MissingScopes = make([]string, 0, len(missing))
		for _, m := range missing {
			s, ok := m.(string)
			if !ok {
				return Decision{}, fmt.Errorf("policy: eval: missing scope is %T, want string", m)
			}
			d.MissingScopes = append(d.MissingScopes, s)
		}
		slices.Sort(d.MissingScopes)
	}
	return d, nil
}

var noMetrics = metrics.NoOp()

// value builds the policy input as an AST value directly, which spares the
// conversion from Go values (or JSON) that rego.EvalInput would do.
func (in Input) value() ast.Value {
	scopes := make([]*ast.Term, len(in.Scopes))
	for i, s := range in.Scopes {
		scopes[i] = ast.StringTerm(s)
	}
	items := [][2]*ast.Term{
		ast.Item(ast.InternedTerm("method"), ast.StringTerm(in.Method)),
		ast.Item(ast.InternedTerm("path"), ast.StringTerm(in.Path)),
		ast.Item(ast.InternedTerm("scopes"), ast.ArrayTerm(scopes...)),
		ast.Item(ast.InternedTerm("agent_id"), ast.StringTerm(in.AgentID)),
		ast.Item(ast.InternedTerm("org_id"), ast.StringTerm(in.OrgID)),
		ast.Item(ast.InternedTerm("via"), ast.StringTerm(in.Via)),
	}
	if in.Target != nil {
		items = append(items, ast.Item(ast.InternedTerm("target"), ast.ObjectTerm(
			ast.Item(ast.InternedTerm("agent_id"), ast.StringTerm(in.Target.AgentID)),
			ast.Item(ast.InternedTerm("org_id"), ast.StringTerm(in.Target.OrgID)),
		)))
	}
	return ast.NewObject(items...)
}

func (d Decision) clone() Decision {
	d.MissingScopes = slices.Clone(d.MissingScopes)
	return d
}

// memoKey identifies a decision by its whole input; the scopes count as a set
// (the policy ignores their order and repeats). Every field is length-prefixed,
// so no value can pass for another field's.
func memoKey(in Input) string {
	b := make([]byte, 0, 128)
	field := func(s string) {
		b = strconv.AppendInt(b, int64(len(s)), 10)
		b = append(b, ':')
		b = append(b, s...)
	}
	field(in.Method)
	field(in.Path)
	field(in.AgentID)
	field(in.OrgID)
	field(in.Via)
	if in.Target != nil {
		b = append(b, 't')
		field(in.Target.AgentID)
		field(in.Target.OrgID)
	}
	b = append(b, 's')
	scopes := in.Scopes
	if !slices.IsSorted(scopes) {
		scopes = slices.Sorted(slices.Values(scopes))
	}
	for i, s := range scopes {
		if i > 0 && s == scopes[i-1] {
			continue
		}
		field(s)
	}
	return string(b)
}

func (e *engine) KnownScopes() []string { return slices.Clone(e.known) }

func (e *engine) RouteScopes(method, path string) ([]string, bool) {
	s, ok := e.routes[method+" "+path]
	return slices.Clone(s), ok
}

func (e *engine) Routes() []string {
	return slices.Sorted(maps.Keys(e.routes))
}
