-- audit_events.org_seq and audit_org_heads (each organization's last org_seq); see the
-- PostgreSQL migration of the same version. Adding a column updates no row, so the
-- append-only triggers do not fire.
ALTER TABLE audit_events ADD COLUMN org_seq INTEGER NULL;

CREATE TABLE IF NOT EXISTS audit_org_heads (
    org_id  TEXT    NOT NULL PRIMARY KEY,
    org_seq INTEGER NOT NULL
) WITHOUT ROWID;

CREATE TRIGGER IF NOT EXISTS audit_org_heads_no_delete
BEFORE DELETE ON audit_org_heads
BEGIN
    SELECT RAISE(ABORT, 'audit_org_heads: DELETE refused');
END;
