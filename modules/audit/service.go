package audit

import (
	"context"
	"encoding/json"

	"github.com/uptrace/bun"

	"github.com/agentidp/agentidp/platform/database"
	"github.com/agentidp/agentidp/platform/policy"
)

// exportPageSize is how many events the export holds at a time.
const exportPageSize = 500

// service answers the read side: the list, the export, the verify report, checkpoints and
// proofs.
type service struct {
	db          *bun.DB
	repo        *repository
	verifier    *verifier
	policy      policy.Engine
	checkpoints *checkpointer
	follow      *followHub
}

func newService(db *bun.DB, repo *repository, v *verifier, pol policy.Engine, cp *checkpointer, follow *followHub) *service {
	return &service{db: db, repo: repo, verifier: v, policy: pol, checkpoints: cp, follow: follow}
}

// scope narrows f to the organizations the caller may read, as the policy decides
// (policy.ListOrg): a caller acting on every organization (orgs:admin) reads every one, or
// the one its org_id filter names; any other caller its own, and a filter naming another
// is policy.ErrNoOrg.
func (s *service) scope(ctx context.Context, f *filter) error {
	org, err := policy.ListOrg(ctx, s.policy, f.OrgID)
	if err != nil {
		return err
	}
	f.OrgID = org
	return nil
}

// list returns one page of events and the cursor of the next page ("" on the last).
func (s *service) list(ctx context.Context, q listQuery) ([]Event, string, error) {
	if err := s.scope(ctx, &q.filter); err != nil {
		return nil, "", err
	}
	rows, err := s.repo.page(ctx, q.filter, q.After, q.Limit+1)
	if err != nil {
		return nil, "", err
	}
	next := ""
	if len(rows) > q.Limit {
		rows = rows[:q.Limit]
		last := rows[len(rows)-1]
		next = encodeCursor(position{At: last.OccurredAt, Seq: last.Seq})
	}
	return toEvents(rows), next, nil
}

// export calls emit with successive pages of the events matching f, newest first, until
// there are no more; memory stays bounded by one page.
func (s *service) export(ctx context.Context, f filter, emit func([]Event) error) error {
	if err := s.scope(ctx, &f); err != nil {
		return err
	}
	var after *position
	for {
		rows, err := s.repo.page(ctx, f, after, exportPageSize)
		if err != nil {
			return err
		}
		if len(rows) > 0 {
			if err := emit(toEvents(rows)); err != nil {
				return err
			}
			last := rows[len(rows)-1]
			after = &position{At: last.OccurredAt, Seq: last.Seq}
		}
		if len(rows) < exportPageSize {
			return nil
		}
	}
}

// exportAfter calls emit with the events matching f with seq > afterSeq, in seq order, a
// page at a time (memory bounded by one page).
func (s *service) exportAfter(ctx context.Context, f filter, afterSeq int64, emit func([]Event) error) error {
	if err := s.scope(ctx, &f); err != nil {
		return err
	}
	_, err := s.readAfter(ctx, f, afterSeq, emit)
	return err
}

// exportFollow is exportAfter that then waits for new events and writes them as they
// commit, until ctx ends or the server stops. Events of this replica's group-commit batches
// come from the follow hub's memory when they line up with what the follower has read
// (line: one encoded NDJSON line, shared); anything else from the store (emit).
func (s *service) exportFollow(ctx context.Context, f filter, afterSeq int64, emit func([]Event) error, line func([]byte) error) error {
	if err := s.scope(ctx, &f); err != nil {
		return err
	}
	if err := emit(nil); err != nil { // the headers at once: a follower may wait long for its first event
		return err
	}
	fromStore := func(page []Event) error {
		s.follow.fromStore.Add(float64(len(page)))
		return emit(page)
	}
	// pos: every event matching f up to pos has been written, none after it.
	pos := afterSeq
	for {
		// Every batch handed over by now has committed, so the read holds its matches.
		mark := s.follow.lastSeq()
		read, err := s.readAfter(ctx, f, pos, fromStore)
		if err != nil {
			return err
		}
		pos = max(read, mark)
		more, err := s.followMemory(ctx, &f, &pos, line)
		if err != nil || !more {
			return err
		}
	}
}

// readAfter emits the events matching f after pos from the store, a page at a time, until a
// page is not full, and returns the last seq emitted (pos if none).
func (s *service) readAfter(ctx context.Context, f filter, pos int64, emit func([]Event) error) (int64, error) {
	for {
		rows, err := s.repo.pageAfter(ctx, f, pos, exportPageSize)
		if err != nil {
			return pos, err
		}
		if len(rows) > 0 {
			if err := emit(toEvents(rows)); err != nil {
				return pos, err
			}
			pos = rows[len(rows)-1].Seq
		}
		if len(rows) < exportPageSize {
			return pos, nil
		}
	}
}

// followMemory writes the kept batches that continue the follower's position, waiting for
// new ones, and advances pos. It returns true when the store must be read: a gap (events
// written by RecordTx or another replica), a batch no longer kept (a follower behind), or no
// wake-up within followPoll; false when the follower must end.
func (s *service) followMemory(ctx context.Context, f *filter, pos *int64, line func([]byte) error) (bool, error) {
	for {
		b, newer, wake := s.follow.next(*pos)
		if b != nil {
			lines := b.encoded()
			for i, r := range b.rows {
				if r.Seq <= *pos || !followMatches(f, r) {
					continue
				}
				if lines[i] == nil {
					*pos = r.Seq - 1
					return true, nil
				}
				if err := line(lines[i]); err != nil {
					return false, err
				}
				s.follow.fromMemory.Inc()
			}
			*pos = b.last
			continue
		}
		if newer {
			return true, nil
		}
		woken, ok := s.follow.wait(ctx, wake)
		if !ok || !woken {
			return ok, nil
		}
	}
}

func toEvents(rows []eventRow) []Event {
	out := make([]Event, len(rows))
	for i := range rows {
		out[i] = toEvent(&rows[i])
	}
	return out
}

func toEvent(r *eventRow) Event {
	return Event{
		EventID:     r.EventID,
		Seq:         r.Seq,
		OccurredAt:  database.Time(r.OccurredAt),
		ActorID:     optional(r.ActorID),
		AgentID:     optional(r.AgentID),
		OrgID:       optional(r.OrgID),
		OrgSeq:      optionalInt(r.OrgSeq),
		Action:      r.Action,
		TargetType:  r.TargetType,
		TargetID:    r.TargetID,
		Outcome:     r.Outcome,
		IP:          r.IP,
		UserAgent:   r.UserAgent,
		RequestID:   r.RequestID,
		Details:     detailsJSON(r.Details),
		PrevHash:    r.PrevHash,
		HashVersion: r.HashVersion,
		Hash:        r.Hash,
	}
}

func optionalInt(n int64) *int64 {
	if n == 0 {
		return nil
	}
	return &n
}

func optional(s string) *string {
	if s == "" {
		return nil
	}
	return &s
}

// detailsJSON is the stored details text, or {} if it is not valid JSON (a tampered row:
// verify reports it; the listing must still render).
func detailsJSON(s string) json.RawMessage {
	if !json.Valid([]byte(s)) {
		return json.RawMessage("{}")
	}
	return json.RawMessage(s)
}
