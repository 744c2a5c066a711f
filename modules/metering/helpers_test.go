package metering_test

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/uptrace/bun"
	"go.uber.org/fx"

	"github.com/agentidp/agentidp/modules/agents"
	"github.com/agentidp/agentidp/modules/metering"
	"github.com/agentidp/agentidp/platform/audittrail"
	"github.com/agentidp/agentidp/platform/config"
	"github.com/agentidp/agentidp/platform/testenv"
)

// fakeDirectory stands in for the agents module's Directory.
type fakeDirectory struct {
	mu     sync.Mutex
	agents map[string]*agents.Agent
}

func newDirectory() *fakeDirectory { return &fakeDirectory{agents: map[string]*agents.Agent{}} }

func (d *fakeDirectory) Lookup(_ context.Context, id string) (*agents.Agent, error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	if a, ok := d.agents[id]; ok {
		c := *a
		return &c, nil
	}
	return nil, agents.ErrNotFound
}

// add registers a new active agent on plan and returns its id.
func (d *fakeDirectory) add(plan agents.Plan) string {
	id := uuid.NewString()
	d.mu.Lock()
	d.agents[id] = &agents.Agent{ID: id, OrgID: testenv.RootOrgID, Name: "agent", Status: agents.StatusActive, Plan: plan}
	d.mu.Unlock()
	return id
}

// fakeRecorder stands in for the audit module's Recorder.
type fakeRecorder struct {
	mu     sync.Mutex
	events []audittrail.Event
	fail   atomic.Bool
}

func (r *fakeRecorder) Record(_ context.Context, e audittrail.Event) error {
	if r.fail.Load() {
		return errors.New("audit store down")
	}
	r.mu.Lock()
	r.events = append(r.events, e)
	r.mu.Unlock()
	return nil
}

func (r *fakeRecorder) RecordTx(ctx context.Context, _ bun.Tx, e audittrail.Event) error {
	return r.Record(ctx, e)
}

// matching returns the recorded events with action and, when kind is not "", that
// details.kind.
func (r *fakeRecorder) matching(action, kind string) []audittrail.Event {
	r.mu.Lock()
	defer r.mu.Unlock()
	var out []audittrail.Event
	for _, e := range r.events {
		if e.Action == action && (kind == "" || e.Details["kind"] == kind) {
			out = append(out, e)
		}
	}
	return out
}

// fakeStatuses stands in for the agents module's status counts.
type fakeStatuses map[string]int

func (f fakeStatuses) CountByStatus(context.Context, string) (map[string]int, error) { return f, nil }

// clock is a settable test clock.
type clock struct{ t atomic.Pointer[time.Time] }

func newClock(t time.Time) *clock {
	c := &clock{}
	c.set(t)
	return c
}

func (c *clock) set(t time.Time)       { c.t.Store(&t) }
func (c *clock) now() time.Time        { return *c.t.Load() }
func mustTime(s string) time.Time      { t, _ := time.Parse(time.RFC3339, s); return t }
func monthKey(id, month string) string { return "monthly:tokens:" + id + ":" + month }

// env is one started app with the metering module and its fakes.
type env struct {
	*testenv.App
	Meter    metering.Meter
	Registry *prometheus.Registry
	Dir      *fakeDirectory
	Rec      *fakeRecorder
	Bearers  *testenv.Bearers
	B        testenv.Backend
}

type envOptions struct {
	cfg        *config.Config
	clock      *clock
	flushEvery time.Duration
	dir        *fakeDirectory // shared between replicas when set
	rec        *fakeRecorder
	statuses   agents.Census
}

func newEnv(t testing.TB, b testenv.Backend, o envOptions) *env {
	t.Helper()
	if o.cfg == nil {
		o.cfg = testenv.Config(t)
	}
	if o.dir == nil {
		o.dir = newDirectory()
	}
	if o.rec == nil {
		o.rec = &fakeRecorder{}
	}
	if o.flushEvery == 0 {
		o.flushEvery = time.Hour // tests flush explicitly
	}
	var now func() time.Time
	if o.clock != nil {
		now = o.clock.now
	}
	e := &env{Dir: o.dir, Rec: o.rec, Bearers: testenv.NewBearers(), B: b}
	opts := []fx.Option{
		metering.Module,
		metering.Tuning(o.flushEvery, now),
		fx.Provide(
			func() agents.Directory { return o.dir },
			func() audittrail.Recorder { return o.rec },
		),
		e.Bearers.Option(),
		fx.Populate(&e.Meter, &e.Registry),
	}
	// A nil Census (the default) makes agents_by_status null.
	opts = append(opts, fx.Provide(func() agents.Census { return o.statuses }))
	e.App = testenv.NewApp(t, o.cfg, b, opts...)
	return e
}

func ctxFor(t testing.TB) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	t.Cleanup(cancel)
	return ctx
}

// limited asserts err is a *metering.Limited with code and returns it.
func limited(t *testing.T, err error, code string) *metering.Limited {
	t.Helper()
	var l *metering.Limited
	if !errors.As(err, &l) {
		t.Fatalf("want *metering.Limited %s, got %v", code, err)
	}
	if l.Code != code {
		t.Fatalf("want code %s, got %s (%s)", code, l.Code, l.Detail)
	}
	return l
}

func (e *env) count(t *testing.T, key string) int64 {
	t.Helper()
	n, err := e.B.Cache.GetCount(ctxFor(t), key)
	if err != nil {
		t.Fatalf("GetCount %s: %v", key, err)
	}
	return n
}

func (e *env) flush(t *testing.T) {
	t.Helper()
	if err := metering.Flush(ctxFor(t), e.Meter); err != nil {
		t.Fatalf("flush: %v", err)
	}
}

// stored reads the persisted monthly count straight from the module's table.
func stored(t *testing.T, db *bun.DB, agentID, month string) int64 {
	t.Helper()
	var n int64
	err := db.NewRaw(`SELECT tokens_issued FROM usage_counters WHERE agent_id = ? AND month = ?`, agentID, month).Scan(ctxFor(t), &n)
	if err != nil {
		t.Fatalf("reading usage_counters: %v", err)
	}
	return n
}

// storedDay reads the persisted month-to-date of a day.
func storedDay(t *testing.T, db *bun.DB, agentID, day string) int64 {
	t.Helper()
	var n int64
	err := db.NewRaw(`SELECT month_to_date FROM usage_daily WHERE agent_id = ? AND day = ?`, agentID, day).Scan(ctxFor(t), &n)
	if err != nil {
		t.Fatalf("reading usage_daily: %v", err)
	}
	return n
}

// metric is the value of a counter series in the app's registry (0 when absent).
func (e *env) metric(t *testing.T, name string, labels map[string]string) float64 {
	t.Helper()
	mfs, err := e.Registry.Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, mf := range mfs {
		if mf.GetName() != name {
			continue
		}
	next:
		for _, m := range mf.GetMetric() {
			for _, lp := range m.GetLabel() {
				if v, ok := labels[lp.GetName()]; ok && v != lp.GetValue() {
					continue next
				}
			}
			return m.GetCounter().GetValue()
		}
	}
	return 0
}

// get calls the API with bearer (none when "") and decodes a JSON answer into out.
func (e *env) get(t *testing.T, path, bearer string, out any) int {
	t.Helper()
	req, _ := http.NewRequestWithContext(ctxFor(t), http.MethodGet, e.URL+path, nil)
	if bearer != "" {
		req.Header.Set("Authorization", "Bearer "+bearer)
	}
	resp, err := testenv.Client.Do(req)
	if err != nil {
		t.Fatalf("GET %s: %v", path, err)
	}
	defer resp.Body.Close()
	if out != nil {
		if err := json.NewDecoder(resp.Body).Decode(out); err != nil {
			t.Fatalf("GET %s: decoding: %v", path, err)
		}
	}
	return resp.StatusCode
}
