package cache

import (
	"context"
	"errors"
	"strings"
	"time"

	"github.com/redis/go-redis/v9"
)

// Pipelining of the hot commands (Get, Allow, AllowIncrUpTo): the commands of
// concurrent callers are sent to Redis together, one pipeline per write and read, rather
// than one round trip each. Under load that divides the system calls and Redis's per-command
// overhead by the batch size; an idle cache sends a lone command at once (there is no
// timer), so a single caller waits no longer than before.
const (
	pipelineLanes    = 4   // pipelines in flight at once, each on its own connection
	pipelineMaxBatch = 128 // commands per pipeline
	pipelineQueue    = 1024
	pipelineTimeout  = 5 * time.Second // bounds one pipeline (client timeouts apply too)
)

// errClosed is returned for commands sent after Close.
var errClosed = errors.New("cache: redis cache is closed")

// pipelined is one caller's command waiting for its pipeline.
type pipelined struct {
	queue func(p redis.Pipeliner) redis.Cmder
	cmd   redis.Cmder
	done  chan struct{}
}

// startPipeline starts the lanes, once.
func (r *Redis) startPipeline() {
	r.pipeOnce.Do(func() {
		r.pipeQueue = make(chan *pipelined, pipelineQueue)
		for range pipelineLanes {
			go r.pipelineLane()
		}
	})
}

// pipelineLane takes the first waiting command, adds whatever else is already queued, and
// sends them as one pipeline, until Close.
func (r *Redis) pipelineLane() {
	batch := make([]*pipelined, 0, pipelineMaxBatch)
	for {
		select {
		case <-r.stop:
			return
		case first := <-r.pipeQueue:
			batch = append(batch[:0], first)
		gather:
			for len(batch) < pipelineMaxBatch {
				select {
				case c := <-r.pipeQueue:
					batch = append(batch, c)
				default:
					break gather
				}
			}
			r.sendPipeline(batch)
			clear(batch)
		}
	}
}

func (r *Redis) sendPipeline(batch []*pipelined) {
	ctx, cancel := context.WithTimeout(context.Background(), pipelineTimeout)
	defer cancel()
	p := r.client.Pipeline()
	for _, c := range batch {
		c.cmd = c.queue(p)
	}
	_, _ = p.Exec(ctx) // each command carries its own error
	for _, c := range batch {
		close(c.done)
	}
}

// pipe sends the command that queue adds to a pipeline, with other callers' commands, and
// returns it once answered. If ctx ends first, ctx's error is returned (the command may
// still run, as any command already sent would).
func (r *Redis) pipe(ctx context.Context, queue func(p redis.Pipeliner) redis.Cmder) (redis.Cmder, error) {
	r.startPipeline()
	select {
	case <-r.stop: // the lanes are gone: nothing would take the command
		return nil, errClosed
	default:
	}
	c := &pipelined{queue: queue, done: make(chan struct{})}
	select {
	case r.pipeQueue <- c:
	case <-r.stop:
		return nil, errClosed
	case <-ctx.Done():
		return nil, ctx.Err()
	}
	select {
	case <-c.done:
		return c.cmd, nil
	case <-r.stop:
		return nil, errClosed
	case <-ctx.Done():
		return nil, ctx.Err()
	}
}

// evalPipelined runs script by EVALSHA in a pipeline; if Redis does not know the script
// (NOSCRIPT: a restarted or flushed Redis), it runs it once more with Script.Run, which
// loads it.
func (r *Redis) evalPipelined(ctx context.Context, script *redis.Script, keys []string, args ...any) *redis.Cmd {
	cmd, err := r.pipe(ctx, func(p redis.Pipeliner) redis.Cmder {
		return script.EvalSha(ctx, p, keys, args...)
	})
	if err != nil {
		c := redis.NewCmd(ctx)
		c.SetErr(err)
		return c
	}
	res := cmd.(*redis.Cmd)
	if err := res.Err(); err != nil && strings.HasPrefix(err.Error(), "NOSCRIPT") {
		return script.Run(ctx, r.client, keys, args...)
	}
	return res
}
