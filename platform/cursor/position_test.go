package cursor

import (
	"encoding/base64"
	"testing"
	"time"
)

func TestPositionRoundTrip(t *testing.T) {
	c := Position{CreatedAt: time.Now().UTC().Truncate(time.Microsecond), ID: "0b1c2d3e-4f50-4617-8293-a4b5c6d7e8f9"}
	got, err := DecodePosition(c.Encode())
	if err != nil {
		t.Fatal(err)
	}
	if !got.CreatedAt.Equal(c.CreatedAt) || got.ID != c.ID {
		t.Errorf("round trip: %+v, want %+v", got, c)
	}
}

func TestDecodePositionRejects(t *testing.T) {
	enc := func(s string) string { return base64.RawURLEncoding.EncodeToString([]byte(s)) }
	for _, bad := range []string{
		"", "!!!", "c1", enc("c1.1.2"), enc("a1.1.0b1c2d3e-4f50-4617-8293-a4b5c6d7e8f9"),
		enc("c1.-5.0b1c2d3e-4f50-4617-8293-a4b5c6d7e8f9"), enc("c1.x.0b1c2d3e-4f50-4617-8293-a4b5c6d7e8f9"),
		enc("c1.1.0b1c2d3e4f5046178293a4b5c6d7e8f9"), enc("c1.1.0b1c2d3e-4f50-4617-8293-a4b5c6d7e8f9.x"),
		enc("c1.0.0b1c2d3e-4f50-4617-8293-a4b5c6d7e8f9"), enc("c1.1.' OR 1=1 --"), string(make([]byte, 200)),
	} {
		if _, err := DecodePosition(bad); err == nil {
			t.Errorf("DecodePosition(%q) accepted", bad)
		}
	}
}

// The APIs list's first item has no time: DecodePositionOrZero takes its position.
func TestDecodePositionOrZero(t *testing.T) {
	p := Position{ID: "0b1c2d3e-4f50-4617-8293-a4b5c6d7e8f9"}
	got, err := DecodePositionOrZero(p.Encode())
	if err != nil || got != p {
		t.Fatalf("%+v, %v", got, err)
	}
	if _, err := DecodePosition(p.Encode()); err == nil {
		t.Fatal("DecodePosition accepted a position without a time")
	}
	if _, err := DecodePositionOrZero(Encode(time.Time{}, "not-a-uuid")); err == nil {
		t.Fatal("DecodePositionOrZero accepted a key that is no UUID")
	}
}
