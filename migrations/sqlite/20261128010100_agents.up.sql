-- agents: every replica polls the agents changed since its last poll (updated_at >= a
-- mark), once a second, to drop them from its cache when the broadcast did not reach it.
CREATE INDEX IF NOT EXISTS agents_updated_idx ON agents (updated_at);
