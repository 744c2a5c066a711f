package main

import (
	"context"
	"fmt"

	"github.com/spf13/cobra"

	"github.com/agentidp/agentidp/platform/database"
)

func migrateCmd() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "migrate",
		Short: "Apply or inspect database migrations",
		Long: `Apply or inspect the SQL migrations embedded in the binary, against
AGENTIDP_DATABASE_URL (PostgreSQL) or, without it, the SQLite file in AGENTIDP_DATA_DIR.`,
	}
	cmd.AddCommand(&cobra.Command{
		Use:   "up",
		Short: "Apply every pending migration (safe to run from several replicas at once)",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			cfg, err := loadStoreConfig(cmd)
			if err != nil {
				return err
			}
			db, err := database.Open(cmd.Context(), cfg)
			if err != nil {
				return err
			}
			defer db.Close()
			applied, err := database.MigrateUp(cmd.Context(), db)
			if err != nil {
				return err
			}
			if len(applied) == 0 {
				fmt.Fprintln(cmd.OutOrStdout(), "database is up to date")
			}
			for _, name := range applied {
				fmt.Fprintln(cmd.OutOrStdout(), "applied", name)
			}
			return nil
		},
	})
	cmd.AddCommand(&cobra.Command{
		Use:   "status",
		Short: "List every migration and whether it is applied; exits 1 when some are pending",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			cfg, err := loadStoreConfig(cmd)
			if err != nil {
				return err
			}
			db, err := database.Open(context.Background(), cfg)
			if err != nil {
				return err
			}
			defer db.Close()
			st, err := database.Status(cmd.Context(), db)
			if err != nil {
				return err
			}
			pending := 0
			for _, s := range st {
				state := "applied"
				if !s.Applied {
					state, pending = "pending", pending+1
				}
				fmt.Fprintf(cmd.OutOrStdout(), "%-8s %s\n", state, s.Name)
			}
			if pending > 0 {
				return fmt.Errorf("%d migrations pending; run agentidp migrate up", pending)
			}
			return nil
		},
	})
	return cmd
}
