package instance

import (
	"errors"
	"os"
	"path/filepath"
	"runtime"
	"testing"
)

func TestLockIsExclusive(t *testing.T) {
	dir := t.TempDir()
	l, err := Acquire(dir)
	if err != nil {
		t.Fatal(err)
	}
	WriteRuntime(dir, Runtime{PID: 4242, API: "http://127.0.0.1:1"})
	_, err = Acquire(dir)
	var running *ErrRunning
	if !errors.As(err, &running) || running.PID != 4242 {
		t.Fatalf("second Acquire = %v", err)
	}
	l.Release()
	l2, err := Acquire(dir)
	if err != nil {
		t.Fatalf("Acquire after Release: %v", err)
	}
	l2.Release()
}

func TestRuntimeAndTokenFiles(t *testing.T) {
	dir := t.TempDir()
	if _, err := ReadRuntime(dir); !errors.Is(err, ErrNotRunning) {
		t.Errorf("ReadRuntime without a file = %v", err)
	}
	u := "https://example.com"
	if err := WriteRuntime(dir, Runtime{PID: 1, Receiver: "r", API: "a", PublicURL: &u, Version: "v"}); err != nil {
		t.Fatal(err)
	}
	rt, err := ReadRuntime(dir)
	if err != nil || rt.PID != 1 || *rt.PublicURL != u {
		t.Errorf("ReadRuntime = %+v, %v", rt, err)
	}
	tok, err := LoadOrCreateToken(dir)
	if err != nil || len(tok) != 64 {
		t.Fatalf("token %q, %v", tok, err)
	}
	again, _ := LoadOrCreateToken(dir)
	if again != tok {
		t.Error("token changed between starts")
	}
	if runtime.GOOS != "windows" {
		for _, name := range []string{RuntimeFile, TokenFile} {
			st, _ := os.Stat(filepath.Join(dir, name))
			if st.Mode().Perm() != 0o600 {
				t.Errorf("%s has mode %v, want 0600", name, st.Mode().Perm())
			}
		}
	}
	os.WriteFile(filepath.Join(dir, RuntimeFile), []byte("{broken"), 0o600)
	if _, err := ReadRuntime(dir); err == nil {
		t.Error("a damaged runtime.json was read")
	}
}

func TestPrepareRefusesAReadOnlyDir(t *testing.T) {
	if os.Geteuid() == 0 {
		t.Skip("root can write anywhere; the end-to-end test covers this with a file in the way")
	}
	dir := t.TempDir()
	os.Chmod(dir, 0o500)
	defer os.Chmod(dir, 0o700)
	if err := Prepare(dir); err == nil {
		t.Error("Prepare accepted a read-only dir")
	}
}
