package orgs

import (
	"bytes"
	"encoding/json"
	"math"
	"reflect"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/agentidp/agentidp/platform/apperr"
)

// Field limits (docs/api.md, Organizations).
const (
	maxNameLen       = 128
	maxMetadataBytes = 8 << 10
	// maxMaxAgents is the largest max_agents (the column is a 32-bit integer).
	maxMaxAgents = math.MaxInt32
)

// orgFields are the writable fields of an organization, as sent on create and PATCH.
// Unknown fields are refused by httpserver.DecodeJSON.
type orgFields struct {
	Name      optional[string]     `json:"name"`
	MaxAgents optional[int64]      `json:"max_agents"`
	Metadata  optional[jsonObject] `json:"metadata"`
}

// check validates in and returns it normalised (the name trimmed), or a validation_failed
// error listing every bad field. On create, name is required. null is refused for every
// field.
func check(in orgFields, creating bool) (orgFields, error) {
	var f apperr.Fields
	out := in
	if creating && !in.Name.Set {
		f.Add("name", "is required")
	}
	if in.Name.Set {
		out.Name.Value = strings.TrimSpace(in.Name.Value)
		switch n := utf8.RuneCountInString(out.Name.Value); {
		case in.Name.Null:
			f.Add("name", "must not be null")
		case n == 0:
			f.Add("name", "must not be empty")
		case n > maxNameLen:
			f.Add("name", "must be at most %d characters", maxNameLen)
		case hasControl(out.Name.Value):
			f.Add("name", "must not contain control characters")
		}
	}
	if in.MaxAgents.Set && (in.MaxAgents.Null || in.MaxAgents.Value < 0 || in.MaxAgents.Value > maxMaxAgents) {
		f.Add("max_agents", "must be an integer from 0 to %d", maxMaxAgents)
	}
	if in.Metadata.Set {
		switch {
		case in.Metadata.Null:
			f.Add("metadata", "must not be null (send {} to clear it)")
		case hasNUL(map[string]any(in.Metadata.Value)):
			f.Add("metadata", "must not contain the NUL character")
		default:
			if b, err := marshalMetadata(in.Metadata.Value); err != nil {
				f.Add("metadata", "must be a JSON object")
			} else if len(b) > maxMetadataBytes {
				f.Add("metadata", "must be at most %d bytes serialised (is %d)", maxMetadataBytes, len(b))
			}
			if out.Metadata.Value == nil {
				out.Metadata.Value = jsonObject{}
			}
		}
	}
	return out, f.Err()
}

// optional is a request field that remembers whether it was sent, so that PATCH leaves
// absent fields alone. JSON null counts as sent, with Null set.
type optional[T any] struct {
	Value T
	Set   bool
	Null  bool
}

// UnmarshalJSON implements json.Unmarshaler. A wrongly typed value yields the
// *json.UnmarshalTypeError of the inner decode, to which encoding/json adds the field name.
func (o *optional[T]) UnmarshalJSON(b []byte) error {
	o.Set = true
	if bytes.Equal(bytes.TrimSpace(b), []byte("null")) {
		o.Null = true
		return nil
	}
	return json.Unmarshal(b, &o.Value)
}

// jsonObject is a metadata object decoded with json.Number for numbers, so that large
// integers and exact decimals survive the round trip unchanged.
type jsonObject map[string]any

var mapType = reflect.TypeOf(map[string]any(nil))

// UnmarshalJSON implements json.Unmarshaler: anything but an object is a type error.
func (m *jsonObject) UnmarshalJSON(b []byte) error {
	obj, err := decodeObject(b)
	if err != nil {
		return err
	}
	*m = obj
	return nil
}

// decodeObject decodes a JSON object with json.Number numbers.
func decodeObject(b []byte) (map[string]any, error) {
	b = bytes.TrimSpace(b)
	if len(b) == 0 || b[0] != '{' {
		return nil, &json.UnmarshalTypeError{Value: "non-object", Type: mapType}
	}
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.UseNumber()
	var out map[string]any
	if err := dec.Decode(&out); err != nil {
		return nil, err
	}
	if out == nil {
		out = map[string]any{}
	}
	return out, nil
}

// marshalMetadata is the stored (and measured) text of a metadata object: compact, keys
// sorted, without HTML escaping.
func marshalMetadata(m map[string]any) (string, error) {
	if m == nil {
		return "{}", nil
	}
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(m); err != nil {
		return "", err
	}
	return strings.TrimSuffix(buf.String(), "\n"), nil
}

// hasNUL reports a NUL character in any key or string of v (PostgreSQL's jsonb refuses it).
func hasNUL(v any) bool {
	switch t := v.(type) {
	case string:
		return strings.IndexByte(t, 0) >= 0
	case map[string]any:
		for k, e := range t {
			if strings.IndexByte(k, 0) >= 0 || hasNUL(e) {
				return true
			}
		}
	case []any:
		for _, e := range t {
			if hasNUL(e) {
				return true
			}
		}
	}
	return false
}

// hasControl reports control characters (NUL included).
func hasControl(s string) bool {
	return strings.IndexFunc(s, unicode.IsControl) >= 0
}
