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
	// SourceMissing: stored secrets exist but their master key was found nowhere. Nothing seals
	// or opens until the key is restored or the user enters a secret again (see Create).
	SourceMissing = "missing"
)

// ErrKeyMissing means the master key of the stored secrets is gone (deleted file, another
// machine's keychain): they cannot be read until it is put back.
var ErrKeyMissing = errors.New("the master key of the stored secrets is missing")

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
	Source string // SourceKeychain, SourceFile or SourceMissing: shown in status
	// where the key is looked for, to create one on request when it is missing
	dataDir string
	kr      Keyring
}

// Open loads the data dir's master key: from the key file if one exists (a fallback once chosen
// stays, or secrets would become unreadable), else from the keychain. When there is none it
// creates one (in the keychain, else in a 0600 key file) — unless sealed secrets exist: a new key
// would make them unreadable for good, and leave the wrong key where the user would restore the
// right one. Then the Box is returned without a key (Source SourceMissing).
func Open(dataDir string, kr Keyring, sealedExist bool) (*Box, error) {
	b := &Box{dataDir: dataDir, kr: kr}
	path := filepath.Join(dataDir, keyFile)
	if text, err := os.ReadFile(path); err == nil {
		key, err := hex.DecodeString(strings.TrimSpace(string(text)))
		if err != nil || len(key) != chacha20poly1305.KeySize {
			return nil, fmt.Errorf("the master key file %s is damaged; without it the stored secrets cannot be read", path)
		}
		b.key, b.Source = key, SourceFile
		return b, nil
	}
	if kr != nil {
		s, err := kr.Get(service, b.keychainUser())
		if err == nil {
			key, derr := base64.StdEncoding.DecodeString(s)
			if derr != nil || len(key) != chacha20poly1305.KeySize {
				return nil, errors.New("the master key in the keychain is damaged; the stored secrets cannot be read")
			}
			b.key, b.Source = key, SourceKeychain
			return b, nil
		}
	}
	if sealedExist {
		b.Source = SourceMissing
		return b, nil
	}
	return b, b.Create()
}

func (b *Box) keychainUser() string { return "master-key " + dirID(b.dataDir) }

// Where says where the master key is kept or, when it is missing, where it is looked for.
func (b *Box) Where() string {
	return fmt.Sprintf("the file %s, or the keychain item %q of service %q", filepath.Join(b.dataDir, keyFile), b.keychainUser(), service)
}

// Missing reports whether stored secrets exist without their key.
func (b *Box) Missing() bool { return b.key == nil }

// Create makes a new master key, in the keychain if there is one, else in a 0600 key file. Open
// calls it for a new data dir; after a key went missing, only an explicit action of the user
// (entering a secret again) does, knowing that the old secrets stay unreadable.
func (b *Box) Create() error {
	key := newKey()
	if b.kr != nil {
		if err := b.kr.Set(service, b.keychainUser(), base64.StdEncoding.EncodeToString(key)); err == nil {
			b.key, b.Source = key, SourceKeychain
			return nil
		}
	}
	if err := os.WriteFile(filepath.Join(b.dataDir, keyFile), []byte(hex.EncodeToString(key)+"\n"), 0o600); err != nil {
		return fmt.Errorf("write the master key file: %w", err)
	}
	b.key, b.Source = key, SourceFile
	return nil
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

// ErrWrongKey means a stored secret was sealed with another master key than the one in use.
var ErrWrongKey = errors.New("a stored secret does not decrypt with this master key")

// Seal encrypts a secret; ad binds it to where it belongs (the endpoint id), so a ciphertext
// copied to another endpoint does not open.
// The Box must have a key (see Missing).
func (b *Box) Seal(plaintext, ad string) (nonce, ciphertext []byte) {
	aead, _ := chacha20poly1305.NewX(b.key)
	nonce = make([]byte, aead.NonceSize())
	rand.Read(nonce)
	return nonce, aead.Seal(nil, nonce, []byte(plaintext), []byte(ad))
}

// Unseal decrypts what Seal produced for the same ad.
func (b *Box) Unseal(nonce, ciphertext []byte, ad string) (string, error) {
	if b.key == nil {
		return "", ErrKeyMissing
	}
	aead, _ := chacha20poly1305.NewX(b.key)
	if len(nonce) != aead.NonceSize() {
		return "", errors.New("stored secret has a bad nonce")
	}
	p, err := aead.Open(nil, nonce, ciphertext, []byte(ad))
	if err != nil {
		return "", ErrWrongKey
	}
	return string(p), nil
}
