package main

import (
	"net/http"

	"github.com/spf13/cobra"
)

var credentialCols = []string{"credential_id", "status", "secret_prefix", "created_at", "expires_at", "revoked_at", "last_used_at"}

func credentialsCmd() *cobra.Command {
	coll := func(a []string) string { return "/api/v1/agents/" + a[0] + "/credentials" }
	item := func(a []string) string { return coll(a) + "/" + a[1] }
	cmd := group("credentials", "Manage an agent's client secrets over the API", commands(
		call{use: "list AGENT_ID", short: "List an agent's credentials (never a secret)", method: http.MethodGet,
			path: coll, args: []string{"AGENT_ID"}, list: true, cols: credentialCols},
		call{use: "create AGENT_ID", short: "Issue a credential; its client_secret is shown this once",
			method: http.MethodPost, path: coll, args: []string{"AGENT_ID"},
			body: []field{{name: "expires_at", kind: str, help: "when it stops working (RFC 3339)"}},
			cols: []string{"client_id", "client_secret", "credential_id", "expires_at"}},
		call{use: "rotate AGENT_ID CREDENTIAL_ID", short: "Replace a credential's secret (shown once); the old one stops after the grace period",
			method: http.MethodPost, path: func(a []string) string { return item(a) + "/rotate" },
			args: []string{"AGENT_ID", "CREDENTIAL_ID"},
			body: []field{{name: "grace_period_seconds", kind: num, help: "how long the old secret keeps working, 0–86400 (default 0)"}},
			cols: []string{"client_id", "client_secret", "credential_id", "rotated_from"}},
		call{use: "revoke AGENT_ID CREDENTIAL_ID", short: "Revoke a credential now; its tokens stop",
			method: http.MethodDelete, path: item, args: []string{"AGENT_ID", "CREDENTIAL_ID"}, done: "credential revoked"},
	)...)
	addRemoteFlags(cmd)
	return cmd
}
