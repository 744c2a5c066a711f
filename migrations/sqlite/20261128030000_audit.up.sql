-- audit_events: the append-only, hash-chained audit log (module audit); see the PostgreSQL
-- migration of the same version for the meaning of each column. SQLite serialises write
-- transactions (the DSN uses _txlock=immediate), so the chain tail needs no extra lock.
-- occurred_at is bun's UTC text form, which sorts in time order.
CREATE TABLE IF NOT EXISTS audit_events (
    seq         INTEGER NOT NULL PRIMARY KEY,
    event_id    TEXT    NOT NULL UNIQUE,
    occurred_at TEXT    NOT NULL,
    actor_id    TEXT    NULL,
    agent_id    TEXT    NULL,
    action      TEXT    NOT NULL,
    target_type TEXT    NOT NULL DEFAULT '',
    target_id   TEXT    NOT NULL DEFAULT '',
    outcome     TEXT    NOT NULL CHECK (outcome IN ('success', 'failure')),
    ip          TEXT    NOT NULL DEFAULT '',
    user_agent  TEXT    NOT NULL DEFAULT '',
    request_id  TEXT    NOT NULL DEFAULT '',
    details     TEXT    NOT NULL,
    prev_hash   TEXT    NOT NULL,
    hash        TEXT    NOT NULL
);

CREATE INDEX IF NOT EXISTS audit_events_time_idx ON audit_events (occurred_at DESC, seq DESC);
CREATE INDEX IF NOT EXISTS audit_events_agent_time_idx ON audit_events (agent_id, occurred_at DESC, seq DESC);
CREATE INDEX IF NOT EXISTS audit_events_action_time_idx ON audit_events (action, occurred_at DESC, seq DESC);

-- Immutability: UPDATE and DELETE are refused by the database itself.
CREATE TRIGGER IF NOT EXISTS audit_events_no_update
    BEFORE UPDATE ON audit_events
BEGIN
    SELECT RAISE(ABORT, 'audit_events is append-only: UPDATE refused');
END;

CREATE TRIGGER IF NOT EXISTS audit_events_no_delete
    BEFORE DELETE ON audit_events
BEGIN
    SELECT RAISE(ABORT, 'audit_events is append-only: DELETE refused');
END;
