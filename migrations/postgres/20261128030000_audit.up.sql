-- audit_events: the append-only, hash-chained audit log (module audit).
-- seq is the position in the one chain shared by every replica: writers take
-- pg_advisory_xact_lock on a constant key, read the tail (max seq and its hash), and insert
-- seq = tail + 1 with prev_hash = the tail's hash. hash is the hex SHA-256 of the row's
-- canonical encoding (every column but hash; see modules/audit/hash.go).
-- details is `json`, not `jsonb`: json keeps the exact text written, so the hash recomputes
-- byte for byte; jsonb would re-normalise it.
CREATE TABLE IF NOT EXISTS audit_events (
    seq         bigint      NOT NULL,
    event_id    uuid        NOT NULL,
    occurred_at timestamptz NOT NULL,
    actor_id    uuid        NULL,
    agent_id    uuid        NULL,
    action      text        NOT NULL,
    target_type text        NOT NULL DEFAULT '',
    target_id   text        NOT NULL DEFAULT '',
    outcome     text        NOT NULL CHECK (outcome IN ('success', 'failure')),
    ip          text        NOT NULL DEFAULT '',
    user_agent  text        NOT NULL DEFAULT '',
    request_id  text        NOT NULL DEFAULT '',
    details     json        NOT NULL,
    prev_hash   text        NOT NULL,
    hash        text        NOT NULL,
    CONSTRAINT audit_events_pkey PRIMARY KEY (seq),
    CONSTRAINT audit_events_event_id_key UNIQUE (event_id)
);

-- Newest first, overall and per agent or action, with (occurred_at, seq) as the keyset.
CREATE INDEX IF NOT EXISTS audit_events_time_idx ON audit_events (occurred_at DESC, seq DESC);
CREATE INDEX IF NOT EXISTS audit_events_agent_time_idx ON audit_events (agent_id, occurred_at DESC, seq DESC);
CREATE INDEX IF NOT EXISTS audit_events_action_time_idx ON audit_events (action, occurred_at DESC, seq DESC);

-- Immutability: UPDATE, DELETE and TRUNCATE are refused by the database itself.
CREATE OR REPLACE FUNCTION audit_events_immutable() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'audit_events is append-only: % refused', TG_OP
        USING ERRCODE = 'insufficient_privilege';
END;
$$;

DROP TRIGGER IF EXISTS audit_events_no_update_delete ON audit_events;
CREATE TRIGGER audit_events_no_update_delete
    BEFORE UPDATE OR DELETE ON audit_events
    FOR EACH ROW EXECUTE FUNCTION audit_events_immutable();

DROP TRIGGER IF EXISTS audit_events_no_truncate ON audit_events;
CREATE TRIGGER audit_events_no_truncate
    BEFORE TRUNCATE ON audit_events
    FOR EACH STATEMENT EXECUTE FUNCTION audit_events_immutable();
