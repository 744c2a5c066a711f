package cursor

import (
	"encoding/base64"
	"strings"
	"testing"
	"time"
)

func TestRoundTrip(t *testing.T) {
	at := time.Date(2026, 12, 4, 10, 11, 12, 123456789, time.UTC)
	for _, c := range []struct {
		at  time.Time
		key string
	}{{at, "0191f0a4-1c2d-4e3f-8a4b-5c6d7e8f9a01"}, {time.Time{}, "0191f0a4-1c2d-4e3f-8a4b-5c6d7e8f9a01"}, {at, "42"}, {at, "a.b"}} {
		gotAt, gotKey, err := Decode(Encode(c.at, c.key))
		if err != nil || !gotAt.Equal(c.at.Truncate(time.Microsecond)) || gotKey != c.key {
			t.Errorf("%v %q: %v %q %v", c.at, c.key, gotAt, gotKey, err)
		}
	}
}

func TestRefusesWhatEncodeDidNotMake(t *testing.T) {
	b := func(s string) string { return base64.RawURLEncoding.EncodeToString([]byte(s)) }
	for _, s := range []string{"", "!!!", b("c1.1"), b("c2.1.k"), b("c1.-5.k"), b("c1.x.k"), b("c1.1."), b("1.k"),
		b("c1.999999999999999999999.k"), strings.Repeat("A", 300), b("c1.1.k") + "="} {
		if _, _, err := Decode(s); err == nil {
			t.Errorf("%q accepted", s)
		}
	}
}
