package vault

import (
	"context"
	"fmt"

	"go.uber.org/fx"
	"go.uber.org/zap"

	"github.com/agentidp/agentidp/platform/config"
)

// Module provides KV: a Vault client when VAULT_ADDR is set, Disabled otherwise. It registers
// no readiness check itself; whoever assembles /readyz calls KV.Ready (Disabled's says yes).
var Module = fx.Module("vault", fx.Provide(New))

// New returns the Vault client of cfg when Vault mode is on (cfg.VaultEnabled), Disabled
// otherwise. It does not contact Vault: a Vault that is down at start shows in Ready, not as
// a failed start.
func New(cfg *config.Config, log *zap.Logger) (KV, error) {
	log = log.Named("vault")
	if !cfg.VaultEnabled() {
		log.Info("vault mode off (VAULT_ADDR not set)")
		return Disabled{}, nil
	}
	c, err := newClient(cfg.VaultAddr, cfg.VaultToken, cfg.VaultMount, defaultTimeout)
	if err != nil {
		return nil, err
	}
	log.Info("vault mode on", zap.String("addr", c.addr), zap.String("mount", c.mount))
	return c, nil
}

// Enabled reports whether kv is a real Vault client, that is whether Vault mode is on.
func Enabled(kv KV) bool {
	switch kv.(type) {
	case nil, Disabled, *Disabled:
		return false
	}
	return true
}

// Disabled is the KV when Vault mode is off: Read, Write and Delete return ErrDisabled, and
// Ready returns nil (there is nothing to wait for).
type Disabled struct{}

func (Disabled) Read(_ context.Context, path string) (map[string]string, error) {
	return nil, fmt.Errorf("vault: read %s: %w", path, ErrDisabled)
}

func (Disabled) Write(_ context.Context, path string, _ map[string]string) error {
	return fmt.Errorf("vault: write %s: %w", path, ErrDisabled)
}

func (Disabled) Delete(_ context.Context, path string) error {
	return fmt.Errorf("vault: delete %s: %w", path, ErrDisabled)
}

func (Disabled) Ready(context.Context) error { return nil }
