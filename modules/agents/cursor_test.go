package agents

import (
	"encoding/base64"
	"testing"
	"time"
)

func TestCursorRoundTrip(t *testing.T) {
	c := cursor{CreatedAt: truncateTime(time.Now()), ID: "0b1c2d3e-4f50-4617-8293-a4b5c6d7e8f9"}
	got, err := parseCursor(c.encode())
	if err != nil {
		t.Fatal(err)
	}
	if !got.CreatedAt.Equal(c.CreatedAt) || got.ID != c.ID {
		t.Errorf("round trip: %+v, want %+v", got, c)
	}
}

func TestParseCursorRejects(t *testing.T) {
	enc := func(s string) string { return base64.RawURLEncoding.EncodeToString([]byte(s)) }
	for _, bad := range []string{
		"", "!!!", "a1", enc("a1.1.2"), enc("a2.1.0b1c2d3e-4f50-4617-8293-a4b5c6d7e8f9"),
		enc("a1.-5.0b1c2d3e-4f50-4617-8293-a4b5c6d7e8f9"), enc("a1.x.0b1c2d3e-4f50-4617-8293-a4b5c6d7e8f9"),
		enc("a1.1.0b1c2d3e4f5046178293a4b5c6d7e8f9"), enc("a1.1.0b1c2d3e-4f50-4617-8293-a4b5c6d7e8f9.x"),
		enc("a1.1.' OR 1=1 --"), string(make([]byte, 200)),
	} {
		if _, err := parseCursor(bad); err == nil {
			t.Errorf("parseCursor(%q) accepted", bad)
		}
	}
}

func TestCanonicalID(t *testing.T) {
	const id = "0b1c2d3e-4f50-4617-8293-a4b5c6d7e8f9"
	if got, ok := canonicalID("0B1C2D3E-4F50-4617-8293-A4B5C6D7E8F9"); !ok || got != id {
		t.Errorf("upper case: %q %v", got, ok)
	}
	for _, bad := range []string{"", "x", "{" + id + "}", "urn:uuid:" + id, "0b1c2d3e4f5046178293a4b5c6d7e8f9", id + " "} {
		if _, ok := canonicalID(bad); ok {
			t.Errorf("canonicalID(%q) accepted", bad)
		}
	}
}
