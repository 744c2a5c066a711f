-- agents: every agent belongs to an organization, fixed at creation; the agents of a
-- version-1 database go into root. Lists and the free plan's limit are per organization.
-- The bootstrap admin gains the scopes version 2 adds (orgs:admin, apis:read, apis:write).
ALTER TABLE agents ADD COLUMN IF NOT EXISTS org_id uuid NOT NULL DEFAULT '00000000-0000-0000-0000-000000000001';

CREATE INDEX IF NOT EXISTS agents_org_created_idx ON agents (org_id, created_at DESC, agent_id DESC);
CREATE INDEX IF NOT EXISTS agents_org_status_created_idx ON agents (org_id, status, created_at DESC, agent_id DESC);
CREATE INDEX IF NOT EXISTS agents_org_owner_created_idx ON agents (org_id, owner, created_at DESC, agent_id DESC);
CREATE INDEX IF NOT EXISTS agents_org_free_live_idx ON agents (org_id, plan) WHERE status <> 'decommissioned';

UPDATE agents SET allowed_scopes = allowed_scopes || (
    SELECT coalesce(jsonb_agg(s), '[]'::jsonb)
    FROM jsonb_array_elements_text('["orgs:admin", "apis:read", "apis:write"]'::jsonb) AS s
    WHERE NOT agents.allowed_scopes ? s)
WHERE is_admin;
