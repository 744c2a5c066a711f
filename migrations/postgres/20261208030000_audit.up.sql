-- audit_events.org_seq: an event's number within its organization (1, 2, 3, … with no
-- gaps), covered by its hash from hash version 3 on (modules/audit/hash.go), so that an
-- organization can prove its own export complete. NULL on the rows already there (versions
-- 1 and 2; adding a column updates no row, so the append-only triggers do not fire). The
-- table is partitioned by seq: a column added to the parent is added to every partition,
-- and to those created later.
ALTER TABLE audit_events ADD COLUMN IF NOT EXISTS org_seq bigint NULL;

-- audit_org_heads: each organization's last org_seq, written with the events under the
-- chain lock (the group-commit writer's statement upserts it in a data-modifying WITH). It
-- outlives the events: an archive drops old events, never a head, so the numbering goes on.
CREATE TABLE IF NOT EXISTS audit_org_heads (
    org_id  uuid   NOT NULL,
    org_seq bigint NOT NULL,
    CONSTRAINT audit_org_heads_pkey PRIMARY KEY (org_id)
);

-- Every INSERT here (an upsert included) takes the chain lock too, before its first row:
-- the group-commit writer inserts events, nodes and heads in one statement, and whichever
-- part runs first must hold the lock before it writes anything (as for audit_tree_nodes,
-- migration 20261206120000_audit: else it could hold rows a lock holder waits for while it
-- waits for the lock, a deadlock).
DROP TRIGGER IF EXISTS audit_org_heads_chain_lock ON audit_org_heads;
CREATE TRIGGER audit_org_heads_chain_lock
    BEFORE INSERT ON audit_org_heads
    FOR EACH STATEMENT EXECUTE FUNCTION audit_events_chain_lock();

-- A head is only ever moved forward, by an upsert; removing one would restart its
-- organization's numbering.
DROP TRIGGER IF EXISTS audit_org_heads_no_delete ON audit_org_heads;
CREATE TRIGGER audit_org_heads_no_delete
    BEFORE DELETE ON audit_org_heads
    FOR EACH ROW EXECUTE FUNCTION audit_events_immutable();

DROP TRIGGER IF EXISTS audit_org_heads_no_truncate ON audit_org_heads;
CREATE TRIGGER audit_org_heads_no_truncate
    BEFORE TRUNCATE ON audit_org_heads
    FOR EACH STATEMENT EXECUTE FUNCTION audit_events_immutable();
