package audit

import (
	"context"
	"time"

	"github.com/uptrace/bun"

	"github.com/agentidp/agentidp/platform/audittrail"
)

// recorder implements audittrail.Recorder.
type recorder struct {
	writer *groupWriter
	now    func() time.Time
}

func newRecorder(w *groupWriter) *recorder { return &recorder{writer: w, now: time.Now} }

// RecordTx appends e to the chain inside tx, so the change and its event commit together or
// not at all. On PostgreSQL it takes the chain lock, held until tx ends: call it as the last
// statement of the transaction to keep that short.
func (r *recorder) RecordTx(ctx context.Context, tx bun.Tx, e audittrail.Event) error {
	row, err := newRow(ctx, e, r.now())
	if err != nil {
		return err
	}
	_, err = appendRows(ctx, tx, []*eventRow{row})
	return err
}

// Record hands e to the group-commit writer and returns once its batch is committed (nil)
// or has failed (the error; the event is then not stored).
func (r *recorder) Record(ctx context.Context, e audittrail.Event) error {
	row, err := newRow(ctx, e, r.now())
	if err != nil {
		return err
	}
	return r.writer.submit(ctx, row)
}
