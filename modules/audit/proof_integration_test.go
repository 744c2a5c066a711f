package audit_test

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/transparency-dev/formats/log"
	"github.com/transparency-dev/merkle/proof"
	"github.com/transparency-dev/merkle/rfc6962"
	"github.com/uptrace/bun"
	"go.uber.org/fx"

	"github.com/agentidp/agentidp/modules/audit"
	"github.com/agentidp/agentidp/platform/audittrail"
	"github.com/agentidp/agentidp/platform/testenv"
)

// checkpointEnvs are two replicas sharing one store, signing checkpoints every second.
func checkpointEnvs(t *testing.T, b testenv.Backend, opts ...fx.Option) (*env, *env) {
	t.Helper()
	cfg := testenv.Config(t)
	cfg.AuditCheckpointInterval = time.Second
	a := newEnvCfg(t, b, cfg, opts...)
	return a, newReplica(t, a)
}

// latestCheckpoint waits until e serves a checkpoint of size, and returns it opened.
func latestCheckpoint(t *testing.T, e *env, token, vkey string, size uint64) (*log.Checkpoint, string) {
	t.Helper()
	var cp *log.Checkpoint
	var text string
	waitFor(t, fmt.Sprintf("a checkpoint of size %d", size), func() bool {
		resp, body := get(t, e, "/api/v1/audit/checkpoint", token)
		if resp.StatusCode != http.StatusOK {
			return false
		}
		if ct := resp.Header.Get("Content-Type"); !strings.HasPrefix(ct, "text/plain") {
			t.Fatalf("checkpoint content type %q", ct)
		}
		c, _, err := audit.ParseCheckpoint(body, vkey)
		if err != nil {
			t.Fatalf("checkpoint %q: %v", body, err)
		}
		cp, text = c, string(body)
		return c.Size == size
	})
	return cp, text
}

// leaves are the Merkle leaf hashes of the stored events, in seq order.
func leaves(t *testing.T, db bun.IDB) [][]byte {
	t.Helper()
	var out [][]byte
	for _, r := range rows(t, db) {
		raw, err := hex.DecodeString(r.Hash)
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, rfc6962.DefaultHasher.HashLeaf(raw))
	}
	return out
}

// mth is RFC 9162's Merkle tree hash over leaf hashes, from its definition.
func mth(l [][]byte) []byte {
	switch len(l) {
	case 0:
		s := sha256.Sum256(nil)
		return s[:]
	case 1:
		return l[0]
	}
	k := 1
	for k*2 < len(l) {
		k *= 2
	}
	s := sha256.Sum256(append(append([]byte{1}, mth(l[:k])...), mth(l[k:])...))
	return s[:]
}

type inclusion struct {
	LeafIndex uint64   `json:"leaf_index"`
	TreeSize  uint64   `json:"tree_size"`
	Hashes    [][]byte `json:"hashes"`
}

// Two replicas append to one chain through both writers; the checkpoints they sign form
// one series under one key, and every inclusion and consistency proof either serves checks
// out with the library's own verifier, against roots computed here from the events.
func TestIntegrationProofsAcrossReplicas(t *testing.T) {
	testenv.ForEachBackend(t, func(t *testing.T, b testenv.Backend) {
		a, c := checkpointEnvs(t, b)
		ctx := ctxT(t)
		orgs := []string{rootOrg, orgX}
		for i := range 23 {
			ev := audittrail.Event{Action: "token.issued", OrgID: orgs[i%2], TargetType: audittrail.TargetToken, TargetID: fmt.Sprint(i)}
			var err error
			switch i % 3 {
			case 0:
				err = a.rec.Record(ctx, ev)
			case 1:
				err = c.rec.Record(ctx, ev)
			default:
				err = b.DB.RunInTx(ctx, nil, func(ctx context.Context, tx bun.Tx) error { return a.rec.RecordTx(ctx, tx, ev) })
			}
			if err != nil {
				t.Fatal(err)
			}
		}
		resp, keyA := get(t, a, "/api/v1/audit/checkpoint/key", "") // public
		_, keyC := get(t, c, "/api/v1/audit/checkpoint/key", "")
		if resp.StatusCode != http.StatusOK || string(keyA) != string(keyC) {
			t.Fatalf("verifier keys: %d %q / %q", resp.StatusCode, keyA, keyC)
		}
		vkey := strings.TrimSpace(string(keyA))
		admin := a.bearers.Issue(agentA, "audit:read", "orgs:admin")
		cp, old := latestCheckpoint(t, a, admin, vkey, 23)
		l := leaves(t, b.DB)
		if root := mth(l); string(root) != string(cp.Hash) {
			t.Fatalf("checkpoint root %x, computed %x", cp.Hash, root)
		}

		for seq := 1; seq <= 23; seq++ {
			e := []*env{a, c}[seq%2]
			resp, body := get(t, e, fmt.Sprintf("/api/v1/audit/proof/inclusion?seq=%d", seq), admin)
			var p inclusion
			if resp.StatusCode != http.StatusOK || json.Unmarshal(body, &p) != nil {
				t.Fatalf("inclusion %d: %d %s", seq, resp.StatusCode, body)
			}
			if err := proof.VerifyInclusion(rfc6962.DefaultHasher, p.LeafIndex, p.TreeSize, l[seq-1], p.Hashes, cp.Hash); err != nil || p.TreeSize != 23 {
				t.Fatalf("inclusion of seq %d: %v (%+v)", seq, err, p)
			}
		}

		for i := range 9 {
			if err := c.rec.Record(ctx, audittrail.Event{Action: "token.issued", OrgID: orgX, TargetID: fmt.Sprint("more", i)}); err != nil {
				t.Fatal(err)
			}
		}
		cp2, _ := latestCheckpoint(t, c, admin, vkey, 32)
		l = leaves(t, b.DB)
		if _, body := get(t, c, "/api/v1/audit/checkpoint?tree_size=23", admin); string(body) != old {
			t.Fatalf("checkpoint of size 23 now reads %q, was %q", body, old)
		}
		for _, ft := range [][2]int{{23, 32}, {1, 32}, {7, 32}, {16, 23}, {5, 9}, {32, 32}} {
			resp, body := get(t, a, fmt.Sprintf("/api/v1/audit/proof/consistency?from=%d&to=%d", ft[0], ft[1]), admin)
			var p struct{ Hashes [][]byte }
			if resp.StatusCode != http.StatusOK || json.Unmarshal(body, &p) != nil {
				t.Fatalf("consistency %v: %d %s", ft, resp.StatusCode, body)
			}
			if err := proof.VerifyConsistency(rfc6962.DefaultHasher, uint64(ft[0]), uint64(ft[1]), p.Hashes, mth(l[:ft[0]]), mth(l[:ft[1]])); err != nil {
				t.Fatalf("consistency %v: %v", ft, err)
			}
		}
		if err := proof.VerifyConsistency(rfc6962.DefaultHasher, 23, 32, mustConsistency(t, a, admin, 23, 32), cp.Hash, cp2.Hash); err != nil {
			t.Fatalf("the two signed checkpoints: %v", err)
		}

		// An org member proves its own org's events only; another org's is a 404, as a
		// missing one.
		member := a.bearers.IssueIn(orgX, agentB, "audit:read")
		if resp, _ := get(t, a, "/api/v1/audit/proof/inclusion?seq=2", member); resp.StatusCode != http.StatusOK {
			t.Fatalf("own org's event: %d", resp.StatusCode)
		}
		for _, seq := range []int{1, 3} {
			if resp, body := get(t, a, fmt.Sprintf("/api/v1/audit/proof/inclusion?seq=%d&tree_size=32", seq), member); resp.StatusCode != http.StatusNotFound {
				t.Fatalf("root's event %d to an org member: %d %s", seq, resp.StatusCode, body)
			}
		}
	})
}

func mustConsistency(t *testing.T, e *env, token string, from, to int) [][]byte {
	t.Helper()
	resp, body := get(t, e, fmt.Sprintf("/api/v1/audit/proof/consistency?from=%d&to=%d", from, to), token)
	var p struct{ Hashes [][]byte }
	if resp.StatusCode != http.StatusOK || json.Unmarshal(body, &p) != nil {
		t.Fatalf("consistency: %d %s", resp.StatusCode, body)
	}
	return p.Hashes
}

// Bad proof and checkpoint parameters are 400 naming the field; sizes past the latest
// checkpoint too; a size that was never checkpointed is 404. The routes want audit:read.
func TestIntegrationProofParameters(t *testing.T) {
	b := testenv.SQLiteBackend(t)
	a, _ := checkpointEnvs(t, b)
	for i := range 4 {
		if err := a.rec.Record(ctxT(t), audittrail.Event{Action: "token.issued", TargetID: fmt.Sprint(i)}); err != nil {
			t.Fatal(err)
		}
	}
	_, key := get(t, a, "/api/v1/audit/checkpoint/key", "")
	admin := a.bearers.Issue(agentA, "audit:read", "orgs:admin")
	latestCheckpoint(t, a, admin, strings.TrimSpace(string(key)), 4)
	for path, want := range map[string]int{
		"/api/v1/audit/proof/inclusion":                      400,
		"/api/v1/audit/proof/inclusion?seq=0":                400,
		"/api/v1/audit/proof/inclusion?seq=x":                400,
		"/api/v1/audit/proof/inclusion?seq=1&seq=2":          400,
		"/api/v1/audit/proof/inclusion?seq=1&size=2":         400,
		"/api/v1/audit/proof/inclusion?seq=3&tree_size=2":    400,
		"/api/v1/audit/proof/inclusion?seq=1&tree_size=5":    400,
		"/api/v1/audit/proof/inclusion?seq=5":                400,
		"/api/v1/audit/proof/inclusion?seq=4&tree_size=4":    200,
		"/api/v1/audit/proof/consistency?from=1":             400,
		"/api/v1/audit/proof/consistency?from=3&to=2":        400,
		"/api/v1/audit/proof/consistency?from=0&to=2":        400,
		"/api/v1/audit/proof/consistency?from=1&to=5":        400,
		"/api/v1/audit/proof/consistency?from=-1&to=2":       400,
		"/api/v1/audit/proof/consistency?from=2&to=2":        200,
		"/api/v1/audit/checkpoint?tree_size=3":               404,
		"/api/v1/audit/checkpoint?tree_size=abc":             400,
		"/api/v1/audit/checkpoint?tree_size=4":               200,
		"/api/v1/audit/checkpoint?size=4":                    400,
		"/api/v1/audit/proof/consistency?from=1&to=99999999": 400,
	} {
		resp, body := get(t, a, path, admin)
		if resp.StatusCode != want {
			t.Errorf("%s: %d %s, want %d", path, resp.StatusCode, body, want)
		}
		if want == 400 && !strings.Contains(string(body), "validation_failed") {
			t.Errorf("%s: %s", path, body)
		}
	}
	if _, body := get(t, a, "/api/v1/audit/proof/consistency?from=2&to=2", admin); !strings.Contains(string(body), `"hashes":[]`) {
		t.Errorf("from = to: %s, want an empty proof", body)
	}
	other := a.bearers.Issue(agentA, "agents:read")
	for _, path := range []string{"/api/v1/audit/checkpoint", "/api/v1/audit/proof/inclusion?seq=1", "/api/v1/audit/proof/consistency?from=1&to=2"} {
		if resp, _ := get(t, a, path, ""); resp.StatusCode != http.StatusUnauthorized {
			t.Errorf("%s without a token: %d", path, resp.StatusCode)
		}
		if resp, _ := get(t, a, path, other); resp.StatusCode != http.StatusForbidden {
			t.Errorf("%s without audit:read: %d", path, resp.StatusCode)
		}
	}
}

// Each new checkpoint is POSTed to AGENTIDP_AUDIT_CHECKPOINT_URL; a failing receiver is
// retried (with a backoff) and counted, and appends go on meanwhile.
func TestIntegrationCheckpointPublished(t *testing.T) {
	var mu sync.Mutex
	var got []string
	fails := 2
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		mu.Lock()
		defer mu.Unlock()
		if fails > 0 {
			fails--
			http.Error(w, "down", http.StatusBadGateway)
			return
		}
		if r.Method == http.MethodPost && strings.HasPrefix(r.Header.Get("Content-Type"), "text/plain") {
			got = append(got, string(body))
		}
	}))
	t.Cleanup(srv.Close)
	b := testenv.SQLiteBackend(t)
	cfg := testenv.Config(t)
	cfg.AuditCheckpointInterval = time.Second
	cfg.AuditCheckpointURL = srv.URL
	a := newEnvCfg(t, b, cfg)
	if err := a.rec.Record(ctxT(t), audittrail.Event{Action: "token.issued"}); err != nil {
		t.Fatal(err)
	}
	_, key := get(t, a, "/api/v1/audit/checkpoint/key", "")
	waitFor(t, "a published checkpoint", func() bool {
		mu.Lock()
		defer mu.Unlock()
		return len(got) > 0
	})
	mu.Lock()
	first := got[0]
	mu.Unlock()
	if cp, _, err := audit.ParseCheckpoint([]byte(first), strings.TrimSpace(string(key))); err != nil || cp.Size != 1 {
		t.Fatalf("published %q: %v", first, err)
	}
	if n := counter(t, a.reg, "agentidp_audit_checkpoint_publish_failures_total"); n != 2 {
		t.Fatalf("publish failures counted %v, want 2", n)
	}
}

func counter(t *testing.T, reg *prometheus.Registry, name string) float64 {
	t.Helper()
	fams, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range fams {
		if f.GetName() == name && len(f.GetMetric()) > 0 {
			return f.GetMetric()[0].GetCounter().GetValue()
		}
	}
	return 0
}
