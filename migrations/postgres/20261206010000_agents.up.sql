-- agents: the q filter (name_lower LIKE '%…%') through a trigram index, across every
-- organization (a holder of orgs:admin) and within one (org_id = … AND name_lower LIKE …:
-- btree_gin puts the uuid column in the same GIN index, so the two conditions meet inside
-- it). Measured at 1,000 organizations × 1,000 agents (docs/performance.md, "1,000
-- organizations × 1,000 agents"): without it a q that few names match reads the whole table
-- (~0.4 s) and an organization's q reads each of its agents' rows; a GIN index on name_lower
-- alone made the organization's q slower (the planner ANDs it with the org_id btree, and
-- every match in every organization is read). fastupdate off: a search reads the index
-- alone, never a pending list left by recent inserts; creating or renaming an agent updates
-- the index at once instead. The planner keeps the created_at indexes for a q that many
-- names match. Building it takes 5–30 s per million agents on the development machine
-- (quiet or busy), during which agents cannot be written.
-- pg_trgm and btree_gin ship with PostgreSQL (contrib) and are trusted extensions: a role
-- with CREATE on the database (its owner) creates them without being a superuser.
CREATE EXTENSION IF NOT EXISTS pg_trgm;
CREATE EXTENSION IF NOT EXISTS btree_gin;

CREATE INDEX IF NOT EXISTS agents_org_name_trgm_idx ON agents
    USING gin (org_id, name_lower gin_trgm_ops) WITH (fastupdate = off);
