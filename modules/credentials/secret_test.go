package credentials

import (
	"strings"
	"testing"
	"time"

	"golang.org/x/crypto/bcrypt"
)

func testHasher(t testing.TB) *hasher {
	t.Helper()
	h, err := newHasher([]byte("0123456789abcdef0123456789abcdef"))
	if err != nil {
		t.Fatal(err)
	}
	return h
}

func TestNewSecretFormat(t *testing.T) {
	seen := map[string]bool{}
	for range 100 {
		s, err := newSecret()
		if err != nil {
			t.Fatal(err)
		}
		if len(s) != SecretLen || !strings.HasPrefix(s, SecretPrefix) || !wellFormedSecret(s) {
			t.Fatalf("secret %q…", s[:12])
		}
		if seen[s] {
			t.Fatal("a secret repeated")
		}
		seen[s] = true
	}
	for _, bad := range []string{"", "sk_live_", "sk_test_" + strings.Repeat("a", 43),
		"sk_live_" + strings.Repeat("a", 42), "sk_live_" + strings.Repeat("a", 42) + "=", "sk_live_" + strings.Repeat("a", 44)} {
		if wellFormedSecret(bad) {
			t.Errorf("%q accepted", bad)
		}
	}
}

func TestHashV1RoundTrip(t *testing.T) {
	h := testHasher(t)
	s, _ := newSecret()
	enc := encodeV1(h.sum(s))
	if !strings.HasPrefix(enc, "h1$") || len(enc) != hashV1Len {
		t.Fatalf("encoded %q", enc)
	}
	p := parseHash(enc)
	d := h.sum(s)
	if p.kind != kindV1 || !equalDigest(&p.v1, &d) {
		t.Fatal("the parsed hash does not match its secret")
	}
	other := h.sum(s + "x")
	if equalDigest(&p.v1, &other) {
		t.Fatal("another secret matches")
	}
	// Another pepper gives another digest.
	h2, _ := newHasher([]byte("fedcba9876543210fedcba9876543210"))
	if d2 := h2.sum(s); equalDigest(&d, &d2) {
		t.Fatal("the pepper does not key the digest")
	}
	if _, err := newHasher(nil); err == nil {
		t.Fatal("an empty pepper is accepted")
	}
}

func TestParseHashFormats(t *testing.T) {
	b, err := bcrypt.GenerateFromPassword([]byte("sk_live_x"), bcrypt.MinCost)
	if err != nil {
		t.Fatal(err)
	}
	if p := parseHash(string(b)); p.kind != kindBcrypt || !bcryptMatches(p.bcrypt, "sk_live_x") || bcryptMatches(p.bcrypt, "sk_live_y") {
		t.Fatalf("bcrypt hash parsed as %v", p.kind)
	}
	for _, bad := range []string{"", "h1$", "h1$!!!", "h2$" + strings.Repeat("A", 43), "$2a$xx", "plain", "$argon2id$v=19$..."} {
		if p := parseHash(bad); p.kind != kindNone {
			t.Errorf("%q parsed as %v", bad, p.kind)
		}
	}
}

func TestRowStatus(t *testing.T) {
	now := time.Now()
	past, future := now.Add(-time.Minute), now.Add(time.Minute)
	for _, tc := range []struct {
		expires, revoked *time.Time
		want             Status
		active           bool
	}{
		{nil, nil, StatusActive, true},
		{&future, nil, StatusActive, true},
		{&past, nil, StatusExpired, false},
		{nil, &past, StatusRevoked, false},
		{&past, &past, StatusRevoked, false},
		{nil, &future, StatusActive, true}, // grace period running
	} {
		r := &credentialRow{ExpiresAt: tc.expires, RevokedAt: tc.revoked}
		st := rowState(r, now)
		if r.status(now) != tc.want || st.Status != tc.want || st.Active(now) != tc.active {
			t.Errorf("expires %v revoked %v: status %s, state %+v", tc.expires, tc.revoked, r.status(now), st)
		}
		if tc.active && st.Active(future.Add(time.Second)) && (tc.expires != nil || tc.revoked != nil) {
			t.Errorf("expires %v revoked %v: State still active after the end", tc.expires, tc.revoked)
		}
	}
}

func TestUsageTrackerKeepsLatest(t *testing.T) {
	u := newUsageTracker(nil, nil)
	t0 := time.Now()
	u.touch("a", t0)
	u.touch("a", t0.Add(-time.Second))
	u.touch("b", t0)
	if len(u.pending) != 2 || !u.pending["a"].Equal(t0) {
		t.Fatalf("pending %v", u.pending)
	}
}
