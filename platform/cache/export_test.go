package cache

import "time"

// SetPingInterval shortens the pub/sub liveness check of r for tests; call it before the
// first Subscribe.
func SetPingInterval(r *Redis, d time.Duration) { r.pingEvery = d }
