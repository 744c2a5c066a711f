package apiclient

import (
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
)

// Error is an error answer of the server: a problem document (Code, Detail, Fields) or an
// OAuth error body (Code from "error", Detail from "error_description").
type Error struct {
	Status    int
	Code      string
	Detail    string
	RequestID string
	Fields    []FieldError
}

// FieldError is one entry of a validation_failed problem's errors list.
type FieldError struct {
	Field   string `json:"field"`
	Message string `json:"message"`
}

// Error is one line: the status, the code and the server's detail, then each bad field.
func (e *Error) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "%d %s", e.Status, http.StatusText(e.Status))
	if e.Code != "" {
		fmt.Fprintf(&b, " (%s)", e.Code)
	}
	if e.Detail != "" {
		b.WriteString(": " + e.Detail)
	}
	for _, f := range e.Fields {
		fmt.Fprintf(&b, "; %s: %s", f.Field, f.Message)
	}
	if e.RequestID != "" {
		fmt.Fprintf(&b, " [request %s]", e.RequestID)
	}
	return strings.Map(func(r rune) rune {
		if r == '\n' || r == '\r' {
			return ' '
		}
		return r
	}, b.String())
}

func parseError(status int, raw []byte) *Error {
	var body struct {
		Code             string       `json:"code"`
		Detail           string       `json:"detail"`
		Title            string       `json:"title"`
		RequestID        string       `json:"request_id"`
		Errors           []FieldError `json:"errors"`
		OAuthError       string       `json:"error"`
		ErrorDescription string       `json:"error_description"`
	}
	e := &Error{Status: status}
	if json.Unmarshal(raw, &body) != nil {
		e.Detail = strings.TrimSpace(string(raw))
		if len(e.Detail) > 200 {
			e.Detail = e.Detail[:200] + "…"
		}
		return e
	}
	e.Code, e.Detail, e.RequestID, e.Fields = body.Code, body.Detail, body.RequestID, body.Errors
	if e.Code == "" {
		e.Code, e.Detail = body.OAuthError, body.ErrorDescription
	}
	return e
}
