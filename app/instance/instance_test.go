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
	if _, err := Prepare(dir); err == nil {
		t.Error("Prepare accepted a read-only dir")
	}
}

func TestPrepareMakesTheDataDirPrivate(t *testing.T) {
	if runtime.GOOS == "windows" {
		t.Skip("Windows keeps a profile's files private by ACL")
	}
	parent := t.TempDir()
	fresh := filepath.Join(parent, "new")
	if _, err := Prepare(fresh); err != nil {
		t.Fatal(err)
	}
	if st, _ := os.Stat(fresh); st.Mode().Perm() != 0o700 {
		t.Errorf("new data dir has mode %v, want 0700", st.Mode().Perm())
	}

	old := filepath.Join(parent, "old")
	os.Mkdir(old, 0o755)
	os.Chmod(old, 0o755) // whatever the umask
	for _, name := range []string{"hooktray.db", "hooktray.db-wal", "hooktray.db-shm"} {
		os.WriteFile(filepath.Join(old, name), []byte("x"), 0o644)
		os.Chmod(filepath.Join(old, name), 0o644)
	}
	tightened, err := Prepare(old)
	if err != nil {
		t.Fatal(err)
	}
	if len(tightened) != 4 {
		t.Errorf("reported %d changes, want 4: %v", len(tightened), tightened)
	}
	if st, _ := os.Stat(old); st.Mode().Perm() != 0o700 {
		t.Errorf("existing data dir left at %v", st.Mode().Perm())
	}
	for _, name := range []string{"hooktray.db", "hooktray.db-wal", "hooktray.db-shm"} {
		if st, _ := os.Stat(filepath.Join(old, name)); st.Mode().Perm() != 0o600 {
			t.Errorf("%s left at %v", name, st.Mode().Perm())
		}
	}
	if again, _ := Prepare(old); len(again) != 0 {
		t.Errorf("a private dir was changed again: %v", again)
	}
}
