package agents

import (
	"encoding/base64"
	"errors"
	"strconv"
	"strings"
	"time"

	"github.com/google/uuid"
)

// cursor is the position after which the next page starts: the last item's
// (created_at, agent_id). It travels as an opaque base64url token.
type cursor struct {
	CreatedAt time.Time
	ID        string
}

// cursorVersion prefixes the token so that its format can change later.
const cursorVersion = "a1"

var errBadCursor = errors.New("invalid cursor")

// encode returns the opaque token.
func (c cursor) encode() string {
	raw := cursorVersion + "." + strconv.FormatInt(c.CreatedAt.UnixMicro(), 10) + "." + c.ID
	return base64.RawURLEncoding.EncodeToString([]byte(raw))
}

// parseCursor reads a token made by encode; anything else is errBadCursor.
func parseCursor(s string) (*cursor, error) {
	if len(s) > 128 {
		return nil, errBadCursor
	}
	raw, err := base64.RawURLEncoding.DecodeString(s)
	if err != nil {
		return nil, errBadCursor
	}
	parts := strings.Split(string(raw), ".")
	if len(parts) != 3 || parts[0] != cursorVersion {
		return nil, errBadCursor
	}
	micros, err := strconv.ParseInt(parts[1], 10, 64)
	if err != nil || micros < 0 {
		return nil, errBadCursor
	}
	id, ok := canonicalID(parts[2])
	if !ok {
		return nil, errBadCursor
	}
	return &cursor{CreatedAt: time.UnixMicro(micros).UTC(), ID: id}, nil
}

// canonicalID returns the lower-case hyphenated form of a UUID given in that form (any
// case), and false for anything else (braces, URNs and bare hex are not accepted).
func canonicalID(s string) (string, bool) {
	if len(s) != 36 {
		return "", false
	}
	u, err := uuid.Parse(s)
	if err != nil {
		return "", false
	}
	return u.String(), true
}
