package apis

import (
	"github.com/agentidp/agentidp/platform/cursor"
)

// The APIs list pages by (created_at, api_id) (platform/cursor). The built-in API, first on
// the first page, has no row: the position after it is (zero time, BuiltinID).

// afterBuiltin is the position after the built-in API: every registered API follows.
var afterBuiltin = cursor.Position{ID: BuiltinID}

// afterBuiltinOnly reports whether p is the position after the built-in API.
func afterBuiltinOnly(p cursor.Position) bool { return p.CreatedAt.IsZero() && p.ID == BuiltinID }

// parseCursor reads a list token: a registered API's position, or the built-in API's.
func parseCursor(s string) (*cursor.Position, error) {
	p, err := cursor.DecodePositionOrZero(s)
	if err != nil || (p.CreatedAt.IsZero() && !afterBuiltinOnly(p)) {
		return nil, cursor.ErrInvalid
	}
	return &p, nil
}
