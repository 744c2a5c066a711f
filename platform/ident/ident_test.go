package ident

import "testing"

func TestCanonical(t *testing.T) {
	for in, want := range map[string]string{
		"0191f0a4-1c2d-4e3f-8a4b-5c6d7e8f9a01": "0191f0a4-1c2d-4e3f-8a4b-5c6d7e8f9a01",
		"0191F0A4-1C2D-4E3F-8A4B-5C6D7E8F9A01": "0191f0a4-1c2d-4e3f-8a4b-5c6d7e8f9a01",
	} {
		if got, ok := Canonical(in); !ok || got != want {
			t.Errorf("%q: %q %v", in, got, ok)
		}
	}
	for _, in := range []string{"", "x", "{0191f0a4-1c2d-4e3f-8a4b-5c6d7e8f9a01}", "urn:uuid:0191f0a4-1c2d-4e3f-8a4b-5c6d7e8f9a01",
		"0191f0a41c2d4e3f8a4b5c6d7e8f9a01", "0191f0a4-1c2d-4e3f-8a4b-5c6d7e8f9a0g", "0191f0a4-1c2d-4e3f-8a4b_5c6d7e8f9a01", "' OR 1=1 --"} {
		if got, ok := Canonical(in); ok {
			t.Errorf("%q accepted as %q", in, got)
		}
		if _, ok := Parse(in); ok {
			t.Errorf("%q parsed", in)
		}
	}
}
