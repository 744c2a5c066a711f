package main

import (
	"net/url"

	"github.com/spf13/cobra"
)

func tokenCmd() *cobra.Command {
	get := &cobra.Command{
		Use:   "get",
		Short: "Get an access token with the client credentials grant",
		Long: `Ask the token endpoint for an access token with the client credentials (--client-id and
--client-secret, or AGENTIDP_CLIENT_ID and AGENTIDP_CLIENT_SECRET). --field access_token
prints the token alone, e.g. export AGENTIDP_TOKEN=$(agentidp token get --field access_token).`,
		Args: args(),
		RunE: func(cmd *cobra.Command, _ []string) error {
			r, err := newRemote(cmd)
			if err != nil {
				return err
			}
			scope, _ := cmd.Flags().GetString("scope")
			resource, _ := cmd.Flags().GetString("resource")
			resp, err := r.client.TokenRequest(cmd.Context(), scope, resource)
			if err != nil {
				return err
			}
			return r.print(resp.Body, "access_token", "token_type", "expires_in", "scope")
		},
	}
	get.Flags().String("scope", "", "space-separated scopes (default: every scope the agent may get)")
	get.Flags().String("resource", "", "the token's audience (RFC 8707; default: this server)")

	oauth := func(use, short, path, done string) *cobra.Command {
		cmd := &cobra.Command{
			Use: use + " TOKEN", Short: short,
			Long: short + `. The caller authenticates with a bearer token (--token, or one obtained
with the client credentials), which needs the scope tokens:introspect or tokens:revoke;
with --as-client it authenticates with its client credentials instead (an agent may so
revoke its own tokens without any scope).`,
			Args: args("TOKEN"),
			RunE: func(cmd *cobra.Command, a []string) error {
				r, err := newRemote(cmd)
				if err != nil {
					return err
				}
				asClient, _ := cmd.Flags().GetBool("as-client")
				resp, err := r.client.Form(cmd.Context(), path, url.Values{"token": {a[0]}}, asClient)
				if err != nil {
					return err
				}
				if len(resp.Body) == 0 {
					return r.printDone(done)
				}
				return r.print(resp.Body, "active", "sub", "client_id", "scope", "aud", "iss", "exp", "iat", "jti")
			},
		}
		cmd.Flags().Bool("as-client", false, "authenticate with the client credentials (Basic) instead of a bearer token")
		return cmd
	}
	cmd := group("token", "Get, introspect and revoke access tokens",
		get,
		oauth("introspect", "Introspect a token (RFC 7662)", "/api/v1/token/introspect", ""),
		oauth("revoke", "Revoke a token (RFC 7009)", "/api/v1/token/revoke", "token revoked (or it was not one to revoke: the answer is the same)"),
	)
	addRemoteFlags(cmd)
	return cmd
}
