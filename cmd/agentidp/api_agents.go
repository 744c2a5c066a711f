package main

import (
	"net/http"

	"github.com/spf13/cobra"
)

var agentFields = []field{
	{name: "name", kind: str, help: "the agent's name"},
	{name: "description", kind: str, help: "a description"},
	{name: "owner", kind: str, help: "its owner (a team, an e-mail…)"},
	{name: "allowed_scopes", kind: list, help: "scopes of this server's API it may get (comma-separated)"},
	{name: "allowed_audiences", kind: list, help: "audiences it may get tokens for (comma-separated URIs)"},
	{name: "grants", kind: raw, help: `its grants on APIs, JSON: [{"audience": "...", "scopes": ["..."]}]`},
	{name: "plan", kind: str, help: "free or unlimited"},
	{name: "metadata", kind: raw, help: "a JSON object"},
	{name: "require_dpop", kind: flag, help: "it gets only DPoP-bound tokens"},
}

var agentCols = []string{"agent_id", "name", "status", "plan", "allowed_scopes", "owner", "created_at"}

func agentsCmd() *cobra.Command {
	item := func(a []string) string { return "/api/v1/agents/" + a[0] }
	create := append([]field{{name: "org_id", kind: str, help: "its organization (default: the caller's)"}}, agentFields...)
	cmd := group("agents", "Manage agents over the API", commands(
		call{use: "list", short: "List agents, newest first", method: http.MethodGet, path: fixed("/api/v1/agents"),
			list: true, filters: []string{"status", "owner", "q"}, cols: agentCols},
		call{use: "get AGENT_ID", short: "Show an agent", method: http.MethodGet, path: item,
			args: []string{"AGENT_ID"}, cols: agentCols},
		call{use: "create --name NAME", short: "Create an agent", method: http.MethodPost,
			path: fixed("/api/v1/agents"), body: create, cols: agentCols},
		call{use: "update AGENT_ID", short: "Change the fields given as flags (lists and metadata are replaced)",
			method: http.MethodPatch, path: item, args: []string{"AGENT_ID"}, body: agentFields, cols: agentCols},
		call{use: "suspend AGENT_ID", short: "Suspend an agent: its tokens stop at once", method: http.MethodPost,
			path: func(a []string) string { return item(a) + "/suspend" }, args: []string{"AGENT_ID"}, cols: agentCols},
		call{use: "reactivate AGENT_ID", short: "Reactivate a suspended agent", method: http.MethodPost,
			path: func(a []string) string { return item(a) + "/reactivate" }, args: []string{"AGENT_ID"}, cols: agentCols},
		call{use: "delete AGENT_ID", short: "Decommission an agent (final): credentials revoked, tokens stopped",
			method: http.MethodDelete, path: item, args: []string{"AGENT_ID"}, done: "agent decommissioned"},
		call{use: "usage AGENT_ID", short: "Tokens issued by month and day", method: http.MethodGet,
			path: func(a []string) string { return item(a) + "/usage" }, args: []string{"AGENT_ID"}},
	)...)
	addRemoteFlags(cmd)
	return cmd
}
