-- orgs: organizations (module orgs). Every agent belongs to one (agents.org_id); the root
-- organization, with the fixed id 00000000-0000-0000-0000-000000000001, is made by the orgs
-- module at start when missing. name is unique without regard to case (name_lower).
-- max_agents NULL means the configured default (AGENTIDP_FREE_TIER_MAX_AGENTS).
-- tokens_not_before is the last suspension: every token of the org issued at or before it
-- is dead.
CREATE TABLE IF NOT EXISTS orgs (
    org_id            uuid        PRIMARY KEY,
    name              text        NOT NULL CHECK (char_length(name) BETWEEN 1 AND 128),
    name_lower        text        NOT NULL UNIQUE,
    status            text        NOT NULL DEFAULT 'active' CHECK (status IN ('active', 'suspended')),
    max_agents        integer     NULL CHECK (max_agents >= 0),
    metadata          jsonb       NOT NULL DEFAULT '{}',
    created_at        timestamptz NOT NULL,
    updated_at        timestamptz NOT NULL,
    tokens_not_before timestamptz NULL
);

-- Keyset pagination, newest first; every replica's poll of what changed.
CREATE INDEX IF NOT EXISTS orgs_created_idx ON orgs (created_at DESC, org_id DESC);
CREATE INDEX IF NOT EXISTS orgs_updated_idx ON orgs (updated_at);
