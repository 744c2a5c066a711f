// Package changefeed follows a table's changes by a timestamp column (revoked_at,
// updated_at, …), so that every replica's in-memory state learns of a change made on any
// replica within one poll, with or without the broadcast (Redis pub/sub) that usually brings
// it at once. Each poll reads the rows changed since the newest change it has seen, less
// Overlap: a transaction that committed after a later one, or a replica whose clock runs
// slightly behind, is still read. Its cost follows the rate of changes, not the table's size.
package changefeed

import "time"

// Overlap is how far behind the newest change seen each poll reads again.
const Overlap = 10 * time.Second

// Mark is where a replica's next poll of a table starts. It is not safe for concurrent use:
// one worker polls.
type Mark struct {
	base   time.Time // when the replica started following the table (or last read all of it)
	newest time.Time // the newest change time read so far
}

// Start marks a full read of the table (or the start of following it) begun at t: every
// change committed before t is known.
func (m *Mark) Start(t time.Time) {
	if t.After(m.base) {
		m.base = t
	}
}

// Started reports whether Start was called.
func (m *Mark) Started() bool { return !m.base.IsZero() }

// Saw records the change time of a row a poll read.
func (m *Mark) Saw(t time.Time) {
	if t.After(m.newest) {
		m.newest = t
	}
}

// Since is where the poll at now starts: the newest change seen, or the start when that is
// later (a table with no change yet), never past now (a change stamped by a replica whose
// clock runs ahead), less Overlap.
func (m *Mark) Since(now time.Time) time.Time {
	at := m.base
	if m.newest.After(at) {
		at = m.newest
	}
	if at.After(now) {
		at = now
	}
	return at.Add(-Overlap)
}
