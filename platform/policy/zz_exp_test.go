package policy

import (
	"context"
	"syscall"
	"testing"
	"time"

	"github.com/open-policy-agent/opa/v1/ast"
	"github.com/open-policy-agent/opa/v1/metrics"
	"github.com/open-policy-agent/opa/v1/rego"
	"github.com/open-policy-agent/opa/v1/storage"
	"github.com/open-policy-agent/opa/v1/topdown"
)

func cpuNow() time.Duration {
	var ru syscall.Rusage
	syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

const everyMod = `package agentidp.authz
default allow := false
required_scopes := data.scopes.routes[concat(" ", [input.method, input.path])]
allow if {
	required_scopes
	every s in required_scopes { s in input.scopes }
}
`

func prep(b *testing.B, q, alt string) (rego.PreparedEvalQuery, storage.Store) {
	bd, err := loadBundle()
	if err != nil {
		b.Fatal(err)
	}
	st := bd.store()
	opts := []func(*rego.Rego){rego.Query(q), rego.Store(st), rego.SetRegoVersion(ast.RegoV1)}
	if alt != "" {
		opts = append(opts, rego.Module("alt.rego", alt))
	} else {
		for _, m := range bd.modules {
			opts = append(opts, rego.ParsedModule(m))
		}
	}
	pq, err := rego.New(opts...).PrepareForEval(context.Background())
	if err != nil {
		b.Fatal(err)
	}
	return pq, st
}

func BenchmarkExp(b *testing.B) {
	in := Input{Method: "POST", Path: "/api/v1/agents/{agent_id}/credentials/{credential_id}/rotate",
		Scopes: []string{"agents:read", "agents:write", "credentials:read", "credentials:write"}, AgentID: "0b7c"}
	ctx := context.Background()
	cancel := topdown.NewCancel()
	noop := metrics.NoOp()
	cases := []struct {
		name string
		q    string
		alt  string
		txn  bool
		opt  func() []rego.EvalOption
	}{
		{"both", query, "", false, func() []rego.EvalOption { return []rego.EvalOption{rego.EvalParsedInput(in.value())} }},
		{"both-cancel-noop", query, "", false, func() []rego.EvalOption {
			return []rego.EvalOption{rego.EvalParsedInput(in.value()), rego.EvalExternalCancel(cancel), rego.EvalMetrics(noop)}
		}},
		{"allow-cancel-noop", "data.agentidp.authz.allow", "", false, func() []rego.EvalOption {
			return []rego.EvalOption{rego.EvalParsedInput(in.value()), rego.EvalExternalCancel(cancel), rego.EvalMetrics(noop)}
		}},
		{"every-cancel-noop", "data.agentidp.authz.allow", everyMod, false, func() []rego.EvalOption {
			return []rego.EvalOption{rego.EvalParsedInput(in.value()), rego.EvalExternalCancel(cancel), rego.EvalMetrics(noop)}
		}},
		{"trivial", "x := 1", "", false, func() []rego.EvalOption { return nil }},
		{"trivial-cancel-noop", "x := 1", "", false, func() []rego.EvalOption {
			return []rego.EvalOption{rego.EvalExternalCancel(cancel), rego.EvalMetrics(noop)}
		}},
	}
	for _, c := range cases {
		pq, _ := prep(b, c.q, c.alt)
		b.Run(c.name, func(b *testing.B) {
			b.ReportAllocs()
			c0 := cpuNow()
			n := 0
			for b.Loop() {
				n++
				if _, err := pq.Eval(ctx, c.opt()...); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64((cpuNow()-c0).Nanoseconds())/float64(n), "cpu-ns/op")
		})
	}
}
