// Package instance keeps one Hooktray per data dir and tells other processes (the CLI, a second
// launch) where the running one listens: the lock, runtime.json and the admin API token.
package instance

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"time"
)

// File names inside the data dir.
const (
	LockFile    = "hooktray.lock"
	RuntimeFile = "runtime.json"
	TokenFile   = "api-token"
)

// Runtime is runtime.json: where a running instance listens.
type Runtime struct {
	PID       int     `json:"pid"`
	Receiver  string  `json:"receiver"`
	API       string  `json:"api"`
	PublicURL *string `json:"public_url"`
	Version   string  `json:"version"`
}

// ErrRunning means another process holds the data dir. Err.PID is its pid when known.
type ErrRunning struct {
	Dir string
	PID int
}

func (e *ErrRunning) Error() string {
	if e.PID > 0 {
		return fmt.Sprintf("another Hooktray (pid %d) is already running on data dir %s", e.PID, e.Dir)
	}
	return fmt.Sprintf("another Hooktray is already running on data dir %s", e.Dir)
}

// Prepare creates the data dir (mode 0700) if needed and checks that it is writable, so the user
// learns about a read-only dir in one sentence rather than from SQLite. The history and the keys
// are private: an existing dir that others can read is tightened to 0700 and its files to 0600,
// and tightened reports what it changed, for the log.
func Prepare(dir string) (tightened []string, err error) {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("create data dir: %w", err)
	}
	if tightened, err = tighten(dir); err != nil {
		return nil, err
	}
	probe, err := os.CreateTemp(dir, ".write-test-*")
	if err != nil {
		return nil, fmt.Errorf("data dir %s is not writable: %w", dir, unwrapPath(err))
	}
	name := probe.Name()
	probe.Close()
	os.Remove(name)
	return tightened, nil
}

// tighten takes group and other permissions off dir and everything directly in it. Folders inside
// (such as the downloaded cloudflared's) keep their owner's permissions, executables included.
func tighten(dir string) ([]string, error) {
	if runtime.GOOS == "windows" {
		return nil, nil // permissions there are ACLs, private to the user's profile by default
	}
	var changed []string
	chmod := func(path string, mode os.FileMode) error {
		if mode&0o077 == 0 {
			return nil
		}
		if err := os.Chmod(path, mode&^0o077); err != nil {
			return fmt.Errorf("make %s private: %w", path, err)
		}
		changed = append(changed, fmt.Sprintf("%s (%#o → %#o)", path, mode.Perm(), (mode&^0o077).Perm()))
		return nil
	}
	st, err := os.Stat(dir)
	if err != nil {
		return nil, fmt.Errorf("data dir: %w", err)
	}
	if err := chmod(dir, st.Mode().Perm()); err != nil {
		return nil, err
	}
	entries, err := os.ReadDir(dir)
	if err != nil {
		return nil, fmt.Errorf("data dir: %w", err)
	}
	for _, e := range entries {
		info, err := e.Info()
		if err != nil || !(info.Mode().IsRegular() || info.IsDir()) {
			continue
		}
		if err := chmod(filepath.Join(dir, e.Name()), info.Mode().Perm()); err != nil {
			return nil, err
		}
	}
	return changed, nil
}

func unwrapPath(err error) error {
	var pe *os.PathError
	if errors.As(err, &pe) {
		return pe.Err
	}
	return err
}

// Lock is the exclusive hold on a data dir. The operating system releases it if the process dies.
type Lock struct {
	f *os.File
}

// Acquire takes the data dir's lock, or returns *ErrRunning if another process holds it.
func Acquire(dir string) (*Lock, error) {
	f, err := os.OpenFile(filepath.Join(dir, LockFile), os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return nil, fmt.Errorf("open lock file: %w", err)
	}
	if err := lockFile(f); err != nil {
		f.Close()
		if errors.Is(err, errLocked) {
			e := &ErrRunning{Dir: dir}
			if rt, err := ReadRuntime(dir); err == nil {
				e.PID = rt.PID
			}
			return nil, e
		}
		return nil, fmt.Errorf("lock data dir: %w", err)
	}
	return &Lock{f: f}, nil
}

// Release gives the data dir up.
func (l *Lock) Release() error {
	if l == nil || l.f == nil {
		return nil
	}
	err := unlockFile(l.f)
	l.f.Close()
	l.f = nil
	return err
}

var errLocked = errors.New("locked by another process")

// WriteRuntime writes runtime.json atomically with mode 0600.
func WriteRuntime(dir string, rt Runtime) error {
	b, err := json.MarshalIndent(rt, "", "  ")
	if err != nil {
		return fmt.Errorf("encode runtime.json: %w", err)
	}
	return writeFileAtomic(filepath.Join(dir, RuntimeFile), append(b, '\n'))
}

// RemoveRuntime removes runtime.json; a missing file is not an error.
func RemoveRuntime(dir string) error {
	err := os.Remove(filepath.Join(dir, RuntimeFile))
	if errors.Is(err, os.ErrNotExist) {
		return nil
	}
	return err
}

// ErrNotRunning means no instance runs on the data dir (no runtime.json).
var ErrNotRunning = errors.New("no Hooktray instance is running")

// ReadRuntime reads runtime.json; ErrNotRunning when there is none.
func ReadRuntime(dir string) (Runtime, error) {
	b, err := os.ReadFile(filepath.Join(dir, RuntimeFile))
	if errors.Is(err, os.ErrNotExist) {
		return Runtime{}, ErrNotRunning
	}
	if err != nil {
		return Runtime{}, fmt.Errorf("read runtime.json: %w", err)
	}
	var rt Runtime
	if err := json.Unmarshal(b, &rt); err != nil {
		return Runtime{}, fmt.Errorf("runtime.json in %s is damaged (%v); it is rewritten when Hooktray starts", dir, err)
	}
	return rt, nil
}

// LoadOrCreateToken returns the admin API token, creating a random one (mode 0600) on first use.
func LoadOrCreateToken(dir string) (string, error) {
	path := filepath.Join(dir, TokenFile)
	if b, err := os.ReadFile(path); err == nil {
		if tok := strings.TrimSpace(string(b)); len(tok) >= 32 {
			return tok, nil
		}
	} else if !errors.Is(err, os.ErrNotExist) {
		return "", fmt.Errorf("read api token: %w", err)
	}
	var raw [32]byte
	if _, err := rand.Read(raw[:]); err != nil {
		return "", fmt.Errorf("generate api token: %w", err)
	}
	tok := hex.EncodeToString(raw[:])
	if err := writeFileAtomic(path, []byte(tok+"\n")); err != nil {
		return "", fmt.Errorf("write api token: %w", err)
	}
	return tok, nil
}

// ReadToken returns the admin API token for a client; it never creates one.
func ReadToken(dir string) (string, error) {
	b, err := os.ReadFile(filepath.Join(dir, TokenFile))
	if err != nil {
		return "", fmt.Errorf("read api token: %w", err)
	}
	return strings.TrimSpace(string(b)), nil
}

func writeFileAtomic(path string, data []byte) error {
	tmp, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".*")
	if err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	defer os.Remove(tmp.Name())
	if err := tmp.Chmod(0o600); err != nil {
		tmp.Close()
		return fmt.Errorf("write %s: %w", path, err)
	}
	if _, err := tmp.Write(data); err != nil {
		tmp.Close()
		return fmt.Errorf("write %s: %w", path, err)
	}
	if err := tmp.Sync(); err != nil {
		tmp.Close()
		return fmt.Errorf("write %s: %w", path, err)
	}
	if err := tmp.Close(); err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	if err := os.Rename(tmp.Name(), path); err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	return nil
}

// ShutdownGrace is how long a stopping instance lets requests in flight finish: SIGINT or SIGTERM
// ends Hooktray within 5 s, this and the final flush included.
const ShutdownGrace = 4 * time.Second

// HandOver is a second launch on a data dir that an instance already runs on: it asks that one to
// show its window, and returns what to tell the user.
func HandOver(ctx context.Context, dir string) string {
	if err := AskToShow(ctx, dir); err != nil {
		return fmt.Sprintf("Hooktray is already running on %s, and it could not be asked to show its window (%v).", dir, err)
	}
	return "Hooktray is already running; its window was brought to the front."
}

// AskToShow asks the instance running on dir to show its window (a second launch of the desktop
// app does this, then exits).
func AskToShow(ctx context.Context, dir string) error {
	rt, err := ReadRuntime(dir)
	if err != nil {
		return err
	}
	tok, err := ReadToken(dir)
	if err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, strings.TrimRight(rt.API, "/")+"/api/v1/window/show", nil)
	if err != nil {
		return err
	}
	req.Header.Set("Authorization", "Bearer "+tok)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return fmt.Errorf("reach the running instance: %w", err)
	}
	defer resp.Body.Close()
	if resp.StatusCode/100 != 2 {
		var e struct{ Error string }
		json.NewDecoder(resp.Body).Decode(&e)
		if e.Error == "" {
			e.Error = resp.Status
		}
		return errors.New(e.Error)
	}
	return nil
}
