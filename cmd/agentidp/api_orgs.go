package main

import (
	"net/http"

	"github.com/spf13/cobra"
)

var orgFields = []field{
	{name: "name", kind: str, help: "the organization's name"},
	{name: "max_agents", kind: num, help: "agents on plan free it may hold"},
	{name: "metadata", kind: raw, help: "a JSON object"},
}

var orgCols = []string{"org_id", "name", "status", "max_agents", "created_at"}

func orgsCmd() *cobra.Command {
	item := func(a []string) string { return "/api/v1/orgs/" + a[0] }
	cmd := group("orgs", "Manage organizations over the API (orgs:admin)", commands(
		call{use: "list", short: "List organizations, newest first", method: http.MethodGet,
			path: fixed("/api/v1/orgs"), list: true, filters: []string{"status", "q"}, cols: orgCols},
		call{use: "get ORG_ID", short: "Show an organization", method: http.MethodGet, path: item,
			args: []string{"ORG_ID"}, cols: orgCols},
		call{use: "create --name NAME", short: "Create an organization and its first admin (its secret is shown once)",
			method: http.MethodPost, path: fixed("/api/v1/orgs"), body: orgFields},
		call{use: "update ORG_ID", short: "Change an organization's name, max_agents or metadata", method: http.MethodPatch,
			path: item, args: []string{"ORG_ID"}, body: orgFields, cols: orgCols},
		call{use: "suspend ORG_ID", short: "Suspend an organization: its agents' tokens stop", method: http.MethodPost,
			path: func(a []string) string { return item(a) + "/suspend" }, args: []string{"ORG_ID"}, cols: orgCols},
		call{use: "reactivate ORG_ID", short: "Reactivate an organization", method: http.MethodPost,
			path: func(a []string) string { return item(a) + "/reactivate" }, args: []string{"ORG_ID"}, cols: orgCols},
	)...)
	addRemoteFlags(cmd)
	return cmd
}
