package apis

import (
	"errors"
	"time"

	pagecursor "github.com/agentidp/agentidp/platform/cursor"
	"github.com/agentidp/agentidp/platform/ident"
)

// cursor is the position after which the next page starts: the last item's
// (created_at, api_id), in the lists' one token format (platform/cursor). The built-in API,
// first on the first page, has no row: the position after it is (zero time, BuiltinID).
type cursor struct {
	CreatedAt time.Time
	ID        string
}

var errBadCursor = errors.New("invalid cursor")

// afterBuiltin is the position after the built-in API: every registered API follows.
var afterBuiltin = cursor{ID: BuiltinID}

func (c cursor) builtin() bool { return c.CreatedAt.IsZero() && c.ID == BuiltinID }

// encode returns the opaque token.
func (c cursor) encode() string { return pagecursor.Encode(c.CreatedAt, c.ID) }

// parseCursor reads a token made by encode; anything else is errBadCursor.
func parseCursor(s string) (*cursor, error) {
	at, key, err := pagecursor.Decode(s)
	id, ok := ident.Canonical(key)
	if err != nil || !ok {
		return nil, errBadCursor
	}
	c := &cursor{CreatedAt: at, ID: id}
	if at.IsZero() && !c.builtin() {
		return nil, errBadCursor
	}
	return c, nil
}
