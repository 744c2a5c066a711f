-- apis and api_grants (module apis); see the PostgreSQL migration of the same version.
CREATE TABLE IF NOT EXISTS apis (
    api_id            TEXT    PRIMARY KEY,
    org_id            TEXT    NOT NULL,
    identifier        TEXT    NOT NULL CHECK (length(identifier) BETWEEN 1 AND 512),
    name              TEXT    NOT NULL CHECK (length(name) BETWEEN 1 AND 128),
    scopes            TEXT    NOT NULL DEFAULT '[]',
    token_ttl_seconds INTEGER NULL CHECK (token_ttl_seconds > 0),
    require_dpop      INTEGER NOT NULL DEFAULT 0 CHECK (require_dpop IN (0, 1)),
    created_at        TEXT    NOT NULL,
    updated_at        TEXT    NOT NULL,
    deleted_at        TEXT    NULL,
    reusable_at       TEXT    NULL
);

CREATE UNIQUE INDEX IF NOT EXISTS apis_live_identifier_idx ON apis (org_id, identifier) WHERE deleted_at IS NULL;
CREATE INDEX IF NOT EXISTS apis_identifier_idx ON apis (org_id, identifier);
CREATE INDEX IF NOT EXISTS apis_created_idx ON apis (created_at DESC, api_id DESC) WHERE deleted_at IS NULL;
CREATE INDEX IF NOT EXISTS apis_org_created_idx ON apis (org_id, created_at DESC, api_id DESC) WHERE deleted_at IS NULL;
CREATE INDEX IF NOT EXISTS apis_updated_idx ON apis (updated_at);

CREATE TABLE IF NOT EXISTS api_grants (
    agent_id   TEXT PRIMARY KEY,
    org_id     TEXT NOT NULL,
    grants     TEXT NOT NULL DEFAULT '[]',
    updated_at TEXT NOT NULL
);

CREATE INDEX IF NOT EXISTS api_grants_org_idx ON api_grants (org_id);
CREATE INDEX IF NOT EXISTS api_grants_updated_idx ON api_grants (updated_at);
