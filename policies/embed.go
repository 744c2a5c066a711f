// Package policies holds the Rego authorization policy and its route→scope
// data, embedded so the binary carries them (docs/api.md, "Scopes and
// authorization"). platform/policy loads them; nothing else should parse these
// files.
package policies

import "embed"

// Paths of the embedded files, relative to the roots of Files and TestFiles.
const (
	// PolicyFile is the authorization policy, package agentidp.authz.
	PolicyFile = "authz.rego"
	// DataFile maps routes to the scopes they need; mounted at data.scopes.
	DataFile = "data/scopes.json"
	// TestFile holds the Rego unit tests of PolicyFile.
	TestFile = "authz_test.rego"
)

// Files holds PolicyFile and DataFile.
//
//go:embed authz.rego data/scopes.json
var Files embed.FS

// TestFiles holds TestFile. It is kept apart from Files so the server never
// compiles the tests; it costs a few kilobytes in the binary.
//
//go:embed authz_test.rego
var TestFiles embed.FS
