package agents

import (
	"encoding/base64"
	"testing"
	"time"

	"github.com/agentidp/agentidp/platform/database"
)

func TestCursorRoundTrip(t *testing.T) {
	c := cursor{CreatedAt: database.Time(time.Now()), ID: "0b1c2d3e-4f50-4617-8293-a4b5c6d7e8f9"}
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
		"", "!!!", "c1", enc("c1.1.2"), enc("a1.1.0b1c2d3e-4f50-4617-8293-a4b5c6d7e8f9"),
		enc("c1.-5.0b1c2d3e-4f50-4617-8293-a4b5c6d7e8f9"), enc("c1.x.0b1c2d3e-4f50-4617-8293-a4b5c6d7e8f9"),
		enc("c1.1.0b1c2d3e4f5046178293a4b5c6d7e8f9"), enc("c1.1.0b1c2d3e-4f50-4617-8293-a4b5c6d7e8f9.x"),
		enc("c1.0.0b1c2d3e-4f50-4617-8293-a4b5c6d7e8f9"), enc("c1.1.' OR 1=1 --"), string(make([]byte, 200)),
	} {
		if _, err := parseCursor(bad); err == nil {
			t.Errorf("parseCursor(%q) accepted", bad)
		}
	}
}
