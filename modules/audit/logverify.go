package audit

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"

	"github.com/transparency-dev/formats/log"
	"github.com/transparency-dev/merkle/compact"
	"golang.org/x/mod/sumdb/note"

	"github.com/agentidp/agentidp/platform/database"
)

// maxExportLine bounds one NDJSON line of an export the verifier reads (an event's details
// are at most 64 KiB, its other fields a few KiB).
const maxExportLine = 1 << 20

// parseCheckpointImpl is ParseCheckpoint: it opens a signed checkpoint with the note verifier key vkey
// (<name>+<hash>+<key>): its signature must verify under that key and its origin must be
// the key's name. The verifier key is the audit key's, as GET /api/v1/audit/checkpoint/key
// serves it.
func parseCheckpointImpl(checkpoint []byte, vkey string) (*log.Checkpoint, note.Verifier, error) {
	v, err := note.NewVerifier(string(bytes.TrimSpace([]byte(vkey))))
	if err != nil {
		return nil, nil, fmt.Errorf("the verifier key does not parse: %w", err)
	}
	cp, _, _, err := log.ParseCheckpoint(checkpoint, v.Name(), v)
	if err != nil {
		return nil, nil, fmt.Errorf("the checkpoint does not verify under the key %s: %w", v.Name(), err)
	}
	return cp, v, nil
}

// logChecker recomputes each event's chain hash and link, and the Merkle tree over them,
// comparing the root at the checkpoint's size with the checkpoint's. It holds the tree's
// compact range only (a few dozen hashes): memory stays constant whatever the log's size.
// With a Frontier (a log cut by an archive) it starts, at the first event, either after the
// archived events (the log that remains) or at the archive's first event (the archive
// itself, whose tree it completes with the frontier's right part).
type logChecker struct {
	cp      *log.Checkpoint
	fr      *Frontier
	tree    *compact.Range
	prev    string
	started bool
	// completing: the events are an archive's own, which the frontier's right part
	// completes at its last event.
	completing bool
	rep        LogReport
	done       bool // the first failure was found
}

func newLogChecker(cp *log.Checkpoint, fr *Frontier) *logChecker {
	return &logChecker{cp: cp, fr: fr, tree: emptyTree(), prev: genesisHash,
		rep: LogReport{OK: true, Origin: cp.Origin, TreeSize: int64(cp.Size)}}
}

func (c *logChecker) fail(seq int64, format string, args ...any) {
	c.rep.OK, c.rep.FirstBadSeq, c.rep.Reason, c.done = false, seq, fmt.Sprintf(format, args...), true
}

// start places the tree before the first event read, from the frontier.
func (c *logChecker) start(first int64) {
	c.started = true
	if c.fr == nil {
		return
	}
	var err error
	switch first {
	case c.fr.ThroughSeq + 1:
		c.tree, err = ranges.NewRange(0, uint64(c.fr.ThroughSeq), c.fr.Left)
		c.prev = c.fr.LastHash
	case c.fr.FirstSeq:
		c.tree, err = ranges.NewRange(0, uint64(c.fr.FirstSeq-1), c.fr.Before)
		c.prev, c.completing = c.fr.PrevHash, true
	}
	if err != nil {
		c.fail(first, "the frontier does not parse: %v", err)
	}
}

// completeArchive, at the archive's last event, checks the tree against the frontier and
// adds the frontier's right part, so that the checkpoint's root can be compared.
func (c *logChecker) completeArchive() {
	if !c.completing || c.tree.End() != uint64(c.fr.ThroughSeq) || c.cp.Size <= c.tree.End() {
		return
	}
	left, err := ranges.NewRange(0, uint64(c.fr.ThroughSeq), c.fr.Left)
	if err != nil || !c.tree.Equal(left) {
		c.fail(0, "rewritten: the archived events do not give the frontier's tree")
		return
	}
	right, err := ranges.NewRange(uint64(c.fr.ThroughSeq), uint64(c.fr.TreeSize), c.fr.Right)
	if err == nil {
		err = c.tree.AppendRange(right, nil)
	}
	if err != nil || c.tree.End() != c.cp.Size {
		c.fail(0, "the frontier does not reach the checkpoint's size %d", c.cp.Size)
		return
	}
	c.checkRoot()
}

func (c *logChecker) checkRoot() {
	root, err := c.tree.GetRootHash(nil)
	if err != nil || !bytes.Equal(root, c.cp.Hash) {
		c.fail(0, "rewritten: the root of the first %d events differs from the checkpoint's", c.cp.Size)
	}
}

// add checks the next event; false once the log is found broken.
func (c *logChecker) add(r *eventRow) bool {
	if c.done {
		return false
	}
	if !c.started {
		if c.start(r.Seq); c.done {
			return false
		}
	}
	c.rep.Checked++
	want := int64(c.tree.End()) + 1
	switch {
	case r.Seq != want:
		c.fail(r.Seq, "deleted or reordered: seq %d where seq %d was expected", r.Seq, want)
	case !rowIntact(r):
		c.fail(r.Seq, "altered: the event's content does not match its hash")
	case r.PrevHash != c.prev:
		c.fail(r.Seq, "deleted or reordered: prev_hash is not the previous event's hash")
	}
	if c.done {
		return false
	}
	leaf, err := leafHash(r.Hash)
	if err == nil {
		_, err = appendLeaf(c.tree, leaf, nil)
	}
	if err != nil {
		c.fail(r.Seq, "altered: %v", err)
		return false
	}
	c.prev = r.Hash
	if c.tree.End() == c.cp.Size {
		c.checkRoot()
	}
	c.completeArchive()
	return !c.done
}

// finish reports a log shorter than the checkpoint.
func (c *logChecker) finish() LogReport {
	if !c.done && c.tree.End() < c.cp.Size {
		c.fail(0, "truncated: the log holds %d events, the checkpoint covers %d", c.tree.End(), c.cp.Size)
	}
	return c.rep
}

// verifyExport is VerifyExport.
func verifyExport(export io.Reader, checkpoint []byte, vkey string, fr *Frontier) (LogReport, error) {
	cp, _, err := ParseCheckpoint(checkpoint, vkey)
	if err != nil {
		return LogReport{}, err
	}
	c := newLogChecker(cp, fr)
	if err := readExport(export, c.add); err != nil {
		return LogReport{}, err
	}
	return c.finish(), nil
}

// readExport hands each event of an NDJSON export (blank lines skipped), as the row it was
// read from, to add until add returns false or the export ends.
func readExport(export io.Reader, add func(*eventRow) bool) error {
	sc := bufio.NewScanner(export)
	sc.Buffer(make([]byte, 64<<10), maxExportLine)
	line := 0
	for sc.Scan() {
		line++
		if len(bytes.TrimSpace(sc.Bytes())) == 0 {
			continue
		}
		var e Event
		if err := json.Unmarshal(sc.Bytes(), &e); err != nil {
			return fmt.Errorf("export line %d: not an audit event: %w", line, err)
		}
		if !add(fromEvent(&e)) {
			return nil
		}
	}
	if err := sc.Err(); err != nil {
		return fmt.Errorf("reading the export: %w", err)
	}
	return nil
}

// fromEvent is the row an exported event was read from.
func fromEvent(e *Event) *eventRow {
	deref := func(s *string) string {
		if s == nil {
			return ""
		}
		return *s
	}
	var orgSeq int64
	if e.OrgSeq != nil {
		orgSeq = *e.OrgSeq
	}
	return &eventRow{
		Seq: e.Seq, EventID: e.EventID, OccurredAt: e.OccurredAt,
		ActorID: deref(e.ActorID), AgentID: deref(e.AgentID), OrgID: deref(e.OrgID),
		Action: e.Action, TargetType: e.TargetType, TargetID: e.TargetID, Outcome: e.Outcome,
		IP: e.IP, UserAgent: e.UserAgent, RequestID: e.RequestID, Details: string(e.Details),
		PrevHash: e.PrevHash, Hash: e.Hash, HashVersion: e.HashVersion,
		OrgSeq: orgSeq,
	}
}

// VerifyLog reads the events in seq order, a page at a time, through the checker; after
// an archive, from the archived frontier. A checkpoint no larger than the archived prefix
// cannot be checked against the events left (the archive's own files verify it).
func (v *verifier) VerifyLog(ctx context.Context, checkpoint []byte, vkey string) (LogReport, error) {
	cp, _, err := ParseCheckpoint(checkpoint, vkey)
	if err != nil {
		return LogReport{}, err
	}
	arch, err := lastArchive(ctx, v.db)
	if err != nil {
		return LogReport{}, err
	}
	var fr *Frontier
	after := int64(0)
	if arch != nil {
		if uint64(arch.ThroughSeq) >= cp.Size {
			return LogReport{}, fmt.Errorf("audit: the checkpoint covers %d events, all archived (through seq %d): verify it against the archive's files", cp.Size, arch.ThroughSeq)
		}
		fr = &Frontier{ThroughSeq: arch.ThroughSeq, LastHash: arch.LastHash, Left: splitHashes(arch.Frontier), FirstSeq: 1}
		after = arch.ThroughSeq
	}
	c := newLogChecker(cp, fr)
	for {
		var rows []eventRow
		err := v.db.NewSelect().Model(&rows).Where("seq > ?", after).
			OrderExpr("seq ASC").Limit(v.pageSize).Scan(ctx)
		if err != nil {
			return LogReport{}, fmt.Errorf("audit: reading the log: %w", database.Translate(err))
		}
		for i := range rows {
			if !c.add(&rows[i]) {
				return c.finish(), nil
			}
			after = rows[i].Seq
		}
		if int64(len(rows)) < v.pageSize {
			return c.finish(), nil
		}
	}
}
