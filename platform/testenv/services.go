// Package testenv gives every test package real services: a fresh PostgreSQL database per
// test, cloned from a template migrated once; a Redis key space of its own; the embedded
// variants (SQLite in a temp dir, the in-process cache); and a small fxtest app built from
// the platform modules plus the module under test.
//
// Where PostgreSQL or Redis cannot be reached the test fails under CI=true and is skipped
// otherwise, saying why. Server addresses come from AGENTIDP_TEST_DATABASE_URL (default the
// local superuser over TCP) and AGENTIDP_TEST_REDIS_URL (default redis://127.0.0.1:6379/0).
package testenv

import (
	"os"
	"testing"
)

// InCI reports whether the tests run under CI (CI=true), where a missing service fails.
func InCI() bool { return os.Getenv("CI") == "true" }

// Unavailable stops t because a service it needs is missing: Fatal under CI, Skip otherwise.
func Unavailable(t testing.TB, service string, err error) {
	t.Helper()
	msg := service + " is not reachable (" + err.Error() + "); start it or set its AGENTIDP_TEST_* URL"
	if InCI() {
		t.Fatal("CI=true: " + msg)
	}
	t.Skip(msg)
}

func envOr(name, def string) string {
	if v := os.Getenv(name); v != "" {
		return v
	}
	return def
}
