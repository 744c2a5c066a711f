-- credentials: the client secrets of agents (module credentials); see the PostgreSQL
-- migration of the same version for the meaning of each column.
CREATE TABLE IF NOT EXISTS credentials (
    credential_id TEXT PRIMARY KEY,
    agent_id      TEXT NOT NULL,
    secret_hash   TEXT NOT NULL DEFAULT '',
    vault_path    TEXT NOT NULL DEFAULT '',
    secret_prefix TEXT NOT NULL,
    rotated_from  TEXT NULL,
    created_at    TEXT NOT NULL,
    expires_at    TEXT NULL,
    revoked_at    TEXT NULL,
    last_used_at  TEXT NULL
);

CREATE INDEX IF NOT EXISTS credentials_agent_idx ON credentials (agent_id, credential_id);

CREATE INDEX IF NOT EXISTS credentials_vault_idx ON credentials (credential_id) WHERE vault_path <> '';
