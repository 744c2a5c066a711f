package database

import "time"

// Time is t as the database keeps it: UTC, truncated to the microsecond (PostgreSQL's
// precision, kept on SQLite too), so that a value written and read back compares equal.
func Time(t time.Time) time.Time { return t.UTC().Truncate(time.Microsecond) }
