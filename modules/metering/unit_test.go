package metering

import (
	"strings"
	"sync"
	"testing"
	"time"
)

func at(s string) time.Time {
	t, err := time.Parse(time.RFC3339Nano, s)
	if err != nil {
		panic(err)
	}
	return t
}

func TestPeriod(t *testing.T) {
	cases := []struct {
		now, month, day, next string
	}{
		{"2026-11-27T12:00:00Z", "2026-11", "2026-11-27", "2026-12-01T00:00:00Z"},
		{"2026-12-31T23:59:59.999Z", "2026-12", "2026-12-31", "2027-01-01T00:00:00Z"},
		{"2027-01-01T00:00:00Z", "2027-01", "2027-01-01", "2027-02-01T00:00:00Z"},
		{"2028-02-29T10:00:00Z", "2028-02", "2028-02-29", "2028-03-01T00:00:00Z"},
		// A local time is taken in UTC: 01:30 in Berlin on Dec 1 is still November.
		{"2026-12-01T01:30:00+02:00", "2026-11", "2026-11-30", "2026-12-01T00:00:00Z"},
	}
	for _, c := range cases {
		p := newPeriod(at(c.now))
		if p.month != c.month || p.day != c.day || !p.nextMonth.Equal(at(c.next)) {
			t.Errorf("%s: got %s %s %s, want %s %s %s", c.now, p.month, p.day, p.nextMonth, c.month, c.day, c.next)
		}
	}
	p := newPeriod(at("2026-11-27T12:00:00Z"))
	if ttl := p.counterTTL(at("2026-11-27T12:00:00Z")); ttl != 3*24*time.Hour+12*time.Hour+counterGrace {
		t.Errorf("counterTTL = %v", ttl)
	}
}

func TestPeriodsCache(t *testing.T) {
	var ps periods
	a := ps.at(at("2026-11-27T00:00:00Z"))
	if b := ps.at(at("2026-11-27T23:59:59Z")); b != a {
		t.Error("same day, new period")
	}
	if c := ps.at(at("2026-11-28T00:00:00Z")); c == a || c.day != "2026-11-28" {
		t.Errorf("next day: %+v", c)
	}
	if d := ps.at(at("2026-11-26T10:00:00Z")); d.day != "2026-11-26" {
		t.Errorf("clock set back: %+v", d)
	}
}

func TestSubjects(t *testing.T) {
	id := "0b3c5c0e-4a39-4d2e-8f52-2f7f1f3a9d10"
	if got := clientSubject(strings.ToUpper(id)); got != id {
		t.Errorf("clientSubject(upper) = %s", got)
	}
	long := strings.Repeat("A", 10000)
	if got := clientSubject(long); len(got) != 33 || got == clientSubject(long+"B") {
		t.Errorf("clientSubject(hostile) = %q", got)
	}
	for in, want := range map[string]string{
		"192.0.2.1":              "192.0.2.1",
		"::ffff:192.0.2.1":       "192.0.2.1",
		"2001:db8:1:2:3:4:5:6":   "2001:db8:1:2::/64",
		"fe80::1%eth0":           "fe80::/64",
		"not an ip":              clientSubject("not an ip"),
		"2001:db8::1:2:3:4:5:6x": clientSubject("2001:db8::1:2:3:4:5:6x"),
	} {
		if got := ipSubject(in); got != want {
			t.Errorf("ipSubject(%q) = %q, want %q", in, got, want)
		}
	}
	if got := pairKey(clientSubject(strings.ToUpper(id)), ipSubject("2001:db8:7:8::1")); got != "ratelimit:authfail:pair:"+id+":2001:db8:7:8::/64" {
		t.Errorf("pairKey = %q", got)
	}
	if validAgentID("not-a-uuid") || !validAgentID(id) || validAgentID("{"+id+"}") {
		t.Error("validAgentID")
	}
}

// Days turn month-to-date values into per-day counts: across a month boundary, with gaps,
// and today from the live count.
func TestAgentDays(t *testing.T) {
	p := newPeriod(at("2026-11-03T12:00:00Z"))
	first := p.dayStart.AddDate(0, 0, -29)
	rows := []dayRow{
		{"2026-10-01", 1}, // before the window: only a predecessor
		{"2026-10-20", 4},
		{"2026-10-31", 10},
		{"2026-11-01", 2},
		{"2026-11-02", 2}, // no token that day
		{"2026-11-03", 5}, // today's stored value is superseded by the live one
	}
	days := agentDays(rows, p, first, 9)
	if len(days) != 30 || days[0].Date != "2026-11-03" || days[29].Date != "2026-10-05" {
		t.Fatalf("window: %d days, %v … %v", len(days), days[0], days[len(days)-1])
	}
	want := map[string]int64{"2026-11-03": 7, "2026-11-02": 0, "2026-11-01": 2, "2026-10-31": 6, "2026-10-20": 3}
	for _, d := range days {
		if d.TokensIssued != want[d.Date] {
			t.Errorf("%s: %d, want %d", d.Date, d.TokensIssued, want[d.Date])
		}
	}
	// A live count below the stored days (a cache restored short) never goes negative.
	if d := agentDays(rows, p, first, 1); d[0].TokensIssued != 0 {
		t.Errorf("today with a short live count: %d", d[0].TokensIssued)
	}
}

// Tallies keep maxima, hold observations back one periodic flush, hand them over once,
// take them back after a failed flush, and lose nothing to eviction racing with writers.
func TestTallies(t *testing.T) {
	tl := newTallies()
	p := newPeriod(at("2026-11-27T12:00:00Z"))
	q := newPeriod(at("2026-11-28T12:00:00Z"))
	now := at("2026-11-27T12:00:00Z")
	tl.observe("a", p, 5, now)
	tl.observe("a", p, 3, now) // an older increment answered late
	tl.observe("a", q, 8, now)
	if tl.max("a", "2026-11") != 8 {
		t.Fatalf("max = %d", tl.max("a", "2026-11"))
	}
	if rows := tl.take(false); len(rows) != 0 {
		t.Fatalf("the first periodic take hands over fresh observations: %+v", rows)
	}
	tl.observe("a", q, 9, now)
	rows := tl.take(false)
	if len(rows) != 1 || rows[0].max != 8 || rows[0].days["2026-11-27"] != 5 || rows[0].days["2026-11-28"] != 8 {
		t.Fatalf("second periodic take: %+v", rows)
	}
	tl.restore(rows) // the flush failed
	rows = tl.take(true)
	if len(rows) != 1 || rows[0].max != 9 || rows[0].days["2026-11-27"] != 5 || rows[0].days["2026-11-28"] != 9 {
		t.Fatalf("take all after restore: %+v", rows)
	}
	if again := tl.take(true); len(again) != 0 {
		t.Fatalf("second take: %+v", again)
	}
	tl.evict(now.Add(time.Second))
	if tl.size() != 0 || tl.max("a", "2026-11") != 0 {
		t.Fatalf("evict left %d entries", tl.size())
	}

	// Writers racing with take and eviction lose nothing: every agent's last value is
	// handed over by some take.
	var wg sync.WaitGroup
	agents := []string{"b0", "b1", "b2", "b3"}
	for _, a := range agents {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range 2000 {
				tl.observe(a, p, int64(i+1), now)
			}
		}()
	}
	seen := map[string]int64{}
	collect := func(all bool) {
		for _, r := range tl.take(all) {
			seen[r.agent] = max(seen[r.agent], r.max)
		}
	}
	stop := make(chan struct{})
	done := make(chan struct{})
	go func() {
		defer close(done)
		for {
			select {
			case <-stop:
				return
			default:
				collect(false)
				tl.evict(now.Add(time.Hour))
			}
		}
	}()
	wg.Wait()
	close(stop)
	<-done
	collect(true)
	for _, a := range agents {
		if seen[a] != 2000 {
			t.Errorf("agent %s: last value handed over %d, want 2000", a, seen[a])
		}
	}
}
