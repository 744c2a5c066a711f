-- tokens: signing keys and token revocations (module tokens); see the PostgreSQL migration
-- of the same version for the meaning of each column.
CREATE TABLE IF NOT EXISTS signing_keys (
    kid          TEXT PRIMARY KEY CHECK (length(kid) BETWEEN 1 AND 128),
    alg          TEXT NOT NULL CHECK (alg IN ('RS256', 'ES256', 'EdDSA')),
    public_jwk   TEXT NOT NULL,
    private_key  BLOB NOT NULL,
    key_nonce    BLOB NOT NULL,
    key_wrap     TEXT NOT NULL DEFAULT 'a256gcm',
    created_at   TEXT NOT NULL,
    activates_at TEXT NOT NULL,
    retires_at   TEXT NULL
);

CREATE INDEX IF NOT EXISTS signing_keys_activates_idx ON signing_keys (activates_at DESC);

CREATE TABLE IF NOT EXISTS token_revocations (
    jti        TEXT PRIMARY KEY,
    agent_id   TEXT NOT NULL,
    expires_at TEXT NOT NULL,
    revoked_at TEXT NOT NULL
);

CREATE INDEX IF NOT EXISTS token_revocations_expires_idx ON token_revocations (expires_at);
