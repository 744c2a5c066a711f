// Package apidoc serves the OpenAPI 3.1 document of the whole API at GET
// /api/v1/openapi.json (public). The document is openapi.yaml beside this file, embedded
// and turned into JSON once at start; the server's tests check it against the mounted
// routes both ways and validate the answers they receive against it.
package apidoc

import (
	_ "embed"
	"encoding/json"
	"fmt"
	"net/http"

	"go.uber.org/fx"
	"gopkg.in/yaml.v3"

	"github.com/agentidp/agentidp/platform/httpserver"
)

// Path is where the document is served.
const Path = "/api/v1/openapi.json"

//go:embed openapi.yaml
var source []byte

// Source is the document as written (YAML).
func Source() []byte { return source }

// JSON is the document as served.
func JSON() ([]byte, error) {
	var doc any
	if err := yaml.Unmarshal(source, &doc); err != nil {
		return nil, fmt.Errorf("apidoc: openapi.yaml: %w", err)
	}
	return json.Marshal(doc)
}

// Module contributes the document's route.
var Module = fx.Module("apidoc", fx.Provide(httpserver.AsRoutes(routes)))

func routes() ([]httpserver.Route, error) {
	doc, err := JSON()
	if err != nil {
		return nil, err
	}
	h := http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		w.Header().Set("Cache-Control", "public, max-age=300")
		_, _ = w.Write(doc)
	})
	return []httpserver.Route{{Method: http.MethodGet, Path: Path, Auth: httpserver.AuthNone, Handler: h}}, nil
}
