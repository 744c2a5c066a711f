// Package audit is the audit bounded context: the append-only, hash-chained audit_events
// table, the writers behind platform/audittrail.Recorder (in-transaction and group commit),
// the query and export API, and chain verification. Other modules write events only through
// audittrail.Recorder; this file is what else they (and the CLI) may use.
package audit

import "context"

// Report is the result of walking the hash chain.
type Report struct {
	OK      bool   `json:"ok"`
	Checked int64  `json:"checked"`
	// FirstBadEventID names the first row that is altered, follows a deleted row, or is out
	// of order; empty when OK.
	FirstBadEventID string `json:"first_bad_event_id"`
	Reason          string `json:"reason"`
}

// ChainVerifier walks the chain from the first row.
type ChainVerifier interface {
	VerifyChain(ctx context.Context) (Report, error)
}
