-- apis: the APIs (resource servers) registered in organizations (module apis). identifier is
-- the aud of the API's tokens, normalised by the application; it is unique among the live
-- APIs of an organization. A deleted API stays as a row (deleted_at set): the validator
-- refuses the tokens that name it (their private claim "api"), and its identifier can be
-- registered again in the organization only from reusable_at on, once its last token has
-- expired. scopes is a JSON array of {value, description}. token_ttl_seconds NULL means the
-- server's AGENTIDP_TOKEN_TTL. No foreign key to orgs: a module reaches another only
-- through its API.
CREATE TABLE IF NOT EXISTS apis (
    api_id            uuid        PRIMARY KEY,
    org_id            uuid        NOT NULL,
    identifier        text        NOT NULL CHECK (char_length(identifier) BETWEEN 1 AND 512),
    name              text        NOT NULL CHECK (char_length(name) BETWEEN 1 AND 128),
    scopes            jsonb       NOT NULL DEFAULT '[]',
    token_ttl_seconds integer     NULL CHECK (token_ttl_seconds > 0),
    require_dpop      boolean     NOT NULL DEFAULT false,
    created_at        timestamptz NOT NULL,
    updated_at        timestamptz NOT NULL,
    deleted_at        timestamptz NULL,
    reusable_at       timestamptz NULL
);

-- One live API per identifier in an organization; the reuse check also reads deleted ones.
CREATE UNIQUE INDEX IF NOT EXISTS apis_live_identifier_idx ON apis (org_id, identifier) WHERE deleted_at IS NULL;
CREATE INDEX IF NOT EXISTS apis_identifier_idx ON apis (org_id, identifier);
-- Keyset pagination of the live APIs, newest first, over every organization and in one.
CREATE INDEX IF NOT EXISTS apis_created_idx ON apis (created_at DESC, api_id DESC) WHERE deleted_at IS NULL;
CREATE INDEX IF NOT EXISTS apis_org_created_idx ON apis (org_id, created_at DESC, api_id DESC) WHERE deleted_at IS NULL;
-- Every replica's poll of what changed (a deletion moves updated_at too).
CREATE INDEX IF NOT EXISTS apis_updated_idx ON apis (updated_at);

-- api_grants: an agent's grants on its organization's APIs, one row per agent that ever had
-- grants (an empty array once they are all gone, so that the poll sees the change).
-- grants is a JSON array of {api_id, audience, scopes}. updated_at moves with every change
-- of the agent's grants: setting them, an API losing a scope, an API deleted.
CREATE TABLE IF NOT EXISTS api_grants (
    agent_id   uuid        PRIMARY KEY,
    org_id     uuid        NOT NULL,
    grants     jsonb       NOT NULL DEFAULT '[]',
    updated_at timestamptz NOT NULL
);

CREATE INDEX IF NOT EXISTS api_grants_org_idx ON api_grants (org_id);
CREATE INDEX IF NOT EXISTS api_grants_updated_idx ON api_grants (updated_at);
