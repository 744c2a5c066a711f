package credentials

import (
	"context"
	"time"

	"go.uber.org/zap"

	"github.com/agentidp/agentidp/platform/cache"
	"github.com/agentidp/agentidp/platform/changefeed"
	"github.com/agentidp/agentidp/platform/ident"
)

// invalidateTopic carries the id of an agent whose credentials changed to every replica.
const invalidateTopic = "credentials:invalidate"

// publishTimeout bounds the broadcast after a change; a lost message costs at most a poll.
const publishTimeout = 2 * time.Second

// invalidator drops an agent from the verifier's caches, here and on every replica: at once
// by broadcast, and within changePollEvery by polling the credentials table when the
// broadcast is lost or Redis is down.
type invalidator struct {
	caches *caches
	bus    cache.Broadcaster
	repo   repository
	log    *zap.Logger
	now    func() time.Time

	mark changefeed.Mark // where the next poll starts (the poll's worker only)
}

// changePollEvery is how often every replica reads the credentials created or revoked since
// its last poll: the bound on how long a replica that missed the broadcast serves a revoked
// credential (and its tokens) or misses a new one.
const changePollEvery = time.Second

func newInvalidator(c *caches, bus cache.Broadcaster, repo repository, log *zap.Logger) *invalidator {
	return &invalidator{caches: c, bus: bus, repo: repo, log: log, now: time.Now}
}

// poll drops from this replica's caches the agents whose credentials were created or
// revoked (on any replica) since the last poll, following the credentials table with
// platform/changefeed. The first poll only marks where to start: the caches hold nothing
// older than the start.
func (i *invalidator) poll(ctx context.Context) error {
	now := i.now()
	if !i.mark.Started() {
		i.mark.Start(now)
		return nil
	}
	rows, err := i.repo.changedSince(ctx, i.mark.Since(now), now)
	if err != nil {
		return err
	}
	for _, r := range rows {
		if id, ok := ident.Parse(r.AgentID); ok {
			i.caches.drop(id)
		}
		i.mark.Saw(r.CreatedAt)
		if r.RevokedAt != nil && !r.RevokedAt.After(now) {
			i.mark.Saw(*r.RevokedAt)
		}
	}
	return nil
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
		i.log.Warn("could not broadcast a credential change; other replicas catch up at their next poll (about a second)",
			zap.String("agent_id", agentID), zap.Error(err))
	}
}

// onMessage is the invalidateTopic handler: another replica (or this one) changed the
// agent's credentials.
func (i *invalidator) onMessage(payload []byte) {
	if id, ok := ident.Parse(string(payload)); ok {
		i.caches.drop(id)
	}
}
