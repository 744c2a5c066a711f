package audit_test

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"net/http"
	"strings"
	"sync"
	"testing"

	"github.com/uptrace/bun"
	"go.uber.org/fx"

	"github.com/agentidp/agentidp/modules/audit"
	"github.com/agentidp/agentidp/platform/audittrail"
	"github.com/agentidp/agentidp/platform/reqctx"
	"github.com/agentidp/agentidp/platform/testenv"
)

const (
	rootOrg = testenv.RootOrgID
	orgX    = "0191f0a4-1c2d-7e3f-8a4b-5c6d7e8f0001"
	orgY    = "0191f0a4-1c2d-7e3f-8a4b-5c6d7e8f0002"
	agentX  = "0191f0a4-1c2d-7e3f-8a4b-5c6d7e8f0a01" // an agent of org X
)

// fakeAgentOrgs is the agents module's audittrail.AgentOrgs: agentX is in org X. It notes
// whether each question came with a transaction.
type fakeAgentOrgs struct {
	mu    sync.Mutex
	asked []bool // per question: was a transaction given
}

func (f *fakeAgentOrgs) AgentOrg(_ context.Context, tx bun.IDB, agentID string) (string, error) {
	f.mu.Lock()
	f.asked = append(f.asked, tx != nil)
	f.mu.Unlock()
	if agentID == agentX {
		return orgX, nil
	}
	return "", nil
}

// An event's org: the one it names; else the org of the agent it concerns (AgentOrgs, asked
// within the transaction for RecordTx); else the calling agent's; else root's.
func TestIntegrationRecorderFillsTheOrg(t *testing.T) {
	testenv.ForEachBackend(t, func(t *testing.T, b testenv.Backend) {
		orgsOf := &fakeAgentOrgs{}
		e := newEnv(t, b, fx.Provide(func() audittrail.AgentOrgs { return orgsOf }))
		caller := reqctx.WithPrincipal(ctxT(t), &reqctx.Principal{AgentID: agentB, OrgID: orgY})
		for _, c := range []struct {
			name string
			ctx  context.Context
			ev   audittrail.Event
			want string
		}{
			{"named", caller, audittrail.Event{Action: "x.named", AgentID: agentX, OrgID: strings.ToUpper(orgY)}, orgY},
			{"the agent's", caller, audittrail.Event{Action: "x.agent", AgentID: agentX}, orgX},
			{"the caller's", caller, audittrail.Event{Action: "x.caller", AgentID: agentA}, orgY},
			{"the caller's, no agent", caller, audittrail.Event{Action: "x.caller2"}, orgY},
			{"the actor's", ctxT(t), audittrail.Event{Action: "x.actor", ActorID: agentX}, orgX},
			{"root's", ctxT(t), audittrail.Event{Action: "x.server"}, rootOrg},
			{"root's, unknown agent", ctxT(t), audittrail.Event{Action: "x.unknown", AgentID: agentA}, rootOrg},
		} {
			for _, tx := range []bool{true, false} {
				orgsOf.mu.Lock()
				orgsOf.asked = nil
				orgsOf.mu.Unlock()
				var err error
				if tx {
					err = b.DB.RunInTx(c.ctx, nil, func(ctx context.Context, tx bun.Tx) error { return e.rec.RecordTx(ctx, tx, c.ev) })
				} else {
					err = e.rec.Record(c.ctx, c.ev)
				}
				if err != nil {
					t.Fatalf("%s: %v", c.name, err)
				}
				var got string
				if err := b.DB.NewSelect().Table("audit_events").ColumnExpr("org_id").
					OrderExpr("seq DESC").Limit(1).Scan(ctxT(t), &got); err != nil {
					t.Fatal(err)
				}
				if got != c.want {
					t.Errorf("%s (in a transaction: %v): org %s, want %s", c.name, tx, got, c.want)
				}
				orgsOf.mu.Lock()
				for _, withTx := range orgsOf.asked {
					if withTx != tx {
						t.Errorf("%s: AgentOrgs asked with a transaction: %v, want %v", c.name, withTx, tx)
					}
				}
				orgsOf.mu.Unlock()
			}
		}
		if err := e.rec.Record(ctxT(t), audittrail.Event{Action: "x.bad", OrgID: "nope"}); !errors.Is(err, audit.ErrInvalidEvent) {
			t.Fatalf("an org_id that is not a UUID: %v", err)
		}
		mustVerify(t, e)
	})
}

// The list and the export hold only the caller's organization's events, unless the caller
// holds orgs:admin (then every organization's, or the one ?org_id= names). Another
// organization named by a caller without orgs:admin is answered as a missing one.
func TestIntegrationAuditIsolation(t *testing.T) {
	testenv.ForEachBackend(t, func(t *testing.T, b testenv.Backend) {
		e := newEnv(t, b)
		for org, n := range map[string]int{orgX: 3, orgY: 2, rootOrg: 4} {
			recordN(t, e, n, audittrail.Event{Action: "agent.updated", AgentID: agentA, OrgID: org})
		}
		inX := e.bearers.IssueIn(orgX, agentX, "audit:read")
		inRoot := e.bearers.Issue(agentA, "audit:read")
		admin := e.bearers.Issue(agentA, "audit:read", "orgs:admin")
		adminOfX := e.bearers.IssueIn(orgX, agentX, "audit:read", "orgs:admin") // cannot exist outside root; the policy still decides by scope

		for _, c := range []struct {
			token, query string
			status       int
			orgs         map[string]int
		}{
			{inX, "", 200, map[string]int{orgX: 3}},
			{inX, "org_id=" + orgX, 200, map[string]int{orgX: 3}},
			{inX, "org_id=" + strings.ToUpper(orgX), 200, map[string]int{orgX: 3}},
			{inX, "org_id=" + orgY, 404, nil},
			{inX, "org_id=" + rootOrg, 404, nil},
			{inX, "agent_id=" + agentA, 200, map[string]int{orgX: 3}},
			{inRoot, "", 200, map[string]int{rootOrg: 4}},
			{inRoot, "org_id=" + orgX, 404, nil},
			{admin, "", 200, map[string]int{orgX: 3, orgY: 2, rootOrg: 4}},
			{admin, "org_id=" + orgY, 200, map[string]int{orgY: 2}},
			{admin, "org_id=" + rootOrg, 200, map[string]int{rootOrg: 4}},
			{admin, "org_id=0191f0a4-1c2d-7e3f-8a4b-5c6d7e8f0999", 200, map[string]int{}},
			{adminOfX, "org_id=" + orgY, 200, map[string]int{orgY: 2}},
			{admin, "org_id=nope", 400, nil},
			{admin, "org_id=" + orgX + "&org_id=" + orgY, 400, nil},
		} {
			for _, path := range []string{"/api/v1/audit", "/api/v1/audit/export"} {
				u := path + "?" + c.query
				if path == "/api/v1/audit" {
					u += "&limit=200"
				}
				resp, body := get(t, e, u, c.token)
				if resp.StatusCode != c.status {
					t.Fatalf("%s: %d %s, want %d", u, resp.StatusCode, body, c.status)
				}
				if c.status == http.StatusNotFound && !strings.Contains(string(body), `"code":"not_found"`) {
					t.Fatalf("%s: %s", u, body)
				}
				if c.status != http.StatusOK {
					continue
				}
				got := map[string]int{}
				var items []map[string]any
				if path == "/api/v1/audit" {
					items = decode[page](t, body).Items
				} else {
					sc := bufio.NewScanner(bytes.NewReader(body))
					for sc.Scan() {
						items = append(items, decode[map[string]any](t, sc.Bytes()))
					}
				}
				for _, it := range items {
					org, _ := it["org_id"].(string)
					got[org]++
				}
				if len(got) != len(c.orgs) {
					t.Fatalf("%s: events by org %v, want %v", u, got, c.orgs)
				}
				for org, n := range c.orgs {
					if got[org] != n {
						t.Fatalf("%s: events by org %v, want %v", u, got, c.orgs)
					}
				}
			}
		}
	})
}
