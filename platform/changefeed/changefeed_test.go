package changefeed

import (
	"testing"
	"time"
)

func TestMark(t *testing.T) {
	t0 := time.Date(2026, 12, 4, 10, 0, 0, 0, time.UTC)
	var m Mark
	if m.Started() {
		t.Fatal("a new mark is started")
	}
	m.Start(t0)
	if !m.Started() || !m.Since(t0.Add(time.Second)).Equal(t0.Add(-Overlap)) {
		t.Fatalf("no change seen: since %v", m.Since(t0.Add(time.Second)))
	}
	m.Saw(t0.Add(5 * time.Second))
	m.Saw(t0.Add(2 * time.Second)) // an older change read later does not move the mark back
	if got := m.Since(t0.Add(6 * time.Second)); !got.Equal(t0.Add(5*time.Second - Overlap)) {
		t.Fatalf("after changes: since %v", got)
	}
	m.Saw(t0.Add(time.Hour)) // stamped by a replica whose clock runs ahead
	if got := m.Since(t0.Add(7 * time.Second)); !got.Equal(t0.Add(7*time.Second - Overlap)) {
		t.Fatalf("a change from the future: since %v", got)
	}
	m.Start(t0) // an earlier start does not move it back either
	if got := m.Since(t0.Add(2 * time.Hour)); !got.Equal(t0.Add(time.Hour - Overlap)) {
		t.Fatalf("since %v", got)
	}
}
