-- audit_events becomes a table partitioned by seq range, so that `agentidp audit archive`
-- can retire old events by dropping whole partitions (the only way an event ever leaves:
-- UPDATE, DELETE and TRUNCATE stay refused). A partitioned table's primary key must
-- include the partition key: the key stays (seq); the table-wide UNIQUE (event_id) cannot
-- (event ids are random UUIDs made by the server; nothing relies on that constraint).
--
-- The existing table is kept, unchanged, as the first partition, audit_events_p0, covering
-- seq below the next multiple of 1,000,000 above its last row; the next partition follows.
-- The audit module creates further ones, 1,000,000 seqs each, ahead of the head
-- (modules/audit/partition.go); audit_partitions lists them.
CREATE TABLE IF NOT EXISTS audit_partitions (
    lo   bigint NOT NULL,
    hi   bigint NOT NULL,
    name text   NOT NULL,
    CONSTRAINT audit_partitions_pkey PRIMARY KEY (lo)
);

DO $$
DECLARE
    span constant bigint := 1000000;
    hi bigint;
BEGIN
    IF (SELECT c.relkind FROM pg_class c WHERE c.oid = 'audit_events'::regclass) = 'p' THEN
        RETURN;
    END IF;
    SELECT (COALESCE(max(seq), 0) / span + 1) * span + 1 INTO hi FROM audit_events;

    ALTER TABLE audit_events RENAME TO audit_events_p0;
    ALTER TABLE audit_events_p0 RENAME CONSTRAINT audit_events_pkey TO audit_events_p0_pkey;
    ALTER TABLE audit_events_p0 DROP CONSTRAINT IF EXISTS audit_events_event_id_key;
    ALTER INDEX IF EXISTS audit_events_time_idx RENAME TO audit_events_p0_time_idx;
    ALTER INDEX IF EXISTS audit_events_agent_time_idx RENAME TO audit_events_p0_agent_time_idx;
    ALTER INDEX IF EXISTS audit_events_action_time_idx RENAME TO audit_events_p0_action_time_idx;
    ALTER INDEX IF EXISTS audit_events_org_time_idx RENAME TO audit_events_p0_org_time_idx;
    DROP TRIGGER IF EXISTS audit_events_no_update_delete ON audit_events_p0;
    DROP TRIGGER IF EXISTS audit_events_chain_lock ON audit_events_p0;

    CREATE TABLE audit_events (LIKE audit_events_p0 INCLUDING DEFAULTS INCLUDING CONSTRAINTS)
        PARTITION BY RANGE (seq);
    ALTER TABLE audit_events ADD CONSTRAINT audit_events_pkey PRIMARY KEY (seq);
    EXECUTE format('ALTER TABLE audit_events ATTACH PARTITION audit_events_p0 FOR VALUES FROM (MINVALUE) TO (%s)', hi);
    EXECUTE format('CREATE TABLE audit_events_p%s PARTITION OF audit_events FOR VALUES FROM (%s) TO (%s)', hi, hi, hi + span);
    EXECUTE format('CREATE TRIGGER audit_events_no_truncate BEFORE TRUNCATE ON audit_events_p%s FOR EACH STATEMENT EXECUTE FUNCTION audit_events_immutable()', hi);
    INSERT INTO audit_partitions (lo, hi, name) VALUES (0, hi, 'audit_events_p0'), (hi, hi + span, 'audit_events_p' || hi);

    CREATE INDEX audit_events_time_idx ON audit_events (occurred_at DESC, seq DESC);
    CREATE INDEX audit_events_agent_time_idx ON audit_events (agent_id, occurred_at DESC, seq DESC);
    CREATE INDEX audit_events_action_time_idx ON audit_events (action, occurred_at DESC, seq DESC);
    CREATE INDEX audit_events_org_time_idx ON audit_events (org_id, occurred_at DESC, seq DESC);

    -- Row triggers are cloned onto every partition, present and future; statement triggers
    -- fire on the table the statement names (the writers name audit_events).
    CREATE TRIGGER audit_events_no_update_delete BEFORE UPDATE OR DELETE ON audit_events
        FOR EACH ROW EXECUTE FUNCTION audit_events_immutable();
    CREATE TRIGGER audit_events_no_truncate BEFORE TRUNCATE ON audit_events
        FOR EACH STATEMENT EXECUTE FUNCTION audit_events_immutable();
    CREATE TRIGGER audit_events_chain_lock BEFORE INSERT ON audit_events
        FOR EACH STATEMENT EXECUTE FUNCTION audit_events_chain_lock();
END;
$$;

-- audit_archives: one row per `agentidp audit archive`: the events up to through_seq left the
-- table; last_hash is the chain hash of event through_seq and frontier the Merkle tree's
-- compact range over them (32-byte hashes, left to right), from which the rest verifies.
CREATE TABLE IF NOT EXISTS audit_archives (
    through_seq bigint      NOT NULL,
    last_hash   text        NOT NULL,
    frontier    bytea       NOT NULL,
    before      timestamptz NOT NULL,
    archived_at timestamptz NOT NULL,
    CONSTRAINT audit_archives_pkey PRIMARY KEY (through_seq)
);
