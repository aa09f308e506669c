package e2e

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/hooktray/hooktray/internal/testutil"
)

func TestNewUserFlow(t *testing.T) {
	dir := t.TempDir()
	s := startServe(t, dir)

	add := hooktray(t, dir, "endpoints", "add", "--name", "demo")
	url := strings.TrimSpace(add.stdout)
	if add.code != 0 || !strings.HasPrefix(url, s.receiver+"/webhook/") {
		t.Fatalf("endpoints add: %+v", add)
	}
	if code, err := s.post(url, `{"a":1}`); err != nil || code != 200 {
		t.Fatalf("curl -d '{\"a\":1}' %s: %d %v", url, code, err)
	}
	list := hooktray(t, dir, "events", "list")
	if list.code != 0 || !strings.Contains(list.stdout, "demo") || !strings.Contains(list.stdout, "accepted") {
		t.Fatalf("events list: %+v", list)
	}
	var events struct {
		Events []struct {
			ID   int64
			Body string
		}
	}
	js := hooktray(t, dir, "events", "list", "--json")
	if json.Unmarshal([]byte(js.stdout), &events) != nil || len(events.Events) != 1 || events.Events[0].Body != `{"a":1}` {
		t.Fatalf("events list --json: %+v", js)
	}
	show := hooktray(t, dir, "events", "show", "1")
	if show.code != 0 || !strings.Contains(show.stdout, `"a": 1`) || !strings.Contains(show.stdout, "Content-Type: application/json") {
		t.Errorf("events show: %+v", show)
	}
	status := hooktray(t, dir, "status", "--json")
	var st struct {
		Receiver string
		Tunnel   struct{ State string }
	}
	if status.code != 0 || json.Unmarshal([]byte(status.stdout), &st) != nil || st.Receiver != s.receiver || st.Tunnel.State != "off" {
		t.Errorf("status --json: %+v", status)
	}
	if r := hooktray(t, dir, "endpoints", "disable", "demo"); r.code != 0 || !strings.Contains(r.stdout, "paused") {
		t.Errorf("disable: %+v", r)
	}
	if code, _ := s.post(url, `{"a":2}`); code != 503 {
		t.Errorf("paused endpoint answered %d", code)
	}
	if r := hooktray(t, dir, "events", "list", "--status", "rejected"); !strings.Contains(r.stdout, "paused") {
		t.Errorf("the rejection is not in the log: %+v", r)
	}
	if r := hooktray(t, dir, "endpoints", "rm", "no-such-endpoint"); r.code != 1 || !strings.Contains(r.stderr, "no endpoint") {
		t.Errorf("rm unknown: %+v", r)
	}

	// tail prints what arrives while it runs.
	tail := startTail(t, dir)
	hooktray(t, dir, "endpoints", "enable", "demo")
	s.post(url, `{"tail":"me"}`)
	if !tail.waitFor("demo", 10*time.Second) {
		t.Errorf("events tail did not show the new event: %s", tail.out.String())
	}

	code, took := s.stop()
	if code != 0 || took > 5*time.Second {
		t.Errorf("SIGTERM: exit %d after %v", code, took)
	}
	if _, err := os.Stat(filepath.Join(dir, "runtime.json")); !os.IsNotExist(err) {
		t.Error("runtime.json left after a clean exit")
	}
	if r := hooktray(t, dir, "events", "list"); r.code != 2 || !strings.Contains(r.stderr, "hooktray serve") {
		t.Errorf("with no instance: %+v", r)
	}
	// Restarted, the history is all there.
	startServe(t, dir)
	if r := hooktray(t, dir, "events", "list", "--json"); json.Unmarshal([]byte(r.stdout), &events) != nil || len(events.Events) != 3 {
		t.Errorf("after restart: %s", r.stdout)
	}
}

type tailProc struct {
	out, errOut *syncBuffer
}

func startTail(t *testing.T, dir string) *tailProc {
	p := &tailProc{out: &syncBuffer{}, errOut: &syncBuffer{}}
	cmd := execCommand(binary, "--data-dir", dir, "events", "tail", "-n", "0")
	cmd.Stdout, cmd.Stderr = p.out, p.errOut
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cmd.Process.Kill(); cmd.Wait() })
	// tail says so once its live stream is open, and so subscribed.
	testutil.Eventually(t, "tail to wait for webhooks", func() bool { return strings.Contains(p.errOut.String(), "Waiting for webhooks") })
	return p
}

func (p *tailProc) waitFor(s string, d time.Duration) bool {
	for deadline := time.Now().Add(d); time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) {
		if strings.Contains(p.out.String(), s) {
			return true
		}
	}
	return false
}

func TestBadUsageExits2(t *testing.T) {
	dir := t.TempDir()
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"--bogus"}, "flag provided but not defined"},
		{[]string{"frobnicate"}, `unknown command "frobnicate"`},
		{[]string{"serve", "--listen"}, "flag needs an argument"},
		{[]string{"serve", "--tunnel", "warp"}, "unknown tunnel mode"},
		{[]string{"serve", "--public-url", "ftp://x"}, "https://"},
		{[]string{"serve", "--keep-days", "-1"}, "negative"},
		{[]string{"serve", "--api-listen", "0.0.0.0:0"}, "loopback only"},
		{[]string{"serve", "--api-listen", "[::]:8792"}, "loopback only"},
		{[]string{"endpoints"}, "expected list"},
		{[]string{"endpoints", "add"}, "--name is required"},
		{[]string{"events", "show"}, "expected one event id"},
		{[]string{"events", "list", "--limit", "x"}, "invalid value"},
		{[]string{"status"}, "no Hooktray is running"},
	} {
		t.Run(strings.Join(tc.args, " "), func(t *testing.T) {
			r := hooktray(t, dir, tc.args...)
			if r.code != 2 || !strings.Contains(r.stderr, tc.want) {
				t.Errorf("exit %d, stderr %q; want 2 and %q", r.code, r.stderr, tc.want)
			}
		})
	}
	if r := hooktray(t, dir, "--bogus"); strings.Contains(r.stderr, "hooktray: hooktray:") {
		t.Errorf("the program's name is said twice: %q", r.stderr)
	}
	if r := hooktray(t, dir, "--help"); r.code != 0 || !strings.Contains(r.stdout, "hooktray serve") {
		t.Errorf("--help: %+v", r)
	}
}

func TestSecondServeOnTheSameDataDirFails(t *testing.T) {
	dir := t.TempDir()
	first := startServe(t, dir)
	_, err := tryServe(t, dir)
	if err == nil || !strings.Contains(err.Error(), "already running") {
		t.Fatalf("second serve: %v", err)
	}
	if r := hooktray(t, dir, "status"); r.code != 0 || !strings.Contains(r.stdout, first.receiver) {
		t.Errorf("the first instance was disturbed: %+v", r)
	}
}

func TestPortInUse(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	_, err = tryServe(t, t.TempDir(), "--listen", ln.Addr().String())
	if err == nil || !strings.Contains(err.Error(), "already in use") {
		t.Fatalf("serve on a used port: %v", err)
	}
}

func TestUnusableDataDirs(t *testing.T) {
	t.Run("a file where the data dir should be", func(t *testing.T) {
		path := filepath.Join(t.TempDir(), "not-a-dir")
		os.WriteFile(path, []byte("x"), 0o600)
		_, err := tryServe(t, path)
		if err == nil || !strings.Contains(err.Error(), "data dir") {
			t.Fatalf("serve: %v", err)
		}
	})
	t.Run("a read-only data dir", func(t *testing.T) {
		if os.Geteuid() == 0 {
			t.Skip("root writes to read-only dirs; the case above covers an unusable dir")
		}
		dir := t.TempDir()
		os.Chmod(dir, 0o500)
		defer os.Chmod(dir, 0o700)
		_, err := tryServe(t, dir)
		if err == nil || !strings.Contains(err.Error(), "not writable") {
			t.Fatalf("serve: %v", err)
		}
	})
	t.Run("a corrupt database is left as it is", func(t *testing.T) {
		dir := t.TempDir()
		garbage := bytes.Repeat([]byte("not sqlite "), 1000)
		os.WriteFile(filepath.Join(dir, "hooktray.db"), garbage, 0o600)
		_, err := tryServe(t, dir)
		if err == nil || !strings.Contains(err.Error(), "not a Hooktray database") || !strings.Contains(err.Error(), "move it away") {
			t.Fatalf("serve: %v", err)
		}
		after, _ := os.ReadFile(filepath.Join(dir, "hooktray.db"))
		if !bytes.Equal(after, garbage) {
			t.Error("the corrupt database was modified")
		}
	})
}

// TestSecondLaunchShowsTheRunningWindow runs the desktop app under Xvfb and launches it again:
// the second launch asks the first to show its window and exits 0.
func TestSecondLaunchShowsTheRunningWindow(t *testing.T) {
	display := startXvfb(t)
	dir := t.TempDir()
	first := execCommand(binary, "--data-dir", dir, "--listen", "127.0.0.1:0", "--api-listen", "127.0.0.1:0", "--tunnel", "off")
	first.Env = append(os.Environ(), "DISPLAY="+display)
	first.WaitDelay = 5 * time.Second
	var out syncBuffer
	first.Stdout, first.Stderr = &out, &out
	if err := first.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() { first.Process.Signal(os.Interrupt); first.Wait() }()
	deadline := time.Now().Add(30 * time.Second)
	for {
		if _, err := os.Stat(filepath.Join(dir, "runtime.json")); err == nil {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the desktop app did not start: %s", out.String())
		}
		time.Sleep(50 * time.Millisecond)
	}
	r := hooktray(t, dir)
	if r.code != 0 || !strings.Contains(r.stderr, "window was brought to the front") {
		t.Fatalf("second launch: %+v", r)
	}
	if r := hooktray(t, dir, "status"); r.code != 0 {
		t.Errorf("status after the second launch: %+v", r)
	}
	first.Process.Signal(os.Interrupt)
	first.Wait()
	if code := first.ProcessState.ExitCode(); code != 0 {
		t.Errorf("the desktop app exited %d on SIGINT: %s", code, out.String())
	}
}

// startXvfb starts a virtual X display for the test and returns its name.
func startXvfb(t *testing.T) string {
	t.Helper()
	xvfb, err := lookPath("Xvfb")
	if err != nil {
		t.Skip("Xvfb is not installed (make test installs it)")
	}
	for n := 90 + os.Getpid()%50; n < 200; n++ {
		if _, err := os.Stat(fmt.Sprintf("/tmp/.X11-unix/X%d", n)); err == nil {
			continue
		}
		display := fmt.Sprintf(":%d", n)
		cmd := execCommand(xvfb, display, "-screen", "0", "1280x800x24", "-nolisten", "tcp")
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { cmd.Process.Kill(); cmd.Wait() })
		for range 100 {
			if _, err := os.Stat(fmt.Sprintf("/tmp/.X11-unix/X%d", n)); err == nil {
				return display
			}
			time.Sleep(50 * time.Millisecond)
		}
		t.Fatalf("Xvfb %s did not start", display)
	}
	t.Skip("no free X display number")
	return ""
}

// TestHeadlessBuildHasNoFyne checks the split the architecture promises: `-tags nogui` builds the
// whole product (serve, CLI, API) without importing Fyne.
func TestHeadlessBuildHasNoFyne(t *testing.T) {
	out, err := execCommand("go", "list", "-deps", "-tags", "sqlite_fts5 nogui", "..").CombinedOutput()
	if err != nil {
		t.Fatalf("go list: %v\n%s", err, out)
	}
	if strings.Contains(string(out), "fyne.io/") {
		t.Error("the headless build imports Fyne")
	}
	if !strings.Contains(string(out), "github.com/hooktray/hooktray/app") {
		t.Error("go list did not list the core: the check is not looking at the right package")
	}
}
