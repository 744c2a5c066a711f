package audit

import (
	"bytes"
	"encoding/json"
	"unicode/utf8"

	"github.com/agentidp/agentidp/platform/log"
)

// scrubDetails returns d as a generic JSON tree (it is encoded and decoded first, so that
// structs, maps of any type and Stringers are all seen as their JSON) in which nothing
// secret-looking survives, belt and braces behind the callers' own care: a string under a
// sensitive key ("secret", "token", "password", ...) is replaced by log.Redacted whole, and
// any string that contains a client secret (sk_live_…), a JWT (eyJ….….…) or Bearer/Basic
// credentials has that part redacted. Numbers and booleans under sensitive keys (e.g.
// tokens_issued) are kept.
func scrubDetails(d map[string]any) (map[string]any, error) {
	if tree, ok := scrubFlat(d); ok {
		return tree, nil
	}
	return scrubTree(d)
}

// scrubTree is scrubDetails for any details: encoded and decoded into a generic JSON tree,
// then scrubbed.
func scrubTree(d map[string]any) (map[string]any, error) {
	raw, err := json.Marshal(d)
	if err != nil {
		return nil, err
	}
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber() // keep numbers' text exactly
	var tree map[string]any
	if err := dec.Decode(&tree); err != nil {
		return nil, err
	}
	return scrubObject(tree), nil
}

// scrubFlat is scrubDetails for the common case, a flat object of valid UTF-8 strings,
// integers and booleans (the token events' details), without the encode-decode round trip:
// those values encode the same either way. It reports false for anything else.
func scrubFlat(d map[string]any) (map[string]any, bool) {
	out := make(map[string]any, len(d))
	for k, v := range d {
		switch x := v.(type) {
		case string:
			if !utf8.ValidString(x) {
				return nil, false
			}
			out[k] = scrubValue(log.SensitiveKey(k), x)
		case bool, int, int32, int64, uint, uint32, uint64:
			out[k] = x
		default:
			return nil, false
		}
	}
	return out, true
}

func scrubObject(m map[string]any) map[string]any {
	for k, v := range m {
		m[k] = scrubValue(log.SensitiveKey(k), v)
	}
	return m
}

func scrubValue(sensitiveKey bool, v any) any {
	switch x := v.(type) {
	case string:
		if sensitiveKey {
			return log.Redacted
		}
		return log.Scrub(x)
	case map[string]any:
		return scrubObject(x)
	case []any:
		for i, e := range x {
			x[i] = scrubValue(sensitiveKey, e)
		}
		return x
	default: // json.Number, bool, nil
		return v
	}
}
