-- agents: delegates (SPEC §13): the ids of the agents of the same organization that may act
-- for this one (token exchange, RFC 8693). A JSON array of agent ids, empty by default.
ALTER TABLE agents ADD COLUMN delegates jsonb NOT NULL DEFAULT '[]';
