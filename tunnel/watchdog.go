package tunnel

import (
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"os/signal"
	"syscall"
	"time"
)

// WatchdogCommand is the hidden first argument that makes Hooktray's binary the watchdog of one
// cloudflared, where the OS cannot tie a child to its parent (macOS): Hooktray runs
// `hooktray __cloudflared-watchdog cloudflared ARGS…` with a pipe on its standard input, and the
// watchdog stops cloudflared when the pipe closes, which the OS does when Hooktray dies, however
// it dies.
const WatchdogCommand = "__cloudflared-watchdog"

// NeedsWatchdog reports whether cloudflared should run under the watchdog on this OS.
func NeedsWatchdog() bool { return needsWatchdog }

// RunWatchdog is the watchdog: it runs argv in its own process group, passes its output through,
// and stops it when standard input closes or a SIGTERM/SIGINT arrives. It returns argv's exit code.
func RunWatchdog(argv []string) int {
	if len(argv) == 0 {
		fmt.Fprintln(os.Stderr, "watchdog: nothing to run")
		return 2
	}
	cmd := exec.Command(argv[0], argv[1:]...)
	cmd.Stdout, cmd.Stderr = os.Stdout, os.Stderr // cloudflared's log goes on to Hooktray
	sigs := make(chan os.Signal, 2)
	signal.Notify(sigs, syscall.SIGTERM, os.Interrupt)
	if err := cmd.Start(); err != nil {
		fmt.Fprintf(os.Stderr, "watchdog: %v\n", err)
		return 1
	}
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	parentGone := make(chan struct{})
	go func() {
		io.Copy(io.Discard, os.Stdin)
		close(parentGone)
	}()
	stop := func() {
		cmd.Process.Signal(syscall.SIGTERM)
		select {
		case <-exited:
		case <-time.After(3 * time.Second):
			cmd.Process.Kill()
			<-exited
		}
	}
	select {
	case err := <-exited:
		var ee *exec.ExitError
		if errors.As(err, &ee) {
			return ee.ExitCode()
		}
		return 0
	case <-parentGone:
		stop()
	case <-sigs:
		stop()
	}
	return 0
}
