-- agents: every agent belongs to an organization; see the PostgreSQL migration of the same
-- version.
ALTER TABLE agents ADD COLUMN org_id TEXT NOT NULL DEFAULT '00000000-0000-0000-0000-000000000001';

CREATE INDEX IF NOT EXISTS agents_org_created_idx ON agents (org_id, created_at DESC, agent_id DESC);
CREATE INDEX IF NOT EXISTS agents_org_status_created_idx ON agents (org_id, status, created_at DESC, agent_id DESC);
CREATE INDEX IF NOT EXISTS agents_org_owner_created_idx ON agents (org_id, owner, created_at DESC, agent_id DESC);
CREATE INDEX IF NOT EXISTS agents_org_free_live_idx ON agents (org_id, plan) WHERE status <> 'decommissioned';

UPDATE agents SET allowed_scopes = (
    SELECT json_group_array(value) FROM (
        SELECT value FROM json_each(agents.allowed_scopes)
        UNION ALL
        SELECT value FROM json_each('["orgs:admin", "apis:read", "apis:write"]')
        WHERE value NOT IN (SELECT value FROM json_each(agents.allowed_scopes))))
WHERE is_admin = 1;
