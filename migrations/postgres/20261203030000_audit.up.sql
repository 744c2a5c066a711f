-- audit_events: every event belongs to an organization (org_id: the org of the agent it
-- concerns, else the actor's; modules/audit). Rows written before this migration keep
-- org_id NULL: the table refuses UPDATE, and their hash does not cover the column. They are
-- root's (every agent of version 1 is in root), and the root filter selects them too.
-- hash_version says which canonical encoding a row's hash covers (modules/audit/hash.go):
-- 1 for the rows already there (the default fills them without an UPDATE: adding a column
-- is not a row update, and no trigger fires), 2 from now on (org_id included).
ALTER TABLE audit_events ADD COLUMN IF NOT EXISTS org_id uuid NULL;
ALTER TABLE audit_events ADD COLUMN IF NOT EXISTS hash_version smallint NOT NULL DEFAULT 1;

-- The org_id filter (each organization's own list and export), newest first.
CREATE INDEX IF NOT EXISTS audit_events_org_time_idx ON audit_events (org_id, occurred_at DESC, seq DESC);
