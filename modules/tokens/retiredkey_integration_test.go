package tokens_test

import (
	"context"
	"net/http"
	"testing"
	"time"

	jose "github.com/go-jose/go-jose/v4"

	"github.com/agentidp/agentidp/modules/tokens"
	"github.com/agentidp/agentidp/platform/database"
	"github.com/agentidp/agentidp/platform/testenv"
)

// A key signs until it retires, so a token it signed is dated (iat) at or before the
// retirement, give or take the 60 s leeway for clocks and for replicas that learn of the
// rotation late. A token of a retired key dated later was made with the key's private
// material outside this server (keys are rotated because they may have leaked): 401 on the
// API, {"active": false} at introspection, ignored by revocation; also when the same token
// was accepted (and remembered as verified) before the retirement was known.
func TestIntegrationTokenSignedAfterItsKeyRetired(t *testing.T) {
	testenv.ForEachBackend(t, func(t *testing.T, b testenv.Backend) {
		e := newEnv(t, b, nil)
		ctx := context.Background()
		legit := e.adminToken()
		oldKID, _, oldKey := ourKey(t, e)
		now := time.Now()
		forge := func(iat time.Time) string {
			tok := sign(t, jose.RS256, oldKey, map[string]any{"kid": oldKID, "typ": "at+jwt"}, map[string]any{
				"iss": e.cfg.Issuer, "sub": e.admin.ID, "client_id": e.admin.ID, "aud": e.cfg.Issuer, "scope": "agents:read",
				"iat": iat.Unix(), "exp": now.Add(30 * time.Minute).Unix(), "jti": newUUID(t), "cid": e.admin.CredentialID})
			e.remember(tok)
			return tok
		}
		apiStatus := func(tok string) int { return e.apiStatus(tok, e.admin.ID) }
		wantAccepted := func(name, tok string) {
			t.Helper()
			if s := apiStatus(tok); s != http.StatusOK || !e.active(tok) {
				t.Fatalf("%s: API status %d, introspection active %v; want accepted", name, s, e.active(tok))
			}
		}
		wantRefused := func(name, tok string) {
			t.Helper()
			if s := apiStatus(tok); s != http.StatusUnauthorized || e.active(tok) {
				t.Fatalf("%s: API status %d, introspection active %v; want 401 and inactive", name, s, e.active(tok))
			}
		}

		// The rotation (no publish delay in tests) retires the old key now: its tokens, and
		// one dated now, are what the server may have issued.
		e.mustAPI(http.StatusOK, http.MethodPost, tokens.PathKeysRotate, legit, nil)
		wantAccepted("a token the old key signed before the rotation", legit)
		datedNow := forge(now)
		wantAccepted("the old key, iat at its retirement", datedNow)

		// Ten minutes later, as far as the key ring knows: the old key retired at r.
		keys, err := e.keys.ListKeys(ctx)
		if err != nil {
			t.Fatal(err)
		}
		var newKID string
		for _, k := range keys {
			if k.KID != oldKID {
				newKID = k.KID
			}
		}
		r := now.Add(-10 * time.Minute).Truncate(time.Second)
		for _, q := range []struct {
			sql string
			at  time.Time
			kid string
		}{
			{`UPDATE signing_keys SET retires_at = ? WHERE kid = ?`, r, oldKID},
			{`UPDATE signing_keys SET activates_at = ? WHERE kid = ?`, r, newKID},
		} {
			if _, err := b.DB.ExecContext(ctx, q.sql, database.Time(q.at), q.kid); err != nil {
				t.Fatal(err)
			}
		}
		if err := b.Cache.Publish(ctx, tokens.KeysChangedChannel, []byte(newKID)); err != nil {
			t.Fatal(err)
		}
		eventually(t, 5*time.Second, "the key ring reloads the retirement", func() bool {
			return apiStatus(datedNow) == http.StatusUnauthorized
		})

		wantRefused("remembered as verified, dated after the retirement", datedNow)
		wantRefused("never seen, dated now", forge(time.Now()))
		wantRefused("dated just past the leeway", forge(r.Add(61*time.Second)))
		wantAccepted("dated within the leeway", forge(r.Add(60*time.Second)))
		wantAccepted("dated before the retirement", forge(r.Add(-5*time.Minute)))
		wantAccepted("a token of the new key", e.token(e.admin, "", ""))

		late := forge(time.Now())
		if rr := e.revoke(late, "Authorization", basic(e.admin.ID, e.admin.Secret)); rr.Status != http.StatusOK {
			t.Fatalf("revoking a forged token: %d %s", rr.Status, rr.Body)
		}
		if rows := auditRows(t, b.DB, tokens.ActionTokenRevoked); len(rows) != 0 {
			t.Fatalf("a forged token was revoked as if it were the server's: %+v", rows)
		}
		e.assertNoLeaks()
	})
}
