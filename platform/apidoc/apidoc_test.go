package apidoc_test

import (
	"context"
	"testing"

	"github.com/getkin/kin-openapi/openapi3"

	"github.com/agentidp/agentidp/platform/apidoc"
)

// The served document is valid OpenAPI 3.1 (kin-openapi's loader and validator, which
// support 3.1), every operation has an operationId and responses, and every schema
// reference resolves.
func TestDocumentIsValidOpenAPI31(t *testing.T) {
	raw, err := apidoc.JSON()
	if err != nil {
		t.Fatal(err)
	}
	doc, err := openapi3.NewLoader().LoadFromData(raw)
	if err != nil {
		t.Fatalf("loading: %v", err)
	}
	if err := doc.Validate(context.Background()); err != nil {
		t.Fatalf("validating: %v", err)
	}
	if !doc.IsOpenAPI31OrLater() || doc.OpenAPI != "3.1.0" {
		t.Fatalf("openapi %q, want 3.1.0", doc.OpenAPI)
	}
	ids := map[string]string{}
	for path, item := range doc.Paths.Map() {
		for method, op := range item.Operations() {
			if op.OperationID == "" || op.Responses == nil || op.Responses.Len() == 0 {
				t.Errorf("%s %s: wants an operationId and responses", method, path)
			}
			if other, dup := ids[op.OperationID]; dup {
				t.Errorf("operationId %s on %s %s and %s", op.OperationID, method, path, other)
			}
			ids[op.OperationID] = method + " " + path
		}
	}
}

// A broken document fails the validation above (the test can fail).
func TestBrokenDocumentFails(t *testing.T) {
	bad := []byte(`{"openapi":"3.1.0","info":{"title":"x","version":"1"},"paths":{"/a":{"get":{"responses":{"200":{"description":"ok","content":{"application/json":{"schema":{"$ref":"#/components/schemas/Missing"}}}}}}}}}`)
	if doc, err := openapi3.NewLoader().LoadFromData(bad); err == nil && doc.Validate(context.Background()) == nil {
		t.Fatal("a document with a dangling reference validated")
	}
}
