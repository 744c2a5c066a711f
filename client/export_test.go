package client

import "time"

// SetClock replaces the source's clock (tests).
func SetClock(s *TokenSource, now func() time.Time) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.now = now
}
