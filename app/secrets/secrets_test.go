package secrets

import (
	"bytes"
	"context"
	"errors"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/zalando/go-keyring"

	"github.com/hooktray/hooktray/hook"
	"github.com/hooktray/hooktray/storage"
)

// memKeyring is a keychain in memory; broken makes it fail as a headless Linux without a
// Secret Service does.
type memKeyring struct {
	items  map[string]string
	broken bool
}

func (m *memKeyring) Get(s, u string) (string, error) {
	if m.broken {
		return "", errors.New("dbus: no session bus")
	}
	v, ok := m.items[s+"/"+u]
	if !ok {
		return "", keyring.ErrNotFound
	}
	return v, nil
}

func (m *memKeyring) Set(s, u, v string) error {
	if m.broken {
		return errors.New("dbus: no session bus")
	}
	m.items[s+"/"+u] = v
	return nil
}

func TestMasterKeyLivesInTheKeychainWhenThereIsOne(t *testing.T) {
	dir := t.TempDir()
	kr := &memKeyring{items: map[string]string{}}
	b1, err := Open(dir, kr, false)
	if err != nil || b1.Source != SourceKeychain {
		t.Fatalf("Open = %+v, %v", b1, err)
	}
	if _, err := os.Stat(filepath.Join(dir, keyFile)); !errors.Is(err, os.ErrNotExist) {
		t.Error("a key file was written although the keychain works")
	}
	b2, _ := Open(dir, kr, false)
	nonce, ct := b1.Seal("s3cret", "ep1")
	if got, err := b2.Unseal(nonce, ct, "ep1"); err != nil || got != "s3cret" {
		t.Errorf("reopened box: %q %v", got, err)
	}
	if _, err := b2.Unseal(nonce, ct, "ep2"); err == nil {
		t.Error("a secret opened under another endpoint's id")
	}
}

func TestWithoutAKeychainTheKeyFallsBackToA0600File(t *testing.T) {
	dir := t.TempDir()
	kr := &memKeyring{broken: true}
	b, err := Open(dir, kr, false)
	if err != nil || b.Source != SourceFile {
		t.Fatalf("Open = %+v, %v", b, err)
	}
	st, err := os.Stat(filepath.Join(dir, keyFile))
	if err != nil || st.Mode().Perm() != 0o600 {
		t.Fatalf("key file: %v %v", st, err)
	}
	// The keychain coming back later does not strand the secrets sealed with the file's key.
	kr.broken, kr.items = false, map[string]string{}
	b2, _ := Open(dir, kr, false)
	nonce, ct := b.Seal("x", "ep")
	if got, err := b2.Unseal(nonce, ct, "ep"); err != nil || got != "x" || b2.Source != SourceFile {
		t.Errorf("after the keychain appeared: %q %v %s", got, err, b2.Source)
	}
	os.WriteFile(filepath.Join(dir, keyFile), []byte("garbage"), 0o600)
	if _, err := Open(dir, kr, false); err == nil {
		t.Error("a damaged key file was accepted")
	}
}

func TestTheDatabaseNeverHoldsASecretInClear(t *testing.T) {
	dir := t.TempDir()
	box, err := Open(dir, &memKeyring{broken: true}, false)
	if err != nil {
		t.Fatal(err)
	}
	s, err := storage.Open(context.Background(), filepath.Join(dir, "hooktray.db"))
	if err != nil {
		t.Fatal(err)
	}
	ep := hook.NewEndpoint("secretive")
	s.CreateEndpoint(context.Background(), &ep)
	secret := "whsec_THIS-MUST-NEVER-BE-IN-THE-FILE-0123456789"
	nonce, ct := box.Seal(secret, ep.ID)
	sec := &hook.SealedSecret{EndpointID: ep.ID, Purpose: "signing", Nonce: nonce, Ciphertext: ct}
	if err := s.AddSecret(context.Background(), sec); err != nil {
		t.Fatal(err)
	}
	got, err := s.Secrets(context.Background(), ep.ID, "signing", time.Now())
	if err != nil || len(got) != 1 {
		t.Fatalf("Secrets = %v, %v", got, err)
	}
	if plain, err := box.Unseal(got[0].Nonce, got[0].Ciphertext, ep.ID); err != nil || plain != secret {
		t.Errorf("round trip %q %v", plain, err)
	}
	// Rotation grace: the old secret stays valid until its expiry, then goes.
	if err := s.ExpireSecrets(context.Background(), ep.ID, "signing", time.Now().Add(time.Hour)); err != nil {
		t.Fatal(err)
	}
	if got, _ := s.Secrets(context.Background(), ep.ID, "signing", time.Now().Add(2*time.Hour)); len(got) != 0 {
		t.Error("an expired secret is still offered")
	}
	if n, _ := s.DeleteExpiredSecrets(context.Background(), time.Now().Add(2*time.Hour)); n != 1 {
		t.Errorf("deleted %d expired secrets", n)
	}
	s.Close()
	for _, name := range []string{"hooktray.db", "hooktray.db-wal"} {
		raw, _ := os.ReadFile(filepath.Join(dir, name))
		if bytes.Contains(raw, []byte(secret)) || bytes.Contains(raw, []byte("THIS-MUST-NEVER")) {
			t.Errorf("%s contains the secret in clear", name)
		}
	}
}
