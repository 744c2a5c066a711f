package sealbox_test

import (
	"bytes"
	"errors"
	"testing"

	"github.com/agentidp/agentidp/platform/sealbox"
)

func TestSealOpenRoundTripAndRefusals(t *testing.T) {
	master := bytes.Repeat([]byte{7}, 32)
	sealed, nonce, err := sealbox.Seal(master, []byte("row-a"), []byte("secret"))
	if err != nil {
		t.Fatal(err)
	}
	if bytes.Contains(sealed, []byte("secret")) {
		t.Fatal("sealed value holds the plaintext")
	}
	got, err := sealbox.Open(master, []byte("row-a"), sealed, nonce)
	if err != nil || string(got) != "secret" {
		t.Fatalf("Open = %q, %v", got, err)
	}
	other := bytes.Repeat([]byte{8}, 32)
	for name, try := range map[string]func() error{
		"other master key": func() error { _, err := sealbox.Open(other, []byte("row-a"), sealed, nonce); return err },
		"other row":        func() error { _, err := sealbox.Open(master, []byte("row-b"), sealed, nonce); return err },
		"short nonce":      func() error { _, err := sealbox.Open(master, []byte("row-a"), sealed, nonce[:4]); return err },
	} {
		if err := try(); !errors.Is(err, sealbox.ErrOpen) {
			t.Errorf("%s: err = %v, want ErrOpen", name, err)
		}
	}
	if _, _, err := sealbox.Seal(master[:16], nil, []byte("x")); err == nil {
		t.Error("a 16-byte master key was accepted")
	}
}
