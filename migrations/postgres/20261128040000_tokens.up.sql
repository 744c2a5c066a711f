-- tokens: signing keys and token revocations (module tokens).
--
-- signing_keys: one row per JWS signing key. A key's state is derived from its times, so
-- every replica agrees without a writer flipping states: pending before activates_at
-- (published in the JWKS, not signing), active from activates_at until retires_at (signing),
-- retired from retires_at (still published until its last token expires). public_jwk is
-- the public JWK as served; private_key is the PKCS#8 DER private key sealed with
-- AES-256-GCM under AGENTIDP_MASTER_KEY (key_nonce, additional data = kid); key_wrap names
-- that scheme so that another one (Vault) can be added.
CREATE TABLE IF NOT EXISTS signing_keys (
    kid          text        PRIMARY KEY CHECK (char_length(kid) BETWEEN 1 AND 128),
    alg          text        NOT NULL CHECK (alg IN ('RS256', 'ES256', 'EdDSA')),
    public_jwk   text        NOT NULL,
    private_key  bytea       NOT NULL,
    key_nonce    bytea       NOT NULL,
    key_wrap     text        NOT NULL DEFAULT 'a256gcm',
    created_at   timestamptz NOT NULL,
    activates_at timestamptz NOT NULL,
    retires_at   timestamptz NULL
);

CREATE INDEX IF NOT EXISTS signing_keys_activates_idx ON signing_keys (activates_at DESC);

-- token_revocations: the durable record (source of truth) of revoked access tokens, kept
-- until the token would have expired anyway. Redis holds revoked:{jti} as an accelerator.
CREATE TABLE IF NOT EXISTS token_revocations (
    jti        uuid        PRIMARY KEY,
    agent_id   uuid        NOT NULL,
    expires_at timestamptz NOT NULL,
    revoked_at timestamptz NOT NULL
);

CREATE INDEX IF NOT EXISTS token_revocations_expires_idx ON token_revocations (expires_at);
