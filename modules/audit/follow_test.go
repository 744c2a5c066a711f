package audit

import (
	"strings"
	"testing"
)

func batchRows(first int64, n int, details string) []*eventRow {
	rows := make([]*eventRow, n)
	for i := range rows {
		rows[i] = &eventRow{Seq: first + int64(i), Action: "token.issued", Details: details}
	}
	return rows
}

// The hub keeps a bounded number of batches (and bytes), hands a follower the batch holding
// the seq after its position, and tells one that is behind the kept batches, or facing a
// gap, to read the store; notify wakes the waiting followers.
func TestFollowHubKeepsFewBatches(t *testing.T) {
	h := newFollowHub(nil)
	_, newer, wake := h.next(0)
	if newer {
		t.Fatal("nothing handed over yet")
	}
	for k := range 20 { // batch k holds seqs 3k+1 … 3k+3
		h.notify(batchRows(int64(3*k+1), 3, "{}"))
	}
	select {
	case <-wake:
	default:
		t.Fatal("notify did not wake a waiting follower")
	}
	if len(h.kept) != keptBatches || h.kept[0].first != 13 || h.lastSeq() != 60 {
		t.Fatalf("kept %d batches from seq %d, last %d", len(h.kept), h.kept[0].first, h.lastSeq())
	}
	for pos, want := range map[int64]int64{12: 13, 13: 13, 14: 13, 15: 16, 59: 58} {
		if b, _, _ := h.next(pos); b == nil || b.first != want {
			t.Errorf("next(%d): %+v, want the batch from %d", pos, b, want)
		}
	}
	if b, newer, _ := h.next(5); b != nil || !newer { // behind the kept batches
		t.Errorf("next(5): %v %v, want no batch and newer events", b, newer)
	}
	if b, newer, _ := h.next(60); b != nil || newer {
		t.Errorf("next(60): %v %v, want nothing", b, newer)
	}
	h.notify(batchRows(62, 2, "{}")) // seq 61 written elsewhere: a gap
	if b, newer, _ := h.next(60); b != nil || !newer {
		t.Errorf("next(60) with a gap: %v %v, want no batch and newer events", b, newer)
	}
	big := "{\"x\":\"" + strings.Repeat("a", keptBytes) + "\"}"
	h.notify(batchRows(64, 1, big)) // the newest is kept whatever its size
	if len(h.kept) != 1 || h.kept[0].first != 64 {
		t.Fatalf("after a large batch: %d kept", len(h.kept))
	}
	lines := h.kept[0].encoded()
	if len(lines) != 1 || !strings.HasSuffix(string(lines[0]), "}\n") {
		t.Fatalf("encoded: %q…", lines[0][:min(40, len(lines[0]))])
	}
}
