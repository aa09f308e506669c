// Package e2e runs the real hooktray binary as users and scripts do: the CLI's exit codes and
// messages, a second instance, bad data dirs, and SIGKILL in the middle of a load.
package e2e

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

var binary, fakeCloudflared string

func TestMain(m *testing.M) {
	if len(os.Args) > 1 && os.Args[1] == measureCommand {
		os.Exit(measureChild(os.Args[2:]))
	}
	dir, err := os.MkdirTemp("", "hooktray-e2e-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	binary = filepath.Join(dir, "hooktray")
	tags, err := buildTags()
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	build := exec.Command("go", "build", "-tags", tags, "-o", binary, "..")
	build.Stdout, build.Stderr = os.Stderr, os.Stderr
	if err := build.Run(); err != nil {
		fmt.Fprintln(os.Stderr, "build hooktray:", err)
		os.Exit(1)
	}
	fakeCloudflared = filepath.Join(dir, "cloudflared")
	build = exec.Command("go", "build", "-o", fakeCloudflared, "../tunnel/internal/cloudflaredtest")
	build.Stdout, build.Stderr = os.Stderr, os.Stderr
	if err := build.Run(); err != nil {
		fmt.Fprintln(os.Stderr, "build the stand-in cloudflared:", err)
		os.Exit(1)
	}
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

// buildTags reads the build tags from the Makefile (TAGS := …), which defines them once for every
// build of Hooktray.
func buildTags() (string, error) {
	b, err := os.ReadFile("../Makefile")
	if err != nil {
		return "", fmt.Errorf("read the build tags: %w", err)
	}
	for _, line := range strings.Split(string(b), "\n") {
		if name, value, ok := strings.Cut(line, ":="); ok && strings.TrimSpace(name) == "TAGS" {
			return strings.TrimSpace(value), nil
		}
	}
	return "", errors.New("the Makefile defines no TAGS")
}

// result is a finished CLI run.
type result struct {
	code           int
	stdout, stderr string
}

func hooktray(t *testing.T, dataDir string, args ...string) result {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, binary, append([]string{"--data-dir", dataDir}, args...)...)
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	err := cmd.Run()
	code := 0
	var ee *exec.ExitError
	if errors.As(err, &ee) {
		code = ee.ExitCode()
	} else if err != nil {
		t.Fatal(err)
	}
	return result{code, out.String(), errb.String()}
}

// server is a running `hooktray serve`.
type server struct {
	t        *testing.T
	dataDir  string
	cmd      *exec.Cmd
	stderr   *syncBuffer
	receiver string
	api      string
	exited   chan struct{} // closed once the process has exited and been waited for
	code     int           // its exit code, once exited is closed
}

func startServe(t *testing.T, dataDir string, extra ...string) *server {
	t.Helper()
	s, err := tryServe(t, dataDir, extra...)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.kill() })
	return s
}

func tryServe(t *testing.T, dataDir string, extra ...string) (*server, error) {
	args := append([]string{"--data-dir", dataDir, "serve", "--listen", "127.0.0.1:0", "--api-listen", "127.0.0.1:0"}, extra...)
	cmd := exec.Command(binary, args...)
	var stderr syncBuffer
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		return nil, err
	}
	s := &server{t: t, dataDir: dataDir, cmd: cmd, stderr: &stderr, exited: make(chan struct{})}
	go func() {
		cmd.Wait()
		s.code = cmd.ProcessState.ExitCode()
		close(s.exited)
	}()
	deadline := time.Now().Add(15 * time.Second)
	for {
		var rt struct {
			PID           int
			Receiver, API string
		}
		b, err := os.ReadFile(filepath.Join(dataDir, "runtime.json"))
		if err == nil && json.Unmarshal(b, &rt) == nil && rt.PID == cmd.Process.Pid {
			s.receiver, s.api = rt.Receiver, rt.API
			return s, nil
		}
		select {
		case <-s.exited:
			return nil, fmt.Errorf("serve exited (%d): %s", s.code, stderr.String())
		case <-time.After(20 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			cmd.Process.Kill()
			return nil, fmt.Errorf("serve did not start: %s", stderr.String())
		}
	}
}

// kill ends the process with SIGKILL, as a crash would, and waits until it is gone.
func (s *server) kill() {
	s.cmd.Process.Kill()
	<-s.exited
}

// stop sends SIGTERM and waits for the exit code (-1 if it has not exited within 10 s).
func (s *server) stop() (int, time.Duration) {
	start := time.Now()
	s.cmd.Process.Signal(os.Interrupt)
	select {
	case <-s.exited:
		return s.code, time.Since(start)
	case <-time.After(10 * time.Second):
		return -1, time.Since(start)
	}
}

func (s *server) post(url, body string) (int, error) { return postJSON(url, body) }

// postJSON posts body to url and returns the answer's status.
func postJSON(url, body string) (int, error) {
	resp, err := http.Post(url, "application/json", strings.NewReader(body))
	if err != nil {
		return 0, err
	}
	io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	return resp.StatusCode, nil
}

// measureCommand makes the test binary run a command and print its peak memory: a child's peak
// counts what its parent held before exec, so it is measured from a fresh, small process.
const measureCommand = "__measure"

func measureChild(argv []string) int {
	cmd := exec.Command(argv[0], argv[1:]...)
	cmd.Stdout, cmd.Stderr = os.Stdout, os.Stderr
	if err := cmd.Run(); err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	fmt.Fprintf(os.Stderr, "\nmaxrss-kb %d\n", cmd.ProcessState.SysUsage().(*syscall.Rusage).Maxrss)
	return 0
}

// measured runs a command and returns its output, how long it took and its peak memory.
func measured(t *testing.T, argv ...string) (out string, took time.Duration, peak int64) {
	t.Helper()
	cmd := exec.Command(os.Args[0], append([]string{measureCommand}, argv...)...)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	start := time.Now()
	b, err := cmd.Output()
	took = time.Since(start)
	if err != nil {
		t.Fatalf("%v: %v %s", argv, err, stderr.String())
	}
	var kb int64
	if i := strings.LastIndex(stderr.String(), "maxrss-kb "); i >= 0 {
		fmt.Sscan(stderr.String()[i+len("maxrss-kb "):], &kb)
	}
	return string(b), took, kb << 10
}
