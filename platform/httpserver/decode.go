package httpserver

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/go-json-experiment/json/jsontext"

	"github.com/agentidp/agentidp/platform/apperr"
)

// MaxBodyBytes is the largest request body accepted (413 past it).
const MaxBodyBytes = 1 << 20

// MaxJSONDepth bounds the nesting of JSON request bodies.
const MaxJSONDepth = 32

// ErrPayloadTooLarge is the 413 problem.
var ErrPayloadTooLarge = &apperr.Error{Status: http.StatusRequestEntityTooLarge, Code: "payload_too_large",
	Detail: fmt.Sprintf("the request body exceeds %d bytes", MaxBodyBytes)}

// DecodeJSON reads r's body into dst: unparsable bodies are 400 malformed_body, unknown
// fields and wrongly typed values 400 validation_failed naming the field, bodies nested
// deeper than MaxJSONDepth or failing CheckJSON (a repeated member name, invalid UTF-8)
// 400 malformed_body, oversized bodies 413.
func DecodeJSON(r *http.Request, dst any) error {
	body, err := io.ReadAll(r.Body)
	if err != nil {
		var mbe *http.MaxBytesError
		if errors.As(err, &mbe) {
			return ErrPayloadTooLarge
		}
		return apperr.BadRequest("malformed_body", "the request body could not be read")
	}
	if ct := r.Header.Get("Content-Type"); ct != "" && !strings.HasPrefix(strings.ToLower(ct), "application/json") &&
		!strings.Contains(strings.ToLower(ct), "+json") {
		return &apperr.Error{Status: http.StatusUnsupportedMediaType, Code: "unsupported_media_type",
			Detail: "send the body as application/json"}
	}
	if len(bytes.TrimSpace(body)) == 0 {
		return apperr.BadRequest("malformed_body", "the request body is empty; send a JSON object")
	}
	if depth(body) > MaxJSONDepth {
		return apperr.BadRequest("malformed_body", fmt.Sprintf("the JSON body is nested deeper than %d levels", MaxJSONDepth))
	}
	if err := CheckJSON(body); err != nil {
		return err
	}
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.DisallowUnknownFields()
	if err := dec.Decode(dst); err != nil {
		return decodeError(err)
	}
	if dec.More() {
		return apperr.BadRequest("malformed_body", "the request body holds more than one JSON value")
	}
	return nil
}

// CheckJSON accepts body only when its (first) JSON value is one every reader understands
// alike (I-JSON, RFC 7493): UTF-8 throughout, and no object, however deeply nested, that
// repeats a member name, names compared after unescaping ("scope" and "\u0073cope" are one
// name). encoding/json, which decodes the bodies, keeps the last of repeated members
// without a word, so {"scope": "keys:admin", "scope": "agents:write"} would mean one thing
// to a proxy or a log reader and another to this server. The check is jsontext's (the
// encoding/json/v2 reader, refusing duplicate names by default); it decodes nothing. It
// returns nil or a 400 malformed_body *apperr.Error saying where the repeated name is.
func CheckJSON(body []byte) error {
	_, err := jsontext.NewDecoder(bytes.NewReader(body)).ReadValue()
	if err == nil {
		return nil
	}
	var se *jsontext.SyntacticError
	if errors.Is(err, jsontext.ErrDuplicateName) && errors.As(err, &se) {
		at := string(se.JSONPointer)
		if len(at) > maxPointerShown || !utf8.ValidString(at) {
			at = "…"
		}
		return apperr.BadRequest("malformed_body", "the JSON body repeats a member name, at "+strconv.Quote(at))
	}
	if json.Valid(body) { // valid to encoding/json, which replaces what is not UTF-8
		return apperr.BadRequest("malformed_body", "the JSON body is not valid UTF-8 (or escapes a lone surrogate)")
	}
	return apperr.BadRequest("malformed_body", "the request body is not valid JSON")
}

// maxPointerShown bounds the JSON pointer a refusal quotes back.
const maxPointerShown = 128

func decodeError(err error) error {
	var typeErr *json.UnmarshalTypeError
	var syntaxErr *json.SyntaxError
	switch {
	case errors.As(err, &typeErr):
		field := typeErr.Field
		if field == "" {
			return apperr.BadRequest("malformed_body", "the request body must be a JSON object")
		}
		return apperr.Validation(apperr.FieldError{Field: field, Message: "must be of type " + jsonType(typeErr.Type.Kind().String())})
	case strings.HasPrefix(err.Error(), "json: unknown field "):
		field := strings.Trim(strings.TrimPrefix(err.Error(), "json: unknown field "), `"`)
		return apperr.Validation(apperr.FieldError{Field: field, Message: "unknown field"})
	case errors.As(err, &syntaxErr), errors.Is(err, io.ErrUnexpectedEOF):
		return apperr.BadRequest("malformed_body", "the request body is not valid JSON")
	}
	return apperr.BadRequest("malformed_body", "the request body is not valid JSON")
}

func jsonType(kind string) string {
	switch kind {
	case "string":
		return "string"
	case "bool":
		return "boolean"
	case "slice", "array":
		return "array"
	case "map", "struct":
		return "object"
	}
	return "number"
}

// depth returns the maximum nesting of arrays and objects in a JSON text, ignoring strings.
func depth(b []byte) int {
	d, maxD, inStr, esc := 0, 0, false, false
	for _, c := range b {
		switch {
		case inStr:
			if esc {
				esc = false
			} else if c == '\\' {
				esc = true
			} else if c == '"' {
				inStr = false
			}
		case c == '"':
			inStr = true
		case c == '{' || c == '[':
			d++
			maxD = max(maxD, d)
		case c == '}' || c == ']':
			d--
		}
	}
	return maxD
}
