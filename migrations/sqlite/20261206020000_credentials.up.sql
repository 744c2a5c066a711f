-- credentials: secretless client authentication; see the PostgreSQL migration of the same
-- version for the meaning of each column.
ALTER TABLE credentials ADD COLUMN credential_type   TEXT NOT NULL DEFAULT 'secret';
ALTER TABLE credentials ADD COLUMN jwks              TEXT NOT NULL DEFAULT '';
ALTER TABLE credentials ADD COLUMN trusted_issuer_id TEXT NULL;
ALTER TABLE credentials ADD COLUMN subject           TEXT NOT NULL DEFAULT '';

CREATE INDEX IF NOT EXISTS credentials_trusted_issuer_idx ON credentials (trusted_issuer_id)
    WHERE trusted_issuer_id IS NOT NULL;

CREATE TABLE IF NOT EXISTS trusted_issuers (
    issuer_id  TEXT PRIMARY KEY,
    org_id     TEXT NOT NULL,
    issuer     TEXT NOT NULL,
    jwks       TEXT NOT NULL DEFAULT '',
    jwks_uri   TEXT NOT NULL DEFAULT '',
    created_at TEXT NOT NULL,
    deleted_at TEXT NULL
);

CREATE UNIQUE INDEX IF NOT EXISTS trusted_issuers_org_issuer_key ON trusted_issuers (org_id, issuer)
    WHERE deleted_at IS NULL;
CREATE INDEX IF NOT EXISTS trusted_issuers_org_idx ON trusted_issuers (org_id, issuer_id);
