package cursor

import (
	"time"

	"github.com/agentidp/agentidp/platform/ident"
)

// Position is the place after which the next page of a list ordered newest first by
// (created_at, id), id a UUID, starts: the last item's. The agents, organizations and APIs
// lists page by it.
type Position struct {
	CreatedAt time.Time
	ID        string
}

// Encode returns the opaque token of p.
func (p Position) Encode() string { return Encode(p.CreatedAt, p.ID) }

// DecodePosition reads a token made by Position.Encode: a time and a UUID (made canonical).
// Anything else, a token without a time included, is ErrInvalid.
func DecodePosition(s string) (Position, error) {
	p, err := DecodePositionOrZero(s)
	if err != nil || p.CreatedAt.IsZero() {
		return Position{}, ErrInvalid
	}
	return p, nil
}

// DecodePositionOrZero is DecodePosition that also accepts a token without a time, for a
// list whose first item has none (the APIs list's built-in API).
func DecodePositionOrZero(s string) (Position, error) {
	at, key, err := Decode(s)
	id, ok := ident.Canonical(key)
	if err != nil || !ok {
		return Position{}, ErrInvalid
	}
	return Position{CreatedAt: at, ID: id}, nil
}
