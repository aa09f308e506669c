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
	"testing"
	"time"
)

var binary, fakeCloudflared string

func TestMain(m *testing.M) {
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
	build = exec.Command("go", "build", "-o", fakeCloudflared, "../tunnel/internal/fakecloudflared")
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
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	s := &server{t: t, dataDir: dataDir, cmd: cmd, stderr: &stderr}
	deadline := time.Now().Add(15 * time.Second)
	for {
		var rt struct {
			PID           int
			Receiver, API string
		}
		b, err := os.ReadFile(filepath.Join(dataDir, "runtime.json"))
		if err == nil && json.Unmarshal(b, &rt) == nil && rt.PID == cmd.Process.Pid {
			s.receiver, s.api = rt.Receiver, rt.API
			go func() { <-exited }()
			return s, nil
		}
		select {
		case err := <-exited:
			return nil, fmt.Errorf("serve exited (%v): %s", err, stderr.String())
		case <-time.After(20 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			cmd.Process.Kill()
			return nil, fmt.Errorf("serve did not start: %s", stderr.String())
		}
	}
}

func (s *server) kill() {
	if s.cmd.ProcessState == nil {
		s.cmd.Process.Kill()
		for range 100 {
			if s.cmd.ProcessState != nil {
				return
			}
			time.Sleep(10 * time.Millisecond)
		}
	}
}

// stop sends SIGTERM and waits for the exit code.
func (s *server) stop() (int, time.Duration) {
	start := time.Now()
	s.cmd.Process.Signal(os.Interrupt)
	for range 1000 {
		if st := s.cmd.ProcessState; st != nil {
			return st.ExitCode(), time.Since(start)
		}
		time.Sleep(10 * time.Millisecond)
	}
	return -1, time.Since(start)
}

func (s *server) post(url, body string) (int, error) {
	resp, err := http.Post(url, "application/json", strings.NewReader(body))
	if err != nil {
		return 0, err
	}
	io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	return resp.StatusCode, nil
}
