package main

import (
	"net/http"
	"strings"

	"github.com/spf13/cobra"
)

var apiFields = []field{
	{name: "name", kind: str, help: "the API's name"},
	{name: "token_ttl_seconds", kind: num, help: "lifetime of its tokens in seconds"},
	{name: "require_dpop", kind: flag, help: "its tokens must be DPoP-bound"},
}

var apiCols = []string{"api_id", "identifier", "name", "org_id", "builtin", "created_at"}

func apisCmd() *cobra.Command {
	item := func(a []string) string { return "/api/v1/apis/" + a[0] }
	withScopes := func(c call) *cobra.Command {
		cmd := c.command()
		cmd.Flags().StringArray("scope", nil, "a scope it defines, VALUE or VALUE=DESCRIPTION (repeat the flag; replaces the list on update)")
		run := cmd.RunE
		cmd.RunE = func(cmd *cobra.Command, a []string) error {
			if cmd.Flags().Changed("scope") {
				vals, _ := cmd.Flags().GetStringArray("scope")
				scopes := make([]map[string]string, 0, len(vals))
				for _, v := range vals {
					value, desc, _ := strings.Cut(v, "=")
					scopes = append(scopes, map[string]string{"value": value, "description": desc})
				}
				raw, _ := jsonString(scopes)
				// Passed on as the hidden raw flag that bodyFrom reads.
				if err := cmd.Flags().Set("scopes", raw); err != nil {
					return err
				}
			}
			return run(cmd, a)
		}
		_ = cmd.Flags().MarkHidden("scopes")
		return cmd
	}
	scopes := field{name: "scopes", kind: raw, help: `its scopes as JSON: [{"value": "...", "description": "..."}]`}
	create := append([]field{
		{name: "identifier", kind: str, help: "its identifier, the aud of its tokens (an https URI)"},
		{name: "org_id", kind: str, help: "its organization (default: the caller's)"},
		scopes,
	}, apiFields...)
	update := append([]field{scopes}, apiFields...)
	cmd := group("apis", "Manage the APIs (resource servers) of an organization over the API", commands(
		call{use: "list", short: "List APIs: the built-in one first, then newest first", method: http.MethodGet,
			path: fixed("/api/v1/apis"), list: true, filters: []string{"org_id"}, cols: apiCols},
		call{use: "get API_ID", short: "Show an API", method: http.MethodGet, path: item, args: []string{"API_ID"}, cols: apiCols},
		call{use: "delete API_ID", short: "Delete an API: its grants go, its tokens stop", method: http.MethodDelete,
			path: item, args: []string{"API_ID"}, done: "API deleted"},
		call{use: "resource-metadata API_ID", short: "The API's RFC 9728 protected resource metadata", method: http.MethodGet,
			path: func(a []string) string { return item(a) + "/resource-metadata" }, args: []string{"API_ID"}},
	)...)
	cmd.AddCommand(
		withScopes(call{use: "create --identifier URI --name NAME", short: "Register an API", method: http.MethodPost,
			path: fixed("/api/v1/apis"), body: create, cols: apiCols}),
		withScopes(call{use: "update API_ID", short: "Change an API's name, scopes, token lifetime or DPoP requirement",
			method: http.MethodPatch, path: item, args: []string{"API_ID"}, body: update, cols: apiCols}),
	)
	addRemoteFlags(cmd)
	return cmd
}
