-- The Merkle tree over audit_events (RFC 9162 §2.1; modules/audit/tree.go), its signed
-- checkpoints and the audit key that signs them.
--
-- audit_tree_nodes: every perfect subtree's root hash, keyed by (level, idx) as in the
-- transparency-dev compact ranges: level 0 idx i is the leaf hash of the event with
-- seq = i + 1; level l idx j covers leaves [j·2^l, (j+1)·2^l). Written with the events in
-- the same statement or transaction (under the chain lock), never changed: proofs and
-- roots are read from here, never recomputed from the events.
CREATE TABLE IF NOT EXISTS audit_tree_nodes (
    level smallint NOT NULL,
    idx   bigint   NOT NULL,
    hash  bytea    NOT NULL,
    CONSTRAINT audit_tree_nodes_pkey PRIMARY KEY (level, idx)
);

-- Every INSERT here takes the chain lock too, before its first row: the group-commit writer
-- inserts events and nodes in one statement, and whichever of its two parts runs first must
-- hold the lock before it writes anything (else it could hold node rows another writer,
-- holding the lock, waits for, while it waits for the lock: a deadlock).
DROP TRIGGER IF EXISTS audit_tree_nodes_chain_lock ON audit_tree_nodes;
CREATE TRIGGER audit_tree_nodes_chain_lock
    BEFORE INSERT ON audit_tree_nodes
    FOR EACH STATEMENT EXECUTE FUNCTION audit_events_chain_lock();

DROP TRIGGER IF EXISTS audit_tree_nodes_no_update_delete ON audit_tree_nodes;
CREATE TRIGGER audit_tree_nodes_no_update_delete
    BEFORE UPDATE OR DELETE ON audit_tree_nodes
    FOR EACH ROW EXECUTE FUNCTION audit_events_immutable();

DROP TRIGGER IF EXISTS audit_tree_nodes_no_truncate ON audit_tree_nodes;
CREATE TRIGGER audit_tree_nodes_no_truncate
    BEFORE TRUNCATE ON audit_tree_nodes
    FOR EACH STATEMENT EXECUTE FUNCTION audit_events_immutable();

-- audit_checkpoints: the signed checkpoints (C2SP tlog-checkpoint notes), one per tree
-- size per origin.
CREATE TABLE IF NOT EXISTS audit_checkpoints (
    origin     text        NOT NULL,
    tree_size  bigint      NOT NULL,
    root_hash  bytea       NOT NULL,
    note       text        NOT NULL,
    created_at timestamptz NOT NULL,
    CONSTRAINT audit_checkpoints_pkey PRIMARY KEY (origin, tree_size)
);
CREATE INDEX IF NOT EXISTS audit_checkpoints_created_idx ON audit_checkpoints (created_at DESC);

-- audit_keys: the Ed25519 note keys that sign checkpoints, one per origin. The private
-- part is sealed under AGENTIDP_MASTER_KEY (key_wrap a256gcm, the origin as additional
-- data) or held in Vault (key_wrap vault; private_key and key_nonce empty). The row with
-- no retired_at is the current one.
CREATE TABLE IF NOT EXISTS audit_keys (
    origin       text        NOT NULL,
    verifier_key text        NOT NULL,
    key_wrap     text        NOT NULL,
    private_key  bytea       NOT NULL,
    key_nonce    bytea       NOT NULL,
    created_at   timestamptz NOT NULL,
    retired_at   timestamptz NULL,
    CONSTRAINT audit_keys_pkey PRIMARY KEY (origin)
);
CREATE UNIQUE INDEX IF NOT EXISTS audit_keys_current_idx ON audit_keys ((retired_at IS NULL)) WHERE retired_at IS NULL;
