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

// ResetAdmin implements Bootstrapper: the operator's way back in when the bootstrap
// admin's secret is lost or leaked (`agentidp bootstrap --reset`, on the server host). In
// one transaction it revokes every live credential of the admin (each audited
// credential.revoked, reason bootstrap_reset) and issues a new one (credential.created,
// bootstrap and reset). The admin's status, scopes and tokens already issued are left as
// they are: tokens minted by a revoked credential stop with it.
func (s *service) ResetAdmin(ctx context.Context) (*BootstrapResult, error) {
	agentID, err := s.provisioner.AdminID(ctx)
	if err != nil {
		return nil, err
	}
	if agentID == "" {
		return nil, ErrNoAdmin
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
		now := s.now()
		old, err := s.repo.live(ctx, tx, agentID, now, 0)
		if err != nil {
			return err
		}
		if err := s.repo.revokeAgent(ctx, tx, agentID, database.Time(now)); err != nil {
			return err
		}
		for i := range old {
			if err := s.audit.RecordTx(ctx, tx, audittrail.Event{
				Action: actionRevoked, AgentID: agentID,
				TargetType: audittrail.TargetCredential, TargetID: old[i].ID,
				Details: map[string]any{"reason": "bootstrap_reset"},
			}); err != nil {
				return err
			}
		}
		if err := s.repo.insert(ctx, tx, row); err != nil {
			return err
		}
		details := createdDetails(row, true)
		details["reset"] = true
		details["revoked"] = len(old)
		return s.audit.RecordTx(ctx, tx, audittrail.Event{
			Action: actionCreated, AgentID: agentID,
			TargetType: audittrail.TargetCredential, TargetID: row.ID,
			Details: details,
		})
	})
	if err != nil {
		s.discard(ctx, row)
		return nil, err
	}
	s.inval.invalidate(ctx, agentID)
	return &BootstrapResult{ClientID: agentID, ClientSecret: secret, CredentialID: row.ID}, nil
}
