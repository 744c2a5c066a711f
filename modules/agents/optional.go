package agents

import (
	"bytes"
	"encoding/json"
	"errors"
)

// optional is a request field that remembers whether it was sent, so that PATCH leaves
// absent fields alone. JSON null counts as sent, with Null set; validation refuses it
// (send "", [] or {} to clear a field).
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

// some returns a set optional holding v (for callers inside the process).
func some[T any](v T) optional[T] { return optional[T]{Value: v, Set: true} }

// jsonObject is a metadata object decoded with json.Number for numbers, so that large
// integers and exact decimals survive the round trip unchanged.
type jsonObject map[string]any

// errNotObject is returned for metadata that is valid JSON but not an object.
var errNotObject = errors.New("must be a JSON object")

// UnmarshalJSON implements json.Unmarshaler.
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
		return nil, errNotObject
	}
	return out, nil
}
