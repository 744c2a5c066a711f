package credentials

import (
	"context"
	"fmt"

	"github.com/google/uuid"
	"github.com/uptrace/bun"

	"github.com/agentidp/agentidp/modules/agents"
	"github.com/agentidp/agentidp/modules/orgs"
	"github.com/agentidp/agentidp/platform/audittrail"
)

var _ orgs.AdminProvisioner = (*service)(nil)

// ProvisionAdminInTx implements orgs.AdminProvisioner: in the transaction that creates an
// organization, its first admin agent (through agents.Provisioner, audited there) and one
// credential, audited as credential.created, as the bootstrap makes root's admin. In Vault
// mode the secret goes to Vault first; undo deletes it when tx does not commit. The
// verifier's caches need no drop: nothing can have cached an agent id made here.
func (s *service) ProvisionAdminInTx(ctx context.Context, tx bun.Tx, in orgs.NewAdmin) (orgs.Admin, func(context.Context), error) {
	id, err := uuid.NewV7()
	if err != nil {
		return orgs.Admin{}, nil, fmt.Errorf("generating an agent id: %w", err)
	}
	row, secret, err := s.prepare(ctx, id.String(), "", nil, nil)
	if err != nil {
		return orgs.Admin{}, nil, err
	}
	undo := func(ctx context.Context) { s.discard(ctx, row) }
	fail := func(err error) (orgs.Admin, func(context.Context), error) {
		undo(ctx)
		return orgs.Admin{}, nil, err
	}
	a, err := s.provisioner.CreateInTx(ctx, tx, agents.NewAgent{
		ID:            row.AgentID,
		Org:           in.Org,
		Name:          in.Name,
		Description:   in.Description,
		AllowedScopes: in.AllowedScopes,
		Plan:          agents.Plan(in.Plan),
		OrgAdmin:      true,
	})
	if err != nil {
		return fail(err)
	}
	if err := s.repo.insert(ctx, tx, row); err != nil {
		return fail(err)
	}
	err = s.audit.RecordTx(ctx, tx, audittrail.Event{
		Action: actionCreated, AgentID: a.ID, OrgID: a.OrgID,
		TargetType: audittrail.TargetCredential, TargetID: row.ID,
		Details: createdDetails(row, false),
	})
	if err != nil {
		return fail(err)
	}
	return orgs.Admin{AgentID: a.ID, ClientID: a.ID, ClientSecret: secret, CredentialID: row.ID}, undo, nil
}
