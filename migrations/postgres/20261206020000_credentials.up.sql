-- credentials: secretless client authentication (SPEC §11).
-- credential_type: 'secret' (the version-1 kind: secret_hash or vault_path),
-- 'private_key_jwt' (jwks: the agent's public key set, as validated and given kids) or
-- 'federated' (trusted_issuer_id and subject: the external identity it accepts).
ALTER TABLE credentials ADD COLUMN IF NOT EXISTS credential_type   text NOT NULL DEFAULT 'secret';
ALTER TABLE credentials ADD COLUMN IF NOT EXISTS jwks              text NOT NULL DEFAULT '';
ALTER TABLE credentials ADD COLUMN IF NOT EXISTS trusted_issuer_id uuid NULL;
ALTER TABLE credentials ADD COLUMN IF NOT EXISTS subject           text NOT NULL DEFAULT '';

-- A trusted issuer's deletion revokes the credentials bound to it.
CREATE INDEX IF NOT EXISTS credentials_trusted_issuer_idx ON credentials (trusted_issuer_id)
    WHERE trusted_issuer_id IS NOT NULL;

-- trusted_issuers: the external token issuers an organization trusts for its agents'
-- federated credentials. Immutable; deleted_at marks a deletion (its credentials were
-- revoked then), after which the same issuer may be registered again.
CREATE TABLE IF NOT EXISTS trusted_issuers (
    issuer_id  uuid PRIMARY KEY,
    org_id     uuid        NOT NULL,
    issuer     text        NOT NULL,
    jwks       text        NOT NULL DEFAULT '',
    jwks_uri   text        NOT NULL DEFAULT '',
    created_at timestamptz NOT NULL,
    deleted_at timestamptz NULL
);

CREATE UNIQUE INDEX IF NOT EXISTS trusted_issuers_org_issuer_key ON trusted_issuers (org_id, issuer)
    WHERE deleted_at IS NULL;
CREATE INDEX IF NOT EXISTS trusted_issuers_org_idx ON trusted_issuers (org_id, issuer_id);
