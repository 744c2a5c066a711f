package tokens_test

import (
	"context"
	"net/http"
	"testing"

	"github.com/agentidp/agentidp/modules/tokens"
	"github.com/agentidp/agentidp/platform/testenv"
)

// SPEC §9: the audit event of a call made with a delegated token names the whole chain as
// the actor. C, acting for B acting for A, revokes a token of A's with its delegated token
// (bearer): the token.revoked event's actor is A and its details.actor_chain is [A, B, C],
// the order of token.exchanged's chain. The same call with a plain token of A's names no
// chain. A token presented again (the validator's cache) names its own chain still.
func TestIntegrationDelegatedCallAuditsChain(t *testing.T) {
	testenv.ForEachBackend(t, func(t *testing.T, b testenv.Backend) {
		e := newEnv(t, b, nil)
		a := e.newClient([]string{"tokens:revoke"}, nil)
		bb := e.newClient([]string{}, nil)
		c := e.newClient([]string{}, nil)
		e.setDelegates(a.ID, bb.ID, c.ID)
		e.setDelegates(bb.ID, c.ID)

		tA := e.token(a, "tokens:revoke", "")
		tB := e.exchange(bb, tA, nil)
		tC := e.exchange(c, tB, nil)
		chain := asJSON([]string{a.ID, bb.ID, c.ID})
		if ex := auditRows(t, b.DB, tokens.ActionTokenExchanged); asJSON(ex[len(ex)-1].Details["chain"]) != chain {
			t.Fatalf("token.exchanged: %s", ex[len(ex)-1].Raw)
		}

		// Twice: the second use of tC comes from the verified-token cache; and B's token,
		// of a shorter chain, in between.
		for i, call := range []struct{ bearer, chain string }{
			{tC, chain}, {tB, asJSON([]string{a.ID, bb.ID})}, {tC, chain}, {tA, ""},
		} {
			victim := e.token(a, "", "")
			if r := e.revoke(victim, "Authorization", "Bearer "+call.bearer); r.Status != http.StatusOK {
				t.Fatalf("call %d: revocation %d %s", i, r.Status, r.Body)
			}
			if e.active(victim) {
				t.Fatalf("call %d: the token is still active", i)
			}
			ev := auditRows(t, b.DB, tokens.ActionTokenRevoked)
			last := ev[len(ev)-1]
			if last.TargetID != payload(t, victim)["jti"] {
				t.Fatalf("call %d: last token.revoked is not the call's: %s", i, last.Raw)
			}
			got, has := last.Details["actor_chain"]
			switch {
			case call.chain == "" && has:
				t.Fatalf("call %d: a plain token's event names a chain: %s", i, last.Raw)
			case call.chain != "" && asJSON(got) != call.chain:
				t.Fatalf("call %d: actor_chain %s, want %s (%s)", i, asJSON(got), call.chain, last.Raw)
			}
			if actor := auditActor(t, b, last.TargetID); actor != a.ID {
				t.Fatalf("call %d: actor_id %s, want the subject %s", i, actor, a.ID)
			}
		}
		e.assertNoLeaks()
	})
}

// auditActor is the actor_id of the token.revoked event of the token jti.
func auditActor(t testing.TB, b testenv.Backend, jti string) string {
	t.Helper()
	var actor string
	err := b.DB.QueryRowContext(context.Background(), `SELECT COALESCE(CAST(actor_id AS TEXT), '') FROM audit_events
		WHERE action = ? AND target_id = ?`, tokens.ActionTokenRevoked, jti).Scan(&actor)
	if err != nil {
		t.Fatal(err)
	}
	return actor
}
