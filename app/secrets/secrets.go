// Package secrets keeps endpoint secrets encrypted at rest: one master key, held in the OS
// keychain (or, where there is none, such as headless Linux, a 0600 file in the data dir), and
// every secret sealed with an AEAD before it reaches SQLite.
package secrets

import (
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/zalando/go-keyring"
	"golang.org/x/crypto/chacha20poly1305"
)

// Where the master key lives.
const (
	SourceKeychain = "keychain"
	SourceFile     = "file"
)

// keyFile is the fallback key file in the data dir.
const keyFile = "master-key"

// Keyring is the OS keychain; OSKeyring is the real one. Tests give their own.
type Keyring interface {
	Get(service, user string) (string, error)
	Set(service, user, secret string) error
}

// OSKeyring uses the platform's keychain (Keychain, Credential Manager, Secret Service).
type OSKeyring struct{}

// Get reads an item.
func (OSKeyring) Get(service, user string) (string, error) { return keyring.Get(service, user) }

// Set writes an item.
func (OSKeyring) Set(service, user, secret string) error { return keyring.Set(service, user, secret) }

const service = "Hooktray"

// Box seals and opens secrets with the master key.
type Box struct {
	key    []byte
	Source string // SourceKeychain or SourceFile: shown in status, so a fallback is visible
}

// Open loads the data dir's master key, creating one on first use: from the key file if one
// exists (a fallback once chosen stays, or secrets would become unreadable), else from the
// keychain, else in a new key file with mode 0600.
func Open(dataDir string, kr Keyring) (*Box, error) {
	path := filepath.Join(dataDir, keyFile)
	if b, err := os.ReadFile(path); err == nil {
		key, err := hex.DecodeString(strings.TrimSpace(string(b)))
		if err != nil || len(key) != chacha20poly1305.KeySize {
			return nil, fmt.Errorf("the master key file %s is damaged; without it the stored secrets cannot be read", path)
		}
		return &Box{key: key, Source: SourceFile}, nil
	}
	user := "master-key " + dirID(dataDir)
	if kr != nil {
		s, err := kr.Get(service, user)
		if err == nil {
			key, derr := base64.StdEncoding.DecodeString(s)
			if derr != nil || len(key) != chacha20poly1305.KeySize {
				return nil, errors.New("the master key in the keychain is damaged; the stored secrets cannot be read")
			}
			return &Box{key: key, Source: SourceKeychain}, nil
		}
		if errors.Is(err, keyring.ErrNotFound) {
			key := newKey()
			if err := kr.Set(service, user, base64.StdEncoding.EncodeToString(key)); err == nil {
				return &Box{key: key, Source: SourceKeychain}, nil
			}
		}
	}
	key := newKey()
	if err := os.WriteFile(path, []byte(hex.EncodeToString(key)+"\n"), 0o600); err != nil {
		return nil, fmt.Errorf("write the master key file: %w", err)
	}
	return &Box{key: key, Source: SourceFile}, nil
}

// dirID names a data dir's key in the keychain, so several data dirs do not share one.
func dirID(dataDir string) string {
	abs, _ := filepath.Abs(dataDir)
	sum := sha256.Sum256([]byte(abs))
	return hex.EncodeToString(sum[:8])
}

func newKey() []byte {
	key := make([]byte, chacha20poly1305.KeySize)
	if _, err := rand.Read(key); err != nil {
		panic(fmt.Sprintf("crypto/rand failed: %v", err))
	}
	return key
}

// Seal encrypts a secret; ad binds it to where it belongs (the endpoint id), so a ciphertext
// copied to another endpoint does not open.
func (b *Box) Seal(plaintext, ad string) (nonce, ciphertext []byte) {
	aead, _ := chacha20poly1305.NewX(b.key)
	nonce = make([]byte, aead.NonceSize())
	rand.Read(nonce)
	return nonce, aead.Seal(nil, nonce, []byte(plaintext), []byte(ad))
}

// Unseal decrypts what Seal produced for the same ad.
func (b *Box) Unseal(nonce, ciphertext []byte, ad string) (string, error) {
	aead, _ := chacha20poly1305.NewX(b.key)
	if len(nonce) != aead.NonceSize() {
		return "", errors.New("stored secret has a bad nonce")
	}
	p, err := aead.Open(nil, nonce, ciphertext, []byte(ad))
	if err != nil {
		return "", errors.New("a stored secret does not decrypt with this master key")
	}
	return string(p), nil
}
