-- The Merkle tree over audit_events, its signed checkpoints and the audit key; see the
-- PostgreSQL migration of the same version.
CREATE TABLE IF NOT EXISTS audit_tree_nodes (
    level INTEGER NOT NULL,
    idx   INTEGER NOT NULL,
    hash  BLOB    NOT NULL,
    PRIMARY KEY (level, idx)
) WITHOUT ROWID;

CREATE TRIGGER IF NOT EXISTS audit_tree_nodes_no_update
BEFORE UPDATE ON audit_tree_nodes
BEGIN
    SELECT RAISE(ABORT, 'audit_tree_nodes is append-only: UPDATE refused');
END;

CREATE TRIGGER IF NOT EXISTS audit_tree_nodes_no_delete
BEFORE DELETE ON audit_tree_nodes
BEGIN
    SELECT RAISE(ABORT, 'audit_tree_nodes is append-only: DELETE refused');
END;

CREATE TABLE IF NOT EXISTS audit_checkpoints (
    origin     TEXT      NOT NULL,
    tree_size  INTEGER   NOT NULL,
    root_hash  BLOB      NOT NULL,
    note       TEXT      NOT NULL,
    created_at TEXT NOT NULL,
    PRIMARY KEY (origin, tree_size)
);
CREATE INDEX IF NOT EXISTS audit_checkpoints_created_idx ON audit_checkpoints (created_at DESC);

CREATE TABLE IF NOT EXISTS audit_keys (
    origin       TEXT      NOT NULL PRIMARY KEY,
    verifier_key TEXT      NOT NULL,
    key_wrap     TEXT      NOT NULL,
    private_key  BLOB      NOT NULL,
    key_nonce    BLOB      NOT NULL,
    created_at   TEXT      NOT NULL,
    retired_at   TEXT      NULL
);
CREATE UNIQUE INDEX IF NOT EXISTS audit_keys_current_idx ON audit_keys ((retired_at IS NULL)) WHERE retired_at IS NULL;
