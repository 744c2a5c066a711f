package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"github.com/agentidp/agentidp/modules/tokens"
)

func keysCmd() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "keys",
		Short: "List and rotate the token signing keys",
		Long: `Signing keys sign the access tokens (JWS, RFC 9068). Their private parts are stored
encrypted under AGENTIDP_MASTER_KEY, or in Vault when Vault mode is on (VAULT_ADDR), and are
never shown; these commands work against the configured database, like the server.`,
	}
	var asJSON bool
	list := &cobra.Command{
		Use:   "list",
		Short: "List every signing key with its state (pending, active, retired)",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			var admin tokens.KeyAdmin
			var keys []tokens.KeyInfo
			err := withApp(cmd, func(ctx context.Context) error {
				var err error
				keys, err = admin.ListKeys(ctx)
				return err
			}, &admin)
			if err != nil {
				return err
			}
			if asJSON {
				return printJSON(cmd.OutOrStdout(), map[string]any{"items": keys})
			}
			return printKeys(cmd.OutOrStdout(), keys)
		},
	}
	rotate := &cobra.Command{
		Use:   "rotate",
		Short: "Create a new signing key; it signs after AGENTIDP_KEY_PUBLISH_DELAY",
		Long: `Create a new signing key of AGENTIDP_SIGNING_ALG. It is published in the JWKS at once
and signs only after AGENTIDP_KEY_PUBLISH_DELAY, when the current key retires; the retired
key stays published until the last token it signed has expired. Running servers pick the
new key up within seconds. The rotation is audited (key.rotated).`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			var admin tokens.KeyAdmin
			var k tokens.KeyInfo
			err := withApp(cmd, func(ctx context.Context) error {
				var err error
				k, err = admin.RotateKey(ctx)
				return err
			}, &admin)
			if err != nil {
				return err
			}
			if asJSON {
				return printJSON(cmd.OutOrStdout(), k)
			}
			_, err = fmt.Fprintf(cmd.OutOrStdout(), "new signing key %s (%s): published now, signs from %s\n",
				k.KID, k.Alg, k.ActivatesAt.Format(time.RFC3339))
			return err
		},
	}
	for _, c := range []*cobra.Command{list, rotate} {
		c.Flags().BoolVar(&asJSON, "json", false, "print JSON")
		cmd.AddCommand(c)
	}
	return cmd
}

func printKeys(out io.Writer, keys []tokens.KeyInfo) error {
	tw := tabwriter.NewWriter(out, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "KID\tALG\tSTATE\tCREATED\tACTIVATES\tRETIRES")
	for _, k := range keys {
		retires := "-"
		if k.RetiresAt != nil {
			retires = k.RetiresAt.Format(time.RFC3339)
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\n", k.KID, k.Alg, k.State,
			k.CreatedAt.Format(time.RFC3339), k.ActivatesAt.Format(time.RFC3339), retires)
	}
	return tw.Flush()
}

func printJSON(out io.Writer, v any) error {
	enc := json.NewEncoder(out)
	enc.SetIndent("", "  ")
	return enc.Encode(v)
}
