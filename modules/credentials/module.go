package credentials

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"

	"go.uber.org/fx"
	"go.uber.org/zap"

	"github.com/agentidp/agentidp/modules/agents"
	"github.com/agentidp/agentidp/modules/orgs"
	"github.com/agentidp/agentidp/platform/cache"
	"github.com/agentidp/agentidp/platform/config"
	"github.com/agentidp/agentidp/platform/httpserver"
	"github.com/agentidp/agentidp/platform/jwks"
	"github.com/agentidp/agentidp/platform/vault"
	"github.com/agentidp/agentidp/platform/worker"
)

// Module is the credentials bounded context, in three parts:
//
//   - the verifier on the token path: Verifier (secrets) and AssertionVerifier
//     (private_key_jwt and federated assertions) at the token, introspection and
//     revocation endpoints, and Directory (token validation), answered from its caches
//     (trusted issuers' fetched key sets from the JWKS fetcher's);
//   - the admin service: the routes (issue, list, rotate, revoke; trusted issuers), the Bootstrapper, an
//     organization's first admin (orgs.AdminProvisioner), and the agents lifecycle hooks
//     (a decommission revokes every credential in its transaction; the caches drop them
//     once it has committed);
//   - the workers: the last_used_at flush (every 5 s and on stop), the invalidation
//     subscription (credentials:invalidate from every replica), and in Vault mode the
//     janitor (every 30 s).
//
// Add AutoBootstrap to the serving app for the first-start bootstrap.
var Module = fx.Module("credentials",
	fx.Decorate(func(log *zap.Logger) *zap.Logger { return log.Named("credentials") }),
	fx.Provide(fx.Private,
		newRepository,
		newIssuerRepository,
		newIssuerCache,
		newModuleFetcher,
		newAssertions,
		newModuleHasher,
		newCaches,
		newModuleUsage,
		newModuleInvalidator,
		newService,
	),
	fx.Provide(
		fx.Annotate(newVerifier, fx.As(new(Verifier)), fx.As(new(Directory))),
		func(a *assertions) AssertionVerifier { return a },
		func(s *service) Bootstrapper { return s },
		func(s *service) orgs.AdminProvisioner { return s },
	),
	fx.Provide(httpserver.AsRoutes(newRoutes)),
	fx.Invoke(subscribeToAgents, startJanitor),
)

// newModuleFetcher builds the fetcher of trusted issuers' jwks_uri key sets
// (AGENTIDP_JWKS_ALLOW_PRIVATE lets it dial private addresses); its idle connections close
// on stop.
func newModuleFetcher(lc fx.Lifecycle, cfg *config.Config) *jwks.Fetcher {
	f := jwks.NewFetcher(cfg.JWKSAllowPrivate)
	lc.Append(fx.StopHook(f.Close))
	return f
}

func newModuleHasher(cfg *config.Config) (*hasher, error) { return newHasher(cfg.SecretPepper) }

// newModuleUsage builds the last_used_at tracker and its worker: a flush every
// usageFlushInterval (5 s) and a last one on stop. The verifier depends on it and the token
// routes on the verifier, so in the server the worker starts before the HTTP server and
// stops after it has drained the requests that verify.
func newModuleUsage(lc fx.Lifecycle, repo repository, log *zap.Logger) *usageTracker {
	u := newUsageTracker(repo, log)
	lc.Append(worker.Hook(log, worker.Spec{
		Name: "last_used_at flush", Every: usageFlushInterval, Run: u.flush, Final: u.flush,
	}))
	return u
}

// newModuleInvalidator builds the invalidator and its workers: the subscription to
// invalidateTopic through which every replica drops an agent whose credentials changed at
// once, and the poll of the credentials table every changePollEvery (1 s) that does the same
// when the broadcast is lost or Redis is down.
func newModuleInvalidator(lc fx.Lifecycle, c *caches, bus cache.Cache, repo repository, log *zap.Logger) *invalidator {
	inv := newInvalidator(c, bus, repo, log)
	lc.Append(worker.Hook(log, worker.Spec{
		Name:      "credential invalidation",
		Subscribe: &worker.Subscription{Bus: bus, Channel: invalidateTopic, Handle: inv.onMessage},
	}))
	lc.Append(worker.Hook(log, worker.Spec{
		Name: "credential change poll", Every: changePollEvery, Start: inv.poll, Run: inv.poll,
	}))
	return inv
}

// subscribeToAgents registers the admin service's agents lifecycle hooks: in the status
// change's transaction, a decommission revokes the agent's credentials; once it has
// committed, the caches drop them.
func subscribeToAgents(l agents.Lifecycle, s *service) {
	l.OnStatusChange(s.revokeOnDecommission)
	l.AfterStatusChange(s.dropAfterDecommission)
}

// startJanitor runs, in Vault mode only, the janitor's worker: every janitorInterval
// (30 s) it deletes the Vault entries of dead credentials.
func startJanitor(lc fx.Lifecycle, repo repository, kv vault.KV, log *zap.Logger) {
	if !vault.Enabled(kv) {
		return
	}
	j := newJanitor(repo, kv, log)
	lc.Append(worker.Hook(log, worker.Spec{Name: "vault janitor", Every: janitorInterval, Run: j.sweep}))
}

// AutoBootstrap is the serve-time bootstrap: on start, when no admin exists, it creates one
// and prints its credentials once to standard output (not through the logger, whose
// redaction would hide the secret). A replica that finds an admin prints nothing.
var AutoBootstrap = AutoBootstrapTo(os.Stdout)

// AutoBootstrapTo is AutoBootstrap printing to w (for tests).
func AutoBootstrapTo(w io.Writer) fx.Option {
	return fx.Invoke(func(lc fx.Lifecycle, b Bootstrapper, cfg *config.Config) {
		lc.Append(fx.StartHook(func(ctx context.Context) error {
			res, err := b.Bootstrap(ctx)
			if errors.Is(err, ErrAdminExists) {
				return nil
			}
			if err != nil {
				return fmt.Errorf("bootstrap admin: %w", err)
			}
			_, err = fmt.Fprintln(w, BootstrapLine(res, cfg.BootstrapClientSecret != ""))
			return err
		}))
	})
}
