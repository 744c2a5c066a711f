-- Every INSERT into audit_events takes the chain lock (the transaction-scoped advisory lock
-- 0x6167696470617564 that writers take before they read the chain's tail) before its first
-- row goes in. The group-commit writer can then append a batch after the tail it last wrote
-- in one statement, without a transaction of its own: if another writer has appended since,
-- the statement waits for that writer's lock, then fails on the primary key (seq) and
-- writes nothing, and the batch is retried under the lock with a fresh tail read. A writer
-- holding the lock is never refused by such a statement.
CREATE OR REPLACE FUNCTION audit_events_chain_lock() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    PERFORM pg_advisory_xact_lock(7018694424383288676);
    RETURN NULL;
END;
$$;

DROP TRIGGER IF EXISTS audit_events_chain_lock ON audit_events;
CREATE TRIGGER audit_events_chain_lock
    BEFORE INSERT ON audit_events
    FOR EACH STATEMENT EXECUTE FUNCTION audit_events_chain_lock();
