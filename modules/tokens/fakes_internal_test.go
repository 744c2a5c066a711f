package tokens

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"sync"
	"testing"
	"time"

	"github.com/uptrace/bun"
	"go.uber.org/fx/fxtest"
	"go.uber.org/zap"
	"go.uber.org/zap/zaptest"

	"github.com/agentidp/agentidp/modules/agents"
	"github.com/agentidp/agentidp/modules/credentials"
	"github.com/agentidp/agentidp/modules/orgs"
	"github.com/agentidp/agentidp/platform/audittrail"
	"github.com/agentidp/agentidp/platform/cache"
	"github.com/agentidp/agentidp/platform/config"
	"github.com/agentidp/agentidp/platform/vault"
)

// startRing builds a key ring as module.go does, its worker included, and starts it (kv
// nil: Vault mode off); it stops at the end of the test. The start's error is returned.
func startRing(t testing.TB, cfg *config.Config, db *bun.DB, rec audittrail.Recorder, c cache.Cache,
	kv vault.KV, log *zap.Logger) (*keyRing, error) {
	t.Helper()
	lc := fxtest.NewLifecycle(t)
	r := newModuleKeyRing(lc, cfg, db, newRepository(), rec, c, kv, log)
	if err := lc.Start(context.Background()); err != nil {
		return nil, err
	}
	t.Cleanup(func() { _ = lc.Stop(context.Background()) })
	return r, nil
}

// startRevocations builds a revocation list as module.go does, its workers included, and
// starts it; it stops at the end of the test.
func startRevocations(t testing.TB, db *bun.DB, c cache.Cache, log *zap.Logger) *revocationList {
	t.Helper()
	lc := fxtest.NewLifecycle(t)
	l := newModuleRevocationList(lc, db, newRepository(), c, log)
	lc.RequireStart()
	t.Cleanup(func() { _ = lc.Stop(context.Background()) })
	return l
}

// Fakes for the unit tests of this package. The integration tests (package tokens_test)
// use the real modules instead.

type fakeRecorder struct {
	mu     sync.Mutex
	events []audittrail.Event
}

func (f *fakeRecorder) RecordTx(_ context.Context, _ bun.Tx, e audittrail.Event) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.events = append(f.events, e)
	return nil
}

func (f *fakeRecorder) Record(ctx context.Context, e audittrail.Event) error {
	return f.RecordTx(ctx, bun.Tx{}, e)
}

type fakeAgents struct {
	mu sync.Mutex
	m  map[string]*agents.Agent
}

func (f *fakeAgents) Lookup(_ context.Context, id string) (*agents.Agent, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if a, ok := f.m[id]; ok {
		return a, nil
	}
	return nil, agents.ErrNotFound
}

type fakeOrgs struct {
	mu sync.Mutex
	m  map[string]*orgs.Org
}

func (f *fakeOrgs) Lookup(_ context.Context, id string) (*orgs.Org, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if o, ok := f.m[id]; ok {
		return o, nil
	}
	return nil, orgs.ErrNotFound
}

type fakeCreds struct {
	mu sync.Mutex
	m  map[string]credentials.State
}

func (f *fakeCreds) State(_ context.Context, id string) (credentials.State, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if s, ok := f.m[id]; ok {
		return s, nil
	}
	return credentials.State{}, credentials.ErrNotFound
}

// unitEnv is a key ring and validator on a real database (SQLite unless given) and the
// in-process cache, with fake agent and credential directories holding one active agent
// and credential.
type unitEnv struct {
	cfg    *config.Config
	db     *bun.DB
	ring   *keyRing
	revs   *revocationList
	val    *validator
	rec    *fakeRecorder
	agents *fakeAgents
	creds  *fakeCreds
	orgs   *fakeOrgs
	agent  string
	cred   string
}

const testIssuer = "https://idp.example.com"

// b64 is the JWS segment encoding (tests build hostile tokens with it).
var b64 = base64.RawURLEncoding

// unitConfig is the configuration the unit tests need, with a random master key.
func unitConfig(t testing.TB, alg string) *config.Config {
	cfg := &config.Config{Issuer: testIssuer, TokenTTL: time.Hour, SigningAlg: alg, MasterKey: make([]byte, 32)}
	if _, err := rand.Read(cfg.MasterKey); err != nil {
		t.Fatal(err)
	}
	return cfg
}

func newUnitEnv(t testing.TB, db *bun.DB, alg string) *unitEnv {
	t.Helper()
	cfg := unitConfig(t, alg)
	c := cache.NewMemory()
	t.Cleanup(func() { _ = c.Close() })
	log := zaptest.NewLogger(t)
	u := &unitEnv{cfg: cfg, db: db, rec: &fakeRecorder{},
		agent: "0191f0a4-1c2d-4e3f-8a4b-5c6d7e8f9a01", cred: "0191f0a4-1c2d-4e3f-8a4b-5c6d7e8f9a02"}
	u.orgs = &fakeOrgs{m: map[string]*orgs.Org{orgs.RootID: {ID: orgs.RootID, Status: orgs.StatusActive}}}
	u.agents = &fakeAgents{m: map[string]*agents.Agent{u.agent: {ID: u.agent, OrgID: orgs.RootID, Status: agents.StatusActive,
		AllowedScopes: []string{"agents:read"}}}}
	u.creds = &fakeCreds{m: map[string]credentials.State{u.cred: {Status: credentials.StatusActive}}}
	var err error
	if u.ring, err = startRing(t, cfg, db, u.rec, c, nil, log); err != nil {
		t.Fatal(err)
	}
	u.revs = startRevocations(t, db, c, log)
	u.val = newValidator(testIssuer, u.ring, u.revs, u.agents, u.creds, u.orgs, nil)
	return u
}

// claims returns honest claims for the env's agent and credential.
func (u *unitEnv) claims() *claims {
	return newClaims(testIssuer, orgs.RootID, u.agent, u.cred, testIssuer, "agents:read", "0191f0a4-1c2d-4e3f-8a4b-5c6d7e8f9a03",
		time.Now().Unix(), time.Hour)
}

// sign signs c with the key that signs now.
func (u *unitEnv) sign(t testing.TB, c *claims) string {
	t.Helper()
	k, err := u.ring.signingKey(time.Now())
	if err != nil {
		t.Fatal(err)
	}
	tok, err := k.signer.Sign(c)
	if err != nil {
		t.Fatal(err)
	}
	return tok
}
