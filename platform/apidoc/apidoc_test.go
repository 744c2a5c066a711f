package apidoc_test

import (
	"context"
	"encoding/json"
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

// The schemas whose rules are conditional or recursive judge sample bodies as the server's
// answers would be judged (JSON Schema 2020-12 validation, as for a 3.1 document): only a
// secret credential's answer carries client_secret, and act nests.
func TestSchemasJudgeSamples(t *testing.T) {
	raw, err := apidoc.JSON()
	if err != nil {
		t.Fatal(err)
	}
	doc, err := openapi3.NewLoader().LoadFromData(raw)
	if err != nil {
		t.Fatal(err)
	}
	const cred = `"credential_id":"01a23f0e-c00e-7a3f-ab8e-f6f59f39845a","agent_id":"01a23f0e-9c8e-7018-8f6c-f18ce045dca1","status":"active","rotated_from":null,"created_at":"2026-12-04T03:17:41Z","expires_at":null,"revoked_at":null,"last_used_at":null,"client_id":"01a23f0e-9c8e-7018-8f6c-f18ce045dca1"`
	const secret = `"client_secret":"sk_live_0123456789012345678901234567890123456789abc"`
	cases := []struct {
		schema, body string
		ok           bool
	}{
		{"IssuedCredential", `{"type":"secret","secret_prefix":"sk_live_0123",` + cred + `,` + secret + `}`, true},
		{"IssuedCredential", `{"type":"secret","secret_prefix":"sk_live_0123",` + cred + `}`, false},
		{"IssuedCredential", `{"type":"private_key_jwt","secret_prefix":"","kids":["k1"],` + cred + `}`, true},
		{"IssuedCredential", `{"type":"private_key_jwt","secret_prefix":"","kids":["k1"],` + cred + `,` + secret + `}`, false},
		{"IssuedCredential", `{"type":"federated","secret_prefix":"","trusted_issuer_id":"01a23f0e-c00e-7a3f-ab8e-f6f59f39845b","subject":"system:serviceaccount:ns:sa",` + cred + `}`, true},
		{"IssuedCredential", `{"type":"hmac","secret_prefix":"",` + cred + `}`, false},
		{"Introspection", `{"active":true,"sub":"a","act":{"sub":"c","act":{"sub":"b"}}}`, true},
		{"Introspection", `{"active":true,"sub":"a","act":{"act":{"sub":"b"}}}`, false},
	}
	for i, c := range cases {
		var v any
		if err := json.Unmarshal([]byte(c.body), &v); err != nil {
			t.Fatalf("case %d: %v", i, err)
		}
		err := doc.Components.Schemas[c.schema].Value.VisitJSON(v, openapi3.EnableJSONSchema2020())
		if (err == nil) != c.ok {
			t.Errorf("case %d (%s): valid=%v, want %v: %v", i, c.schema, err == nil, c.ok, err)
		}
	}
}
