-- tokens: every replica's revocation sync reads the revocations recorded since its last one
-- (revoked_at >= a mark), once a second.
CREATE INDEX IF NOT EXISTS token_revocations_revoked_idx ON token_revocations (revoked_at);
