package httpserver_test

import (
	"bytes"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/agentidp/agentidp/platform/apperr"
	"github.com/agentidp/agentidp/platform/httpserver"
)

// fuzzBody is a request body with the shapes the API decodes: plain members, a list, a
// free-form object and a nested object.
type fuzzBody struct {
	Scope    string         `json:"scope"`
	Scopes   []string       `json:"allowed_scopes"`
	Metadata map[string]any `json:"metadata"`
	Nested   *struct {
		Scope string `json:"scope"`
	} `json:"nested"`
}

// FuzzDecodeJSON: DecodeJSON never panics, refuses only with a 400 problem, and never
// accepts a body in which some object repeats a member name as encoding/json reads names
// (unescaped), whatever the spelling or the depth. Its seeds run as a plain test.
func FuzzDecodeJSON(f *testing.F) {
	for _, seed := range []string{
		`{"scope":"agents:read"}`,
		`{"scope":"keys:admin","scope":"agents:write"}`,
		`{"scope":"keys:admin","\u0073cope":"agents:write"}`,
		`{"\u0073\u0063\u006f\u0070\u0065":"a","scope":"b"}`,
		`{"scope":"a","Scope":"b"}`,
		`{"metadata":{"a":1,"a":2}}`,
		`{"metadata":{"a":{"b":{"c":[{"k":1,"\u006b":2}]}}}}`,
		`{"metadata":{"a":{"a":{"a":1}}},"scope":"x"}`,
		`{"nested":{"scope":"a","scope":"b"}}`,
		`{"nested":{"scope":"a"},"scope":"a","metadata":{"scope":"a","nested":{"scope":"a"}}}`,
		`{"allowed_scopes":["a","a"],"metadata":{}}`,
		`{"metadata":{"\ud800":1,"\udbff":2}}`,
		"{\"metadata\":{\"k\xff\":1,\"k\xfe\":2}}",
		`{"metadata":{"":1,"":2}}`,
		`{"scope":"a"}{"scope":"b"}`,
		`{"scope":`,
		`[{"a":1,"a":2}]`,
		``,
	} {
		f.Add([]byte(seed))
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		r := httptest.NewRequest(http.MethodPost, "/", bytes.NewReader(body))
		r.Header.Set("Content-Type", "application/json")
		var dst fuzzBody
		err := httpserver.DecodeJSON(r, &dst)
		if err != nil {
			var ae *apperr.Error
			if !errors.As(err, &ae) || ae.Status != http.StatusBadRequest {
				t.Fatalf("refused with %v, want a 400 problem", err)
			}
			return
		}
		dup, ok := repeatsName(body)
		if !ok {
			t.Fatalf("accepted a body encoding/json cannot read: %q", body)
		}
		if dup {
			t.Fatalf("accepted a body that repeats a member name: %q", body)
		}
	})
}

// repeatsName reports whether some object of the first JSON value in b repeats a member
// name, names as encoding/json's tokenizer unescapes them; ok is false when b does not
// start with a JSON value. An oracle independent of the code under test.
func repeatsName(b []byte) (dup, ok bool) {
	type container struct {
		object   bool
		wantName bool
		names    map[string]bool
	}
	var stack []*container
	dec := json.NewDecoder(bytes.NewReader(b))
	for {
		tok, err := dec.Token()
		if err != nil {
			return false, false
		}
		var top *container
		if len(stack) > 0 {
			top = stack[len(stack)-1]
		}
		switch v := tok.(type) {
		case json.Delim:
			if v == '{' || v == '[' {
				stack = append(stack, &container{object: v == '{', wantName: true, names: map[string]bool{}})
				continue
			}
			stack = stack[:len(stack)-1]
		case string:
			if top != nil && top.object && top.wantName {
				if top.names[v] {
					return true, true
				}
				top.names[v], top.wantName = true, false
				continue
			}
		}
		// A value ended: the first value when nothing is open, else its object wants a name.
		if len(stack) == 0 {
			return false, true
		}
		if top = stack[len(stack)-1]; top.object {
			top.wantName = true
		}
	}
}
