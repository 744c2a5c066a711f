-- audit_archives: one row per `agentidp audit archive`; see the PostgreSQL migration of the
-- same version. SQLite's audit_events is not partitioned: the archive deletes the archived
-- rows itself, with the append-only triggers lifted for that one transaction.
CREATE TABLE IF NOT EXISTS audit_archives (
    through_seq INTEGER NOT NULL PRIMARY KEY,
    last_hash   TEXT    NOT NULL,
    frontier    BLOB    NOT NULL,
    before      TEXT    NOT NULL,
    archived_at TEXT    NOT NULL
);
