package apiclient

import (
	"strings"
	"testing"
)

// parseError reads whatever a server answered with an error status: it never panics, and
// its message is one line that carries the status.
func FuzzParseError(f *testing.F) {
	for _, seed := range []string{
		`{"type":"urn:agentidp:problem:validation_failed","title":"Bad Request","status":400,"detail":"the request has invalid fields","code":"validation_failed","errors":[{"field":"name","message":"required"}],"request_id":"abc"}`,
		`{"error":"invalid_client","error_description":"client authentication failed"}`,
		`<html>bad gateway</html>`,
		``, `null`, `[]`, `{"errors":null}`, `{"code":1}`, `{"detail":"two\nlines"}`, "plain\r\ntext",
	} {
		f.Add(400, []byte(seed))
	}
	f.Fuzz(func(t *testing.T, status int, raw []byte) {
		e := parseError(status, raw)
		msg := e.Error()
		if e.Status != status {
			t.Fatalf("status %d became %d", status, e.Status)
		}
		if strings.ContainsAny(msg, "\r\n") {
			t.Fatalf("a line break appeared: %q", msg)
		}
	})
}

func TestParseError(t *testing.T) {
	e := parseError(400, []byte(`{"code":"validation_failed","detail":"the request has invalid fields","errors":[{"field":"allowed_scopes[0]","message":"unknown scope"}],"request_id":"r1"}`))
	if got := e.Error(); got != "400 Bad Request (validation_failed): the request has invalid fields; allowed_scopes[0]: unknown scope [request r1]" {
		t.Fatalf("problem: %q", got)
	}
	e = parseError(401, []byte(`{"error":"invalid_client","error_description":"client authentication failed"}`))
	if got := e.Error(); got != "401 Unauthorized (invalid_client): client authentication failed" {
		t.Fatalf("oauth: %q", got)
	}
}
