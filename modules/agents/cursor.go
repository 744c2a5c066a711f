package agents

import (
	"errors"
	"time"

	pagecursor "github.com/agentidp/agentidp/platform/cursor"
	"github.com/agentidp/agentidp/platform/ident"
)

// cursor is the position after which the next page starts: the last item's
// (created_at, agent_id), in the lists' one token format (platform/cursor).
type cursor struct {
	CreatedAt time.Time
	ID        string
}

var errBadCursor = errors.New("invalid cursor")

// encode returns the opaque token.
func (c cursor) encode() string { return pagecursor.Encode(c.CreatedAt, c.ID) }

// parseCursor reads a token made by encode; anything else is errBadCursor.
func parseCursor(s string) (*cursor, error) {
	at, key, err := pagecursor.Decode(s)
	id, ok := ident.Canonical(key)
	if err != nil || !ok || at.IsZero() {
		return nil, errBadCursor
	}
	return &cursor{CreatedAt: at, ID: id}, nil
}
