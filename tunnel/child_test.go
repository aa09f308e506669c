//go:build unix

package tunnel

import (
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/hooktray/hooktray/internal/testutil"
)

// startFake runs the fake cloudflared as a quick tunnel outside any Cloudflared, as an earlier
// run would have left it.
func startFake(t *testing.T) *exec.Cmd {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	metrics := ln.Addr().String()
	ln.Close()
	cmd := exec.Command(fake, "tunnel", "--no-autoupdate", "--metrics", metrics, "--url", "http://127.0.0.1:8791")
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go cmd.Wait() // reaps it once stopped
	t.Cleanup(func() { cmd.Process.Kill() })
	return cmd
}

func waitGone(t *testing.T, pid int) time.Duration {
	t.Helper()
	start := time.Now()
	testutil.Eventually(t, fmt.Sprintf("pid %d to be gone", pid), func() bool { return !alive(pid) })
	return time.Since(start)
}

func TestLeftoverCloudflaredIsStoppedAtStart(t *testing.T) {
	dir := t.TempDir()
	left := startFake(t)
	os.WriteFile(filepath.Join(dir, pidFile), []byte(fmt.Sprintf("%d\n%s\n", left.Process.Pid, fake)), 0o600)
	if pid := StopLeftover(dir, 2*time.Second); pid != left.Process.Pid {
		t.Fatalf("StopLeftover stopped pid %d, want %d", pid, left.Process.Pid)
	}
	waitGone(t, left.Process.Pid)
	if _, err := os.Stat(filepath.Join(dir, pidFile)); err == nil {
		t.Error("the pid file was left behind")
	}
}

func TestLeftoverPidOfAnotherProgramIsLeftAlone(t *testing.T) {
	dir := t.TempDir()
	other := exec.Command("sleep", "30")
	if err := other.Start(); err != nil {
		t.Fatal(err)
	}
	defer other.Process.Kill()
	os.WriteFile(filepath.Join(dir, pidFile), []byte(strconv.Itoa(other.Process.Pid)+"\n/usr/bin/cloudflared\n"), 0o600)
	if pid := StopLeftover(dir, time.Second); pid != 0 {
		t.Fatalf("stopped pid %d, which is not cloudflared", pid)
	}
	if !alive(other.Process.Pid) {
		t.Error("another program with a reused pid was killed")
	}
}

// A wrapper script given as --cloudflared dies with Hooktray (kill -9: the kernel's death signal
// reaches only the direct child); the real cloudflared it started stays in the wrapper's group,
// and the next start stops it.
func TestAWrappersCloudflaredLeftInItsGroupIsStopped(t *testing.T) {
	dir := t.TempDir()
	wrapper := filepath.Join(dir, "cloudflared-wrapper")
	os.WriteFile(wrapper, []byte("#!/bin/sh\n\""+fake+"\" \"$@\"\necho wrapper done\n"), 0o700)
	ln, _ := net.Listen("tcp", "127.0.0.1:0")
	metrics := ln.Addr().String()
	ln.Close()
	cmd := exec.Command(wrapper, "tunnel", "--no-autoupdate", "--metrics", metrics, "--url", "http://127.0.0.1:8791")
	tie(cmd)
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	var real int
	testutil.Eventually(t, "the wrapper to start cloudflared", func() bool {
		if kids := children(cmd.Process.Pid); len(kids) == 1 {
			real = kids[0]
			return true
		}
		return false
	})
	t.Cleanup(func() { syscall.Kill(real, syscall.SIGKILL) })
	os.WriteFile(filepath.Join(dir, pidFile), []byte(fmt.Sprintf("%d\n%s\n", cmd.Process.Pid, wrapper)), 0o600)
	cmd.Process.Kill() // what Pdeathsig does when Hooktray is killed
	cmd.Wait()
	if !alive(real) {
		t.Fatal("the wrapper's cloudflared died with it: nothing to test")
	}
	if pid := StopLeftover(dir, 2*time.Second); pid != cmd.Process.Pid {
		t.Errorf("StopLeftover stopped %d, want the wrapper's group %d", pid, cmd.Process.Pid)
	}
	waitGone(t, real)
}

// children lists the pids whose parent is pid.
func children(pid int) []int {
	entries, _ := os.ReadDir("/proc")
	var out []int
	for _, e := range entries {
		child, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		b, err := os.ReadFile(filepath.Join("/proc", e.Name(), "stat"))
		if err != nil {
			continue
		}
		rest := string(b)[strings.LastIndexByte(string(b), ')')+2:]
		if f := strings.Fields(rest); len(f) > 1 && f[1] == strconv.Itoa(pid) {
			out = append(out, child)
		}
	}
	return out
}

func TestWatchdogStopsCloudflaredWhenHooktrayGoes(t *testing.T) {
	if _, err := os.Stat("/proc/self/stat"); err != nil {
		t.Skip("needs /proc to find the watchdog's child")
	}
	ln, _ := net.Listen("tcp", "127.0.0.1:0")
	metrics := ln.Addr().String()
	ln.Close()
	self, _ := os.Executable()
	wd := exec.Command(self, WatchdogCommand, fake, "tunnel", "--no-autoupdate", "--metrics", metrics, "--url", "http://127.0.0.1:8791")
	lifeline, err := wd.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := wd.Start(); err != nil {
		t.Fatal(err)
	}
	exited := make(chan error, 1)
	go func() { exited <- wd.Wait() }()
	var child int
	testutil.Eventually(t, "the watchdog to start cloudflared", func() bool {
		if c := children(wd.Process.Pid); len(c) > 0 {
			child = c[0]
		}
		return child != 0
	})
	lifeline.Close() // what the OS does when Hooktray dies
	took := waitGone(t, child)
	<-exited
	t.Logf("cloudflared gone %s after the lifeline closed", took)
}

func TestTunnelUnderTheWatchdogComesOnlineAndStops(t *testing.T) {
	self, _ := os.Executable()
	dir := t.TempDir()
	c := &Cloudflared{Watchdog: self, StateDir: dir}
	statuses, cancel, done := run(t, "", c)
	waitState(t, statuses, StateOnline)
	b, err := os.ReadFile(filepath.Join(dir, pidFile))
	if err != nil {
		t.Fatalf("no pid recorded: %v", err)
	}
	pid, _ := strconv.Atoi(strings.Fields(string(b))[0])
	if !isCloudflared(pid) {
		t.Errorf("the recorded pid %d is not recognised as cloudflared's watchdog", pid)
	}
	inner := children(pid)
	cancel()
	<-done
	for _, p := range append(inner, pid) {
		waitGone(t, p)
	}
	if _, err := os.Stat(filepath.Join(dir, pidFile)); err == nil {
		t.Error("the pid file outlived a clean stop")
	}
}
