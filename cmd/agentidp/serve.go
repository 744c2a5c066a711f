package main

import (
	"context"
	"fmt"
	"os"
	"time"

	"github.com/spf13/cobra"
	"go.uber.org/fx"

	"github.com/agentidp/agentidp/cmd/agentidp/app"
	"github.com/agentidp/agentidp/platform/config"
)

func serveCmd() *cobra.Command {
	return &cobra.Command{
		Use:   "serve",
		Short: "Run the server",
		Long: `Run the HTTP server: the OAuth 2.0 endpoints, the management API and the dashboard.
Applies pending migrations first unless AGENTIDP_AUTO_MIGRATE=false. On first start
against an empty database it prints the bootstrap admin's credentials once. SIGINT or
SIGTERM drains in-flight requests and flushes pending writes before exiting.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			cfg, err := loadConfig(cmd)
			if err != nil {
				return err
			}
			a := fx.New(app.Options(cfg))
			if err := a.Err(); err != nil {
				return err
			}
			startCtx, cancel := context.WithTimeout(cmd.Context(), 60*time.Second)
			defer cancel()
			if err := a.Start(startCtx); err != nil {
				return err
			}
			sig := <-a.Wait() // SIGINT, SIGTERM or an fx.Shutdowner call
			stopCtx, cancelStop := context.WithTimeout(context.Background(), cfg.ShutdownTimeout+5*time.Second)
			defer cancelStop()
			if err := a.Stop(stopCtx); err != nil {
				return err
			}
			if sig.ExitCode != 0 {
				return fmt.Errorf("stopped with exit code %d", sig.ExitCode)
			}
			return nil
		},
	}
}

func loadConfig(cmd *cobra.Command) (*config.Config, error) {
	file, _ := cmd.Flags().GetString("config")
	return config.Load(file, os.Environ())
}
