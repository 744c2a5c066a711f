package app_test

import (
	"io"
	"slices"
	"strings"
	"testing"

	"github.com/getkin/kin-openapi/openapi3"
	"go.uber.org/fx"
	"go.uber.org/fx/fxevent"
	"go.uber.org/fx/fxtest"

	"github.com/agentidp/agentidp/cmd/agentidp/app"
	"github.com/agentidp/agentidp/platform/apidoc"
	"github.com/agentidp/agentidp/platform/httpserver"
	"github.com/agentidp/agentidp/platform/testenv"
)

// The OpenAPI document and the router agree both ways: every route the full server mounts
// is in the document with its method, and every path and method of the document is
// mounted. The server serves the document, publicly, at /api/v1/openapi.json.
func TestOpenAPIMatchesRouter(t *testing.T) {
	var srv *httpserver.Server
	a := fxtest.New(t, app.Options(testenv.Config(t), fx.Populate(&srv)),
		fx.WithLogger(func() fxevent.Logger { return fxevent.NopLogger }))
	a.RequireStart()
	t.Cleanup(a.RequireStop)

	raw, err := apidoc.JSON()
	if err != nil {
		t.Fatal(err)
	}
	doc, err := openapi3.NewLoader().LoadFromData(raw)
	if err != nil {
		t.Fatal(err)
	}
	var documented []string
	for path, item := range doc.Paths.Map() {
		for method := range item.Operations() {
			documented = append(documented, method+" "+path)
		}
	}
	mounted := srv.Routes()
	slices.Sort(documented)
	slices.Sort(mounted)
	for _, r := range mounted {
		if _, found := slices.BinarySearch(documented, r); !found {
			t.Errorf("mounted but not in the OpenAPI document: %s", r)
		}
	}
	for _, r := range documented {
		if _, found := slices.BinarySearch(mounted, r); !found {
			t.Errorf("in the OpenAPI document but not mounted: %s", r)
		}
	}
	if len(mounted) < 40 {
		t.Fatalf("only %d routes mounted: %v", len(mounted), mounted)
	}

	resp, err := testenv.Client.Get(srv.URL() + apidoc.Path)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != 200 || !strings.HasPrefix(resp.Header.Get("Content-Type"), "application/json") || string(body) != string(raw) {
		t.Fatalf("GET %s: %d %s", apidoc.Path, resp.StatusCode, resp.Header.Get("Content-Type"))
	}
	if _, err := openapi3.NewLoader().LoadFromData(body); err != nil {
		t.Fatal(err)
	}
}
