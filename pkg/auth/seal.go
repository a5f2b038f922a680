// Package auth holds the Microsoft sign-in of elentra-teams: the
// authorization-code flow with PKCE and state, the encrypted token store, a
// TokenSource that persists every rotated refresh token, and the checks made
// when an administrator authorizes.
package auth

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"errors"
	"fmt"
)

// sealVersion prefixes every ciphertext, so the format can change later.
const sealVersion = 1

// Sealer encrypts tokens at rest with AES-256-GCM.
type Sealer struct{ aead cipher.AEAD }

// NewSealer takes the 32-byte key of token.encryption_key.
func NewSealer(key []byte) (*Sealer, error) {
	if len(key) != 32 {
		return nil, fmt.Errorf("token encryption key is %d bytes, want 32", len(key))
	}
	block, err := aes.NewCipher(key)
	if err != nil {
		return nil, err
	}
	aead, err := cipher.NewGCM(block)
	if err != nil {
		return nil, err
	}
	return &Sealer{aead: aead}, nil
}

// Seal encrypts plaintext; aad binds the ciphertext to where it is stored
// (the token's name and column), so a ciphertext moved to another column
// does not decrypt.
func (s *Sealer) Seal(plaintext []byte, aad string) []byte {
	nonce := make([]byte, s.aead.NonceSize())
	if _, err := rand.Read(nonce); err != nil {
		panic("auth: no randomness: " + err.Error())
	}
	out := append([]byte{sealVersion}, nonce...)
	return s.aead.Seal(out, nonce, plaintext, []byte(aad))
}

// ErrUndecryptable means a stored token cannot be decrypted with this key.
var ErrUndecryptable = errors.New("the stored token cannot be decrypted with token.encryption_key (was the key changed?); run authorize again")

// Open decrypts what Seal produced.
func (s *Sealer) Open(ciphertext []byte, aad string) ([]byte, error) {
	n := s.aead.NonceSize()
	if len(ciphertext) < 1+n || ciphertext[0] != sealVersion {
		return nil, ErrUndecryptable
	}
	pt, err := s.aead.Open(nil, ciphertext[1:1+n], ciphertext[1+n:], []byte(aad))
	if err != nil {
		return nil, ErrUndecryptable
	}
	return pt, nil
}
