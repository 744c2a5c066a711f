package audit

import "github.com/uptrace/bun"

// Test hooks for the external test package.

// ChainLockKey is the advisory lock key that serialises appends on PostgreSQL.
const ChainLockKey = chainLockKey

// NewVerifier is a ChainVerifier reading pageSize rows at a time.
func NewVerifier(db *bun.DB, pageSize int64) ChainVerifier {
	return &verifier{db: db, pageSize: pageSize}
}
