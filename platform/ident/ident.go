// Package ident reads the identifiers the server hands out and takes back (agents,
// credentials, tokens, audit filters): UUIDs, accepted only in their canonical
// 36-character form, in any case, and written in lower case, as PostgreSQL prints them, so
// that stored, hashed and compared values agree. Braces, URNs and bare hex are refused.
package ident

import "github.com/google/uuid"

// Parse returns the UUID s spells in the canonical form.
func Parse(s string) (uuid.UUID, bool) {
	if len(s) != 36 {
		return uuid.UUID{}, false
	}
	u, err := uuid.Parse(s)
	return u, err == nil
}

// Canonical returns s in lower case when it is a UUID in the canonical form.
func Canonical(s string) (string, bool) {
	u, ok := Parse(s)
	if !ok {
		return "", false
	}
	return u.String(), true
}
