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
	// Delegated is true when the caller's token carries an act claim: it acts for another
	// agent, and manages nothing.
	Delegated bool
	// Target describes the object the call acts on, for an object-level decision; nil for
	// the route-level decision made before the object is known.
	Target *Target
	// Change is what a create or an update sets; nil for other calls.
	Change *Change
}

// Target is what the policy knows of the object a call acts on.
type Target struct {
	// AgentID is the agent the object belongs to (for a token: its subject).
	AgentID string
	// ClientID is, for a token, its client: the agent it was issued to (the actor of a
	// delegated token; its subject otherwise). "" for other objects.
	ClientID string
	// OrgID is the organization the object belongs to; AllOrgs for a list over every one.
	OrgID string
	// Authority is, for a change to an agent or its credentials, the agent's whole
	// authority (see docs/security.md): the caller must hold all of it. It must not be nil
	// on those routes: the policy refuses a decision about managing an agent without it.
	Authority []string
	// Status and Scopes are, for a change that could lock an organization out, the agent's
	// status and allowed scopes.
	Status string
	Scopes []string
	// OtherHolders is, for a change that could lock an organization out, the number of
	// OTHER active agents of the target's organization holding each lock-out role
	// (Engine.Guardians) by name, counted inside the change's transaction under the
	// organization's lock. The policy refuses such a change when it is nil.
	OtherHolders map[string]int
	// CredentialsLeft is, for a credential revocation, how many active credentials the
	// agent keeps after it; the policy reads it on that route only.
	CredentialsLeft int
}

// Change is what a create or an update of an agent sets.
type Change struct {
	// AllowedScopes is the agent's new allowed scopes when ScopesSet.
	AllowedScopes []string
	ScopesSet     bool
	// Plan is the new plan; "" when not set.
	Plan string
	// Grants: the change sets grants on APIs.
	Grants bool
	// Delegates is the agent's new delegates (SPEC §13) when DelegatesSet.
	Delegates    []string
	DelegatesSet bool
}

// AllOrgs is the Target.OrgID of a list over every organization.
const AllOrgs = "*"

// Decision is the policy's answer.
type Decision struct {
	// Allow is true only when nothing below stands in the way.
	Allow bool
	// MissingScopes are the scopes the caller lacks, sorted: the route's, and for a change
	// what attenuation, the target's authority, plans or grants ask for; empty when allowed
	// and for an unknown route.
	MissingScopes []string
	// NotFound: the target is hidden from the caller (another organization's object):
	// answer as for a missing one.
	NotFound bool
	// Invalid lists fields the change may not set (400 validation_failed).
	Invalid []FieldError
	// Refused lists reasons to refuse that are not a missing scope (403).
	Refused []string
	// Conflicts lists why the change would break an invariant (409), e.g. lock-out.
	Conflicts []string
}

// FieldError is one field a change may not set, and why.
type FieldError struct {
	Field   string
	Message string
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
	// Guardians returns the lock-out roles by name (scopes.json "guardians"), for the
	// services that count their holders.
	Guardians() map[string]Guardian
	// RootOnly returns the scopes only agents of the root organization may hold
	// (scopes.json "root_only"), in the file's order.
	RootOnly() []string
}

const (
	// dataRoot is where DataFile is mounted: data.scopes.routes, data.scopes.scopes.
	dataRoot = "scopes"
	// query evaluates every output in one pass.
	query = "allow := data.agentidp.authz.allow; missing := data.agentidp.authz.missing_scopes; " +
		"hidden := data.agentidp.authz.not_found; invalid := data.agentidp.authz.invalid; " +
		"refused := data.agentidp.authz.refused; conflict := data.agentidp.authz.conflict"
)

// catalog is the content of policies.DataFile.
type catalog struct {
	Scopes       []string            `json:"scopes"`
	RootOrg      string              `json:"root_org"`
	RootOnly     []string            `json:"root_only"`
	Guardians    map[string]Guardian `json:"guardians"`
	Routes       map[string][]string `json:"routes"`
	OwnOrgRoutes map[string][]string `json:"own_org_routes"`
}

// Guardian is a lock-out role: the last active agent of an organization holding all its
// scopes cannot be suspended, decommissioned, lose them or its last active credential.
type Guardian struct {
	// Scopes are the scopes that make an agent a holder of the role.
	Scopes []string `json:"scopes"`
	// RootOnly: the role exists in the root organization only.
	RootOnly bool `json:"root_only"`
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
// not "METHOD /path", a scope that is not known, a guardian or alternative that names
// nothing.
func (c catalog) validate() error {
	if len(c.Scopes) == 0 {
		return errors.New("no known scopes")
	}
	if len(c.Routes) == 0 {
		return errors.New("no routes")
	}
	var errs []error
	known := func(where, s string) {
		if !slices.Contains(c.Scopes, s) {
			errs = append(errs, fmt.Errorf("%s: unknown scope %q", where, s))
		}
	}
	for route, scopes := range c.Routes {
		method, path, ok := strings.Cut(route, " ")
		if !ok || method == "" || method != strings.ToUpper(method) || !strings.HasPrefix(path, "/") || strings.Contains(path, " ") {
			errs = append(errs, fmt.Errorf("route %q: want \"METHOD /template\"", route))
		}
		if len(scopes) == 0 {
			errs = append(errs, fmt.Errorf("route %q: no scopes", route))
		}
		for _, s := range scopes {
			known(fmt.Sprintf("route %q", route), s)
		}
	}
	for route, scopes := range c.OwnOrgRoutes {
		if _, ok := c.Routes[route]; !ok {
			errs = append(errs, fmt.Errorf("own_org_routes %q: not in routes", route))
		}
		for _, s := range scopes {
			known(fmt.Sprintf("own_org_routes %q", route), s)
		}
	}
	if c.RootOrg == "" {
		errs = append(errs, errors.New("no root_org"))
	}
	for _, s := range c.RootOnly {
		known("root_only", s)
	}
	if len(c.Guardians) == 0 {
		errs = append(errs, errors.New("no guardians"))
	}
	for name, g := range c.Guardians {
		if len(g.Scopes) == 0 {
			errs = append(errs, fmt.Errorf("guardian %q: no scopes", name))
		}
		for _, s := range g.Scopes {
			known(fmt.Sprintf("guardian %q", name), s)
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
	cat    catalog

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
		cat:     b.catalog,
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
	if e.memo == nil || !in.memoizable() {
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
	b := rs[0].Bindings
	var d Decision
	var ok bool
	if d.Allow, ok = b["allow"].(bool); !ok {
		return Decision{}, fmt.Errorf("policy: eval: allow is %T, want bool", b["allow"])
	}
	if d.NotFound, ok = b["hidden"].(bool); !ok {
		return Decision{}, fmt.Errorf("policy: eval: not_found is %T, want bool", b["hidden"])
	}
	if d.MissingScopes, err = stringSet(b["missing"], "missing_scopes"); err != nil {
		return Decision{}, err
	}
	if d.Refused, err = stringSet(b["refused"], "refused"); err != nil {
		return Decision{}, err
	}
	if d.Conflicts, err = stringSet(b["conflict"], "conflict"); err != nil {
		return Decision{}, err
	}
	invalid, ok := b["invalid"].([]any)
	if !ok {
		return Decision{}, fmt.Errorf("policy: eval: invalid is %T, want a set", b["invalid"])
	}
	for _, v := range invalid {
		m, ok := v.(map[string]any)
		f, okF := m["field"].(string)
		msg, okM := m["message"].(string)
		if !ok || !okF || !okM {
			return Decision{}, fmt.Errorf("policy: eval: invalid holds %v, want {field, message}", v)
		}
		d.Invalid = append(d.Invalid, FieldError{Field: f, Message: msg})
	}
	slices.SortFunc(d.Invalid, func(a, b FieldError) int { return strings.Compare(a.Field+a.Message, b.Field+b.Message) })
	return d, nil
}

// stringSet reads a set of strings the query bound, sorted; nil when empty.
func stringSet(v any, name string) ([]string, error) {
	set, ok := v.([]any)
	if !ok {
		return nil, fmt.Errorf("policy: eval: %s is %T, want a set", name, v)
	}
	if len(set) == 0 {
		return nil, nil
	}
	out := make([]string, 0, len(set))
	for _, m := range set {
		s, ok := m.(string)
		if !ok {
			return nil, fmt.Errorf("policy: eval: %s holds %T, want string", name, m)
		}
		out = append(out, s)
	}
	slices.Sort(out)
	return out, nil
}

var noMetrics = metrics.NoOp()

// value builds the policy input as an AST value directly, which spares the
// conversion from Go values (or JSON) that rego.EvalInput would do.
func (in Input) value() ast.Value {
	items := [][2]*ast.Term{
		ast.Item(ast.InternedTerm("method"), ast.StringTerm(in.Method)),
		ast.Item(ast.InternedTerm("path"), ast.StringTerm(in.Path)),
		ast.Item(ast.InternedTerm("scopes"), stringsTerm(in.Scopes)),
		ast.Item(ast.InternedTerm("agent_id"), ast.StringTerm(in.AgentID)),
		ast.Item(ast.InternedTerm("org_id"), ast.StringTerm(in.OrgID)),
		ast.Item(ast.InternedTerm("via"), ast.StringTerm(in.Via)),
		ast.Item(ast.InternedTerm("delegated"), ast.BooleanTerm(in.Delegated)),
	}
	if t := in.Target; t != nil {
		target := [][2]*ast.Term{
			ast.Item(ast.InternedTerm("agent_id"), ast.StringTerm(t.AgentID)),
			ast.Item(ast.InternedTerm("client_id"), ast.StringTerm(t.ClientID)),
			ast.Item(ast.InternedTerm("org_id"), ast.StringTerm(t.OrgID)),
			ast.Item(ast.InternedTerm("status"), ast.StringTerm(t.Status)),
			ast.Item(ast.InternedTerm("scopes"), stringsTerm(t.Scopes)),
			ast.Item(ast.InternedTerm("credentials_left"), ast.IntNumberTerm(t.CredentialsLeft)),
		}
		if t.Authority != nil {
			target = append(target, ast.Item(ast.InternedTerm("authority"), stringsTerm(t.Authority)))
		}
		if t.OtherHolders != nil {
			holders := make([][2]*ast.Term, 0, len(t.OtherHolders))
			for role, n := range t.OtherHolders {
				holders = append(holders, ast.Item(ast.StringTerm(role), ast.IntNumberTerm(n)))
			}
			target = append(target, ast.Item(ast.InternedTerm("other_holders"), ast.ObjectTerm(holders...)))
		}
		items = append(items, ast.Item(ast.InternedTerm("target"), ast.ObjectTerm(target...)))
	}
	if c := in.Change; c != nil {
		change := [][2]*ast.Term{
			ast.Item(ast.InternedTerm("grants"), ast.BooleanTerm(c.Grants)),
		}
		if c.ScopesSet {
			change = append(change, ast.Item(ast.InternedTerm("allowed_scopes"), stringsTerm(c.AllowedScopes)))
		}
		if c.Plan != "" {
			change = append(change, ast.Item(ast.InternedTerm("plan"), ast.StringTerm(c.Plan)))
		}
		if c.DelegatesSet {
			change = append(change, ast.Item(ast.InternedTerm("delegates"), stringsTerm(c.Delegates)))
		}
		items = append(items, ast.Item(ast.InternedTerm("change"), ast.ObjectTerm(change...)))
	}
	return ast.NewObject(items...)
}

func stringsTerm(ss []string) *ast.Term {
	terms := make([]*ast.Term, len(ss))
	for i, s := range ss {
		terms[i] = ast.StringTerm(s)
	}
	return ast.ArrayTerm(terms...)
}

// memoizable: the decisions of hot paths (route level, and a target known by its ids
// only) are memoized; a decision about a change carries facts that rarely repeat.
func (in Input) memoizable() bool {
	if in.Change != nil {
		return false
	}
	t := in.Target
	return t == nil || (t.Authority == nil && t.OtherHolders == nil && t.Status == "" && t.Scopes == nil && t.CredentialsLeft == 0)
}

func (d Decision) clone() Decision {
	d.MissingScopes = slices.Clone(d.MissingScopes)
	d.Invalid = slices.Clone(d.Invalid)
	d.Refused = slices.Clone(d.Refused)
	d.Conflicts = slices.Clone(d.Conflicts)
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
	if in.Delegated {
		b = append(b, 'd')
	}
	if in.Target != nil {
		b = append(b, 't')
		field(in.Target.AgentID)
		field(in.Target.ClientID)
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

func (e *engine) KnownScopes() []string { return slices.Clone(e.cat.Scopes) }

func (e *engine) RouteScopes(method, path string) ([]string, bool) {
	s, ok := e.cat.Routes[method+" "+path]
	return slices.Clone(s), ok
}

func (e *engine) Guardians() map[string]Guardian {
	out := make(map[string]Guardian, len(e.cat.Guardians))
	for name, g := range e.cat.Guardians {
		out[name] = Guardian{Scopes: slices.Clone(g.Scopes), RootOnly: g.RootOnly}
	}
	return out
}

func (e *engine) RootOnly() []string { return slices.Clone(e.cat.RootOnly) }

func (e *engine) Routes() []string {
	return slices.Sorted(maps.Keys(e.cat.Routes))
}
