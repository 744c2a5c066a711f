-- credentials: the client secrets of agents (module credentials).
-- secret_hash is versioned: "h1$<base64 HMAC-SHA-256(pepper, secret)>", or a bcrypt hash
-- ("$2a$…", "$2b$…") of an imported credential; empty when the secret lives in Vault
-- (vault_path set). revoked_at may lie in the future: the end of a rotation's grace period.
-- credential_id is a UUIDv7 (time ordered), so lists page by id. No foreign key to agents:
-- a module owns its tables and reaches another module only through its API.
CREATE TABLE IF NOT EXISTS credentials (
    credential_id uuid PRIMARY KEY,
    agent_id      uuid        NOT NULL,
    secret_hash   text        NOT NULL DEFAULT '',
    vault_path    text        NOT NULL DEFAULT '',
    secret_prefix text        NOT NULL,
    rotated_from  uuid        NULL,
    created_at    timestamptz NOT NULL,
    expires_at    timestamptz NULL,
    revoked_at    timestamptz NULL,
    last_used_at  timestamptz NULL
);

CREATE INDEX IF NOT EXISTS credentials_agent_idx ON credentials (agent_id, credential_id);

-- Vault entries still to delete once their credential is revoked or expired (the janitor
-- clears vault_path after deleting the entry).
CREATE INDEX IF NOT EXISTS credentials_vault_idx ON credentials (credential_id) WHERE vault_path <> '';
