// Package cursor is the one codec of the lists' opaque cursors (`?cursor=`, `next_cursor`):
// the position after the last item of a page, as the time the list is ordered by (to the
// microsecond, as the database keeps it) and the item's key (its id, or its sequence
// number), in a versioned, base64url token. Each list checks the key's form itself.
package cursor

import (
	"encoding/base64"
	"errors"
	"strconv"
	"strings"
	"time"
)

// version prefixes every token, so that the format can change later.
const version = "c1"

// maxLen bounds a token presented back; anything longer is refused before decoding.
const maxLen = 256

// ErrInvalid is the answer for anything that is not a token Encode made.
var ErrInvalid = errors.New("not a cursor this server returned")

// Encode makes the token of the position (at, key). A list ordered by its key alone passes
// the zero time.
func Encode(at time.Time, key string) string {
	var micros int64
	if !at.IsZero() {
		micros = at.UnixMicro()
	}
	return base64.RawURLEncoding.EncodeToString([]byte(version + "." + strconv.FormatInt(micros, 10) + "." + key))
}

// Decode reads a token made by Encode: the time (UTC; zero when it was) and the key.
func Decode(s string) (time.Time, string, error) {
	if s == "" || len(s) > maxLen {
		return time.Time{}, "", ErrInvalid
	}
	raw, err := base64.RawURLEncoding.DecodeString(s)
	if err != nil {
		return time.Time{}, "", ErrInvalid
	}
	v, rest, ok1 := strings.Cut(string(raw), ".")
	m, key, ok2 := strings.Cut(rest, ".")
	if !ok1 || !ok2 || v != version || key == "" {
		return time.Time{}, "", ErrInvalid
	}
	micros, err := strconv.ParseInt(m, 10, 64)
	if err != nil || micros < 0 {
		return time.Time{}, "", ErrInvalid
	}
	if micros == 0 {
		return time.Time{}, key, nil
	}
	at := time.UnixMicro(micros).UTC()
	if at.Year() > 9999 {
		return time.Time{}, "", ErrInvalid
	}
	return at, key, nil
}
