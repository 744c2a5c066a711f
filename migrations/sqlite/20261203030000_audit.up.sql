-- audit_events: the organization of every event, and the version of each row's hash
-- encoding; see the PostgreSQL migration of the same version. Adding a column updates no
-- row, so the append-only triggers do not fire.
ALTER TABLE audit_events ADD COLUMN org_id TEXT NULL;
ALTER TABLE audit_events ADD COLUMN hash_version INTEGER NOT NULL DEFAULT 1;

CREATE INDEX IF NOT EXISTS audit_events_org_time_idx ON audit_events (org_id, occurred_at DESC, seq DESC);
