package credentials

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"os"

	"github.com/google/uuid"
	"github.com/uptrace/bun"
	"go.uber.org/fx"

	"github.com/agentidp/agentidp/modules/agents"
	"github.com/agentidp/agentidp/platform/audittrail"
	"github.com/agentidp/agentidp/platform/config"
	"github.com/agentidp/agentidp/platform/database"
)

// Bootstrap admin settings.
const (
	bootstrapName = "bootstrap-admin"
	// SecretFromEnv is printed instead of a secret the operator supplied.
	SecretFromEnv = "(from AGENTIDP_BOOTSTRAP_CLIENT_SECRET)"
)

// bootstrapLockKey is the PostgreSQL advisory lock that serialises bootstraps of replicas
// starting together ("agidpbst").
var bootstrapLockKey = int64(binary.BigEndian.Uint64([]byte("agidpbst")))

// Bootstrap implements Bootstrapper: unless an admin exists, it creates the admin agent
// (every known scope, plan unlimited) and its credential in one transaction, both audited
// there. The id and secret come from AGENTIDP_BOOTSTRAP_CLIENT_ID/SECRET when set.
func (s *service) Bootstrap(ctx context.Context) (*BootstrapResult, error) {
	if exists, err := s.provisioner.AdminExists(ctx); err != nil {
		return nil, err
	} else if exists {
		return nil, ErrAdminExists
	}
	agentID := s.cfg.BootstrapClientID
	if agentID == "" {
		agentID = uuid.NewString()
	} else if id, err := uuid.Parse(agentID); err != nil {
		return nil, errors.New("AGENTIDP_BOOTSTRAP_CLIENT_ID: want a UUID")
	} else {
		agentID = id.String()
	}
	secret := s.cfg.BootstrapClientSecret
	if secret != "" && !wellFormedSecret(secret) {
		return nil, errors.New("AGENTIDP_BOOTSTRAP_CLIENT_SECRET: want sk_live_ followed by 43 base64url characters (value not shown)")
	}
	row, secret, err := s.prepare(ctx, agentID, secret, nil, nil)
	if err != nil {
		return nil, err
	}
	err = s.db.RunInTx(ctx, nil, func(ctx context.Context, tx bun.Tx) error {
		if database.IsPostgres(tx) {
			if _, err := tx.ExecContext(ctx, "SELECT pg_advisory_xact_lock(?)", bootstrapLockKey); err != nil {
				return database.Translate(err)
			}
		}
		// Checked again under the lock: another replica may have just bootstrapped.
		if exists, err := s.provisioner.AdminExists(ctx); err != nil {
			return err
		} else if exists {
			return ErrAdminExists
		}
		a, err := s.provisioner.CreateInTx(ctx, tx, agents.NewAgent{
			ID:            agentID,
			Name:          bootstrapName,
			Description:   "Administrator created by the bootstrap on first start",
			AllowedScopes: s.policy.KnownScopes(),
			Plan:          agents.PlanUnlimited,
		})
		if err != nil {
			return err
		}
		row.AgentID = a.ID
		if err := s.repo.insert(ctx, tx, row); err != nil {
			return err
		}
		return s.audit.RecordTx(ctx, tx, audittrail.Event{
			Action: actionCreated, AgentID: a.ID,
			TargetType: audittrail.TargetCredential, TargetID: row.ID,
			Details: createdDetails(row, true),
		})
	})
	if err != nil {
		s.discard(ctx, row)
		return nil, err
	}
	s.inval.invalidate(ctx, row.AgentID)
	return &BootstrapResult{ClientID: row.AgentID, ClientSecret: secret, CredentialID: row.ID}, nil
}

// BootstrapLine is the one line announcing the bootstrap admin on standard output. A secret
// the operator supplied through the environment is not echoed.
func BootstrapLine(res *BootstrapResult, secretFromEnv bool) string {
	secret := res.ClientSecret
	if secretFromEnv {
		secret = SecretFromEnv
	}
	return fmt.Sprintf("bootstrap admin: client_id=%s client_secret=%s", res.ClientID, secret)
}

// AutoBootstrap is the serve-time bootstrap: on start, when no admin exists, it creates one
// and prints its credentials once to standard output (not through the logger, whose
// redaction would hide the secret). A replica that finds an admin prints nothing.
var AutoBootstrap = AutoBootstrapTo(os.Stdout)

// AutoBootstrapTo is AutoBootstrap printing to w (for tests).
func AutoBootstrapTo(w io.Writer) fx.Option {
	return fx.Invoke(func(lc fx.Lifecycle, b Bootstrapper, cfg *config.Config) {
		lc.Append(fx.StartHook(func(ctx context.Context) error {
			res, err := b.Bootstrap(ctx)
			if errors.Is(err, ErrAdminExists) {
				return nil
			}
			if err != nil {
				return fmt.Errorf("bootstrap admin: %w", err)
			}
			_, err = fmt.Fprintln(w, BootstrapLine(res, cfg.BootstrapClientSecret != ""))
			return err
		}))
	})
}
