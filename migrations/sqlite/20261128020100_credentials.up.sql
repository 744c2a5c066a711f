-- credentials: every replica polls the credentials created or revoked since its last poll
-- (created_at or revoked_at >= a mark), once a second, to drop their agents from its cache
-- when the broadcast did not reach it.
CREATE INDEX IF NOT EXISTS credentials_created_idx ON credentials (created_at);
CREATE INDEX IF NOT EXISTS credentials_revoked_idx ON credentials (revoked_at);
