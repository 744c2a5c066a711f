package credentials

import (
	"context"
	"time"

	"go.uber.org/zap"

	"github.com/agentidp/agentidp/platform/cache"
	"github.com/agentidp/agentidp/platform/ident"
)

// invalidateTopic carries the id of an agent whose credentials changed to every replica.
const invalidateTopic = "credentials:invalidate"

// publishTimeout bounds the broadcast after a change; a lost message costs at most cacheTTL.
const publishTimeout = 2 * time.Second

// invalidator drops an agent from the verifier's caches, here and on every replica.
type invalidator struct {
	caches *caches
	bus    cache.Broadcaster
	log    *zap.Logger
}

func newInvalidator(c *caches, bus cache.Broadcaster, log *zap.Logger) *invalidator {
	return &invalidator{caches: c, bus: bus, log: log}
}

// invalidate drops the agent's cached credentials here at once and tells every replica
// (this one included) through the broadcaster. Call it after the change has committed: a
// load that read the rows from before the commit is then dropped, or not stored (the
// caches' generation check), on every replica.
func (i *invalidator) invalidate(ctx context.Context, agentID string) {
	id, ok := ident.Parse(agentID)
	if !ok {
		return
	}
	i.caches.drop(id)
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), publishTimeout)
	defer cancel()
	if err := i.bus.Publish(ctx, invalidateTopic, []byte(id.String())); err != nil {
		i.log.Warn("could not broadcast a credential change; other replicas catch up within the cache TTL",
			zap.String("agent_id", agentID), zap.Duration("ttl", cacheTTL), zap.Error(err))
	}
}

// onMessage is the invalidateTopic handler: another replica (or this one) changed the
// agent's credentials.
func (i *invalidator) onMessage(payload []byte) {
	if id, ok := ident.Parse(string(payload)); ok {
		i.caches.drop(id)
	}
}
