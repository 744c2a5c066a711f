-- agents: one row per agent identity (module agents). Arrays and metadata are JSON;
-- name_lower is the name lower-cased by the application, searched by the q filter with the
-- same semantics on both dialects.
CREATE TABLE agents (
    agent_id          uuid        PRIMARY KEY,
    name              text        NOT NULL CHECK (char_length(name) BETWEEN 1 AND 128),
    name_lower        text        NOT NULL,
    description       text        NOT NULL DEFAULT '' CHECK (char_length(description) <= 1024),
    owner             text        NOT NULL DEFAULT '' CHECK (char_length(owner) <= 256),
    status            text        NOT NULL DEFAULT 'active'
                                  CHECK (status IN ('active', 'suspended', 'decommissioned')),
    allowed_scopes    jsonb       NOT NULL DEFAULT '[]',
    allowed_audiences jsonb       NOT NULL DEFAULT '[]',
    plan              text        NOT NULL DEFAULT 'free' CHECK (plan IN ('free', 'unlimited')),
    metadata          jsonb       NOT NULL DEFAULT '{}',
    is_admin          boolean     NOT NULL DEFAULT false,
    created_at        timestamptz NOT NULL,
    updated_at        timestamptz NOT NULL,
    tokens_not_before timestamptz NULL
);

-- Keyset pagination, newest first, alone and under each equality filter.
CREATE INDEX agents_created_idx ON agents (created_at DESC, agent_id DESC);
CREATE INDEX agents_status_created_idx ON agents (status, created_at DESC, agent_id DESC);
CREATE INDEX agents_owner_created_idx ON agents (owner, created_at DESC, agent_id DESC);
-- The free plan's agent limit counts these.
CREATE INDEX agents_free_live_idx ON agents (plan) WHERE status <> 'decommissioned';
