// Package migrations embeds the SQL migrations, one set per dialect. Each file is named
// after the module that owns its tables (<version>_<module>.up.sql) and is applied by
// `agentidp serve` (unless AGENTIDP_AUTO_MIGRATE=false) and `agentidp migrate up`.
//
// Versions are allotted per module so that modules can add files independently:
// 2026112800xxxx platform, 2026112801xxxx agents, 2026112802xxxx credentials,
// 2026112803xxxx audit, 2026112804xxxx tokens, 2026112805xxxx metering, 2026112806xxxx orgs,
// 2026112807xxxx apis. A change that must come after all of those takes the same per-module
// pattern on a later date, e.g. 20261203030000_audit (audit_events.org_id, after the orgs
// table).
package migrations

import (
	"embed"
	"io/fs"
)

//go:embed postgres sqlite
var files embed.FS

// Postgres is the PostgreSQL migration set.
func Postgres() fs.FS { return sub("postgres") }

// SQLite is the embedded-mode (SQLite) migration set.
func SQLite() fs.FS { return sub("sqlite") }

func sub(dir string) fs.FS {
	f, err := fs.Sub(files, dir)
	if err != nil {
		panic(err)
	}
	return f
}
