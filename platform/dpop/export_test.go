package dpop

import "time"

// SetClock sets v's clock (tests).
func SetClock(v *Verifier, now func() time.Time) { v.now = now }
