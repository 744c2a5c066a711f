package replay_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/agentidp/agentidp/platform/cache"
	"github.com/agentidp/agentidp/platform/replay"
)

func TestFirstOncePerNamespace(t *testing.T) {
	m := cache.NewMemory()
	t.Cleanup(func() { _ = m.Close() })
	g := replay.New(m)
	ctx := context.Background()
	until := time.Now().Add(time.Minute)
	for i, c := range []struct {
		ns, id string
		want   bool
	}{
		{"assertion:a", "j1", true},
		{"assertion:a", "j1", false}, // replay
		{"assertion:b", "j1", true},  // another issuer's jti
		{"dpop", "j1", true},
		{"dpop", "j1", false},
	} {
		got, err := g.First(ctx, c.ns, c.id, until)
		if err != nil || got != c.want {
			t.Fatalf("case %d: First(%q, %q) = %v, %v; want %v", i, c.ns, c.id, got, err, c.want)
		}
	}
}

func TestFirstRemembersPastDeadline(t *testing.T) {
	m := cache.NewMemory()
	t.Cleanup(func() { _ = m.Close() })
	g := replay.New(m)
	ctx := context.Background()
	past := time.Now().Add(-time.Hour)
	if ok, _ := g.First(ctx, "dpop", "x", past); !ok {
		t.Fatal("first use refused")
	}
	if ok, _ := g.First(ctx, "dpop", "x", past); ok {
		t.Fatal("second use within the minimum TTL accepted")
	}
}

// downKV is a store that cannot be reached.
type downKV struct{ cache.KV }

func (downKV) SetNX(context.Context, string, string, time.Duration) (bool, error) {
	return false, cache.ErrUnavailable
}

func TestFirstUnavailable(t *testing.T) {
	ok, err := replay.New(downKV{}).First(context.Background(), "dpop", "x", time.Now().Add(time.Minute))
	if ok || !errors.Is(err, cache.ErrUnavailable) {
		t.Fatalf("First = %v, %v; want false, ErrUnavailable", ok, err)
	}
}

func TestKeyHidesIdentifier(t *testing.T) {
	k := replay.Key("dpop", "secret-looking-jti")
	if len(k) != len("replay:")+43 {
		t.Fatalf("key %q: unexpected length", k)
	}
	if replay.Key("a", "bc") == replay.Key("ab", "c") {
		t.Fatal("namespace and id are not separated")
	}
}
