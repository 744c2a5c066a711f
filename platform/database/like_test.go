package database

import "testing"

func TestEscapeLike(t *testing.T) {
	for in, want := range map[string]string{`a%b_c\d`: `a\%b\_c\\d`, "plain": "plain", "": ""} {
		if got := EscapeLike(in); got != want {
			t.Errorf("EscapeLike(%q) = %q, want %q", in, got, want)
		}
	}
}
