-- agents: one row per agent identity (module agents). Arrays and metadata are JSON text;
-- name_lower is the name lower-cased by the application, searched by the q filter with the
-- same semantics on both dialects. Times are bun's fixed UTC text format, so they sort.
CREATE TABLE agents (
    agent_id          TEXT    PRIMARY KEY,
    name              TEXT    NOT NULL CHECK (length(name) BETWEEN 1 AND 128),
    name_lower        TEXT    NOT NULL,
    description       TEXT    NOT NULL DEFAULT '' CHECK (length(description) <= 1024),
    owner             TEXT    NOT NULL DEFAULT '' CHECK (length(owner) <= 256),
    status            TEXT    NOT NULL DEFAULT 'active'
                              CHECK (status IN ('active', 'suspended', 'decommissioned')),
    allowed_scopes    TEXT    NOT NULL DEFAULT '[]',
    allowed_audiences TEXT    NOT NULL DEFAULT '[]',
    plan              TEXT    NOT NULL DEFAULT 'free' CHECK (plan IN ('free', 'unlimited')),
    metadata          TEXT    NOT NULL DEFAULT '{}',
    is_admin          INTEGER NOT NULL DEFAULT 0 CHECK (is_admin IN (0, 1)),
    created_at        TEXT    NOT NULL,
    updated_at        TEXT    NOT NULL,
    tokens_not_before TEXT    NULL
);

-- Keyset pagination, newest first, alone and under each equality filter.
CREATE INDEX agents_created_idx ON agents (created_at DESC, agent_id DESC);
CREATE INDEX agents_status_created_idx ON agents (status, created_at DESC, agent_id DESC);
CREATE INDEX agents_owner_created_idx ON agents (owner, created_at DESC, agent_id DESC);
-- The free plan's agent limit counts these.
CREATE INDEX agents_free_live_idx ON agents (plan) WHERE status <> 'decommissioned';
