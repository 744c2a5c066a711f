package cache

import (
	"errors"
	"fmt"
	"math"
	"sync"
	"sync/atomic"
	"time"
)

// errNotInteger is returned by the counter operations of both backends when the key holds a
// value that is not an integer (a misuse, not an outage: it does not wrap ErrUnavailable).
var errNotInteger = errors.New("cache: value is not an integer or out of range")

// ttlMillis rounds a TTL up to whole milliseconds, Redis's resolution, so that both backends
// expire a key at the same moment: 0 means no expiry and anything else lasts at least 1 ms
// (a negative TTL therefore expires almost at once instead of meaning "forever").
func ttlMillis(ttl time.Duration) int64 {
	switch {
	case ttl == 0:
		return 0
	case ttl < time.Millisecond:
		return 1
	case ttl > math.MaxInt64-time.Millisecond:
		return int64(ttl / time.Millisecond)
	}
	return int64((ttl + time.Millisecond - 1) / time.Millisecond)
}

// maxTolerance bounds a GCRA tolerance so that the arithmetic stays exact in int64 and in the
// doubles of Redis's Lua (2^52 µs is 142 years; a limit that slow is a configuration error).
const maxTolerance = 1 << 52

// gcraParams checks a Limit and turns it into the GCRA emission interval (the time one event "costs") and
// tolerance (Burst intervals: how far ahead of now the theoretical arrival time may run),
// both in units of unit. A Limit with Rate +Inf is unlimited.
func gcraParams(l Limit, unit time.Duration) (interval, tolerance int64, unlimited bool, err error) {
	if math.IsInf(l.Rate, 1) {
		return 0, 0, true, nil
	}
	if !(l.Rate > 0) || l.Burst <= 0 {
		return 0, 0, false, fmt.Errorf("cache: invalid rate limit (rate %v, burst %d): both must be > 0", l.Rate, l.Burst)
	}
	iv := math.Round(float64(time.Second/unit) / l.Rate)
	iv = math.Max(iv, 1)
	tol := iv * float64(l.Burst)
	if tol > maxTolerance {
		tol = maxTolerance
		iv = math.Max(math.Floor(tol/float64(l.Burst)), 1)
	}
	return int64(iv), int64(tol), false, nil
}

// subscriber is one local Subscribe call.
type subscriber struct {
	channel string
	fn      func(payload []byte)
	active  atomic.Bool
}

// hub fans messages out to local subscribers. The subscriber table is copy-on-write: writers
// (Subscribe, unsubscribe) build a new map under mu, the delivering goroutine reads the
// current one without a lock or an allocation, so a subscriber may unsubscribe from inside
// its own callback.
type hub struct {
	mu   sync.Mutex
	subs atomic.Pointer[map[string][]*subscriber]
}

// add registers fn on channel and reports whether it is the channel's first subscriber.
func (h *hub) add(channel string, fn func([]byte)) (s *subscriber, first bool) {
	s = &subscriber{channel: channel, fn: fn}
	s.active.Store(true)
	h.mu.Lock()
	defer h.mu.Unlock()
	old := h.load()
	next := make(map[string][]*subscriber, len(old)+1)
	for ch, list := range old {
		next[ch] = list
	}
	list := old[channel]
	grown := make([]*subscriber, len(list), len(list)+1)
	copy(grown, list)
	next[channel] = append(grown, s)
	h.subs.Store(&next)
	return s, len(list) == 0
}

// remove unregisters s and reports whether its channel has no subscriber left. It is a
// no-op, reporting false, when s is already gone.
func (h *hub) remove(s *subscriber) (last bool) {
	if !s.active.CompareAndSwap(true, false) {
		return false
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	old := h.load()
	list := old[s.channel]
	kept := make([]*subscriber, 0, len(list))
	for _, x := range list {
		if x != s {
			kept = append(kept, x)
		}
	}
	next := make(map[string][]*subscriber, len(old))
	for ch, l := range old {
		next[ch] = l
	}
	if len(kept) == 0 {
		delete(next, s.channel)
	} else {
		next[s.channel] = kept
	}
	h.subs.Store(&next)
	return len(kept) == 0
}

// channels lists the channels that have subscribers.
func (h *hub) channels() []string {
	m := h.load()
	out := make([]string, 0, len(m))
	for ch := range m {
		out = append(out, ch)
	}
	return out
}

// clear drops every subscriber (Close).
func (h *hub) clear() {
	h.mu.Lock()
	defer h.mu.Unlock()
	for _, list := range h.load() {
		for _, s := range list {
			s.active.Store(false)
		}
	}
	h.subs.Store(nil)
}

// deliver calls every active subscriber of channel, each with its own copy of payload.
func (h *hub) deliver(channel, payload string) {
	for _, s := range h.load()[channel] {
		if s.active.Load() {
			s.fn([]byte(payload))
		}
	}
}

func (h *hub) load() map[string][]*subscriber {
	if p := h.subs.Load(); p != nil {
		return *p
	}
	return nil
}
