package credentials

import (
	"context"
	"encoding/binary"
	"errors"

	"github.com/google/uuid"
	"github.com/uptrace/bun"

	"github.com/agentidp/agentidp/modules/agents"
	"github.com/agentidp/agentidp/platform/audittrail"
	"github.com/agentidp/agentidp/platform/database"
	"github.com/agentidp/agentidp/platform/ident"
)

// Bootstrap admin settings.
const (
	bootstrapName = "bootstrap-admin"
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
	} else if id, ok := ident.Canonical(agentID); !ok {
		return nil, errors.New("AGENTIDP_BOOTSTRAP_CLIENT_ID: want a UUID")
	} else {
		agentID = id
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
