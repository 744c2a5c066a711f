package checks

import (
	"go/ast"
	"go/parser"
	"go/token"
	"io/fs"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	promparser "github.com/prometheus/prometheus/promql/parser"
)

// serverSources are the directories whose Go sources define the server's metrics.
var serverSources = []string{"../../modules", "../../platform", "../../cmd"}

// prometheusSeries are series Prometheus makes itself for every scrape target.
var prometheusSeries = []string{"up", "scrape_duration_seconds", "scrape_samples_scraped"}

// exportedMetrics scans the server's non-test Go sources for prometheus.*Opts literals
// (Namespace, Subsystem, Name) and returns every series name they export (histograms:
// _bucket, _sum, _count); the Go and process collectors, when the sources register them,
// add their series as a registry of the same collectors gathers them here.
func exportedMetrics(t *testing.T) map[string]bool {
	t.Helper()
	names := map[string]bool{}
	goColl, procColl := false, false
	fset := token.NewFileSet()
	for _, dir := range serverSources {
		err := filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
			if err != nil || d.IsDir() || !strings.HasSuffix(path, ".go") || strings.HasSuffix(path, "_test.go") {
				return err
			}
			f, err := parser.ParseFile(fset, path, nil, 0)
			if err != nil {
				return err
			}
			ast.Inspect(f, func(n ast.Node) bool {
				switch n := n.(type) {
				case *ast.SelectorExpr:
					if id, ok := n.X.(*ast.Ident); ok && id.Name == "collectors" {
						goColl = goColl || n.Sel.Name == "NewGoCollector"
						procColl = procColl || n.Sel.Name == "NewProcessCollector"
					}
				case *ast.CompositeLit:
					sel, ok := n.Type.(*ast.SelectorExpr)
					if !ok || !strings.HasSuffix(sel.Sel.Name, "Opts") {
						return true
					}
					if id, ok := sel.X.(*ast.Ident); !ok || id.Name != "prometheus" {
						return true
					}
					fields := map[string]string{}
					for _, e := range n.Elts {
						kv, ok := e.(*ast.KeyValueExpr)
						if !ok {
							continue
						}
						key, _ := kv.Key.(*ast.Ident)
						lit, ok := kv.Value.(*ast.BasicLit)
						if key == nil || !ok || lit.Kind != token.STRING {
							continue
						}
						v, _ := strconv.Unquote(lit.Value)
						fields[key.Name] = v
					}
					if fields["Name"] == "" {
						t.Errorf("%s: %s without a literal Name: the scan cannot see its series", fset.Position(n.Pos()), sel.Sel.Name)
						return true
					}
					name := prometheus.BuildFQName(fields["Namespace"], fields["Subsystem"], fields["Name"])
					names[name] = true
					if sel.Sel.Name == "HistogramOpts" || sel.Sel.Name == "SummaryOpts" {
						names[name+"_sum"], names[name+"_count"] = true, true
					}
					if sel.Sel.Name == "HistogramOpts" {
						names[name+"_bucket"] = true
					}
				}
				return true
			})
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
	}
	reg := prometheus.NewRegistry()
	if goColl {
		reg.MustRegister(collectors.NewGoCollector())
	}
	if procColl {
		reg.MustRegister(collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	}
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, mf := range mfs {
		names[mf.GetName()] = true
		if mf.GetType().String() == "HISTOGRAM" || mf.GetType().String() == "SUMMARY" {
			names[mf.GetName()+"_sum"], names[mf.GetName()+"_count"] = true, true
		}
		if mf.GetType().String() == "HISTOGRAM" {
			names[mf.GetName()+"_bucket"] = true
		}
	}
	for _, n := range prometheusSeries {
		names[n] = true
	}
	return names
}

// exprMetrics returns the metric names a PromQL expression selects.
func exprMetrics(expr string) ([]string, error) {
	e, err := promparser.NewParser(promparser.Options{}).ParseExpr(expr)
	if err != nil {
		return nil, err
	}
	var out []string
	promparser.Inspect(e, func(n promparser.Node, _ []promparser.Node) error {
		if vs, ok := n.(*promparser.VectorSelector); ok {
			name := vs.Name
			for _, m := range vs.LabelMatchers {
				if m.Name == "__name__" {
					name = m.Value
				}
			}
			if !slices.Contains(out, name) {
				out = append(out, name)
			}
		}
		return nil
	})
	return out, nil
}

// unexported returns the metrics of expr that the server does not export.
func unexported(t *testing.T, exported map[string]bool, expr string) []string {
	t.Helper()
	used, err := exprMetrics(expr)
	if err != nil {
		t.Errorf("%q: %v", expr, err)
		return nil
	}
	var missing []string
	for _, m := range used {
		if !exported[m] {
			missing = append(missing, m)
		}
	}
	return missing
}

func TestExportedMetricsScan(t *testing.T) {
	got := exportedMetrics(t)
	for _, want := range []string{
		"agentidp_http_requests_total", "agentidp_http_request_duration_seconds_bucket",
		"agentidp_audit_checkpoint_publish_failures_total", "agentidp_quota_refusals_total",
		"go_goroutines", "process_resident_memory_bytes", "up",
	} {
		if !got[want] {
			t.Errorf("scan misses %s", want)
		}
	}
	for _, bad := range []string{"agentidp_http_requests", "agentidp_audit_batch_size_total", "agentidp_quota_refusals_total_bucket"} {
		if got[bad] {
			t.Errorf("scan invents %s", bad)
		}
	}
	if m := unexported(t, got, `rate(agentidp_no_such_metric_total[5m]) / rate({__name__="agentidp_http_requests_total"}[5m])`); !slices.Equal(m, []string{"agentidp_no_such_metric_total"}) {
		t.Errorf("unexported: %v, want the made-up metric alone", m)
	}
}
