// Package sealbox seals small secrets (private keys) at rest under AGENTIDP_MASTER_KEY:
// AES-256-GCM, a random 96-bit nonce per secret, and additional data that names the
// secret's row, so that a sealed value cannot be moved to another row.
package sealbox

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"errors"
)

// Wrap is the name stored beside a value sealed by this package.
const Wrap = "a256gcm"

// ErrOpen is returned when a sealed value does not open: the master key differs from the
// one it was sealed under, or the value or its row was altered.
var ErrOpen = errors.New("AGENTIDP_MASTER_KEY: cannot decrypt a sealed key: the master key differs from the one it was created with, or the row was altered")

// Seal encrypts plain under master (32 bytes) with aad as additional data.
func Seal(master, aad, plain []byte) (sealed, nonce []byte, err error) {
	aead, err := newAEAD(master)
	if err != nil {
		return nil, nil, err
	}
	nonce = make([]byte, aead.NonceSize())
	if _, err := rand.Read(nonce); err != nil {
		return nil, nil, err
	}
	return aead.Seal(nil, nonce, plain, aad), nonce, nil
}

// Open decrypts what Seal returned, or fails with ErrOpen.
func Open(master, aad, sealed, nonce []byte) ([]byte, error) {
	aead, err := newAEAD(master)
	if err != nil {
		return nil, err
	}
	if len(nonce) != aead.NonceSize() {
		return nil, ErrOpen
	}
	plain, err := aead.Open(nil, nonce, sealed, aad)
	if err != nil {
		return nil, ErrOpen
	}
	return plain, nil
}

func newAEAD(master []byte) (cipher.AEAD, error) {
	if len(master) != 32 {
		return nil, errors.New("AGENTIDP_MASTER_KEY: want 32 bytes")
	}
	block, err := aes.NewCipher(master)
	if err != nil {
		return nil, err
	}
	return cipher.NewGCM(block)
}
