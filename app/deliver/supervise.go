package deliver

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"os/signal"
	"syscall"
)

// SuperviseCommand is the hidden first argument that makes Hooktray's binary the supervisor of one
// program target's run: `hooktray __run-target PROGRAM ARGS…`. The engine runs programs through
// it when Options.Supervisor says so.
const SuperviseCommand = "__run-target"

// Supervise runs argv with this process's standard input and output, and returns its exit code
// once it has ended everything argv started: its process group, and on Linux every descendant,
// since the supervisor is their subreaper (a child that called setsid, or a daemon that forked
// twice, is reparented to it rather than to init, and killed). A SIGTERM (the engine's timeout,
// or Hooktray dying) ends the program the same way.
func Supervise(argv []string) int {
	if len(argv) == 0 {
		fmt.Fprintln(os.Stderr, "hooktray: nothing to run")
		return 2
	}
	becomeSubreaper()
	stop := make(chan os.Signal, 1)
	signal.Notify(stop, syscall.SIGTERM, os.Interrupt)
	cmd := exec.Command(argv[0], argv[1:]...)
	cmd.Stdin, cmd.Stdout, cmd.Stderr = os.Stdin, os.Stdout, os.Stderr
	newGroup(cmd)
	if err := cmd.Start(); err != nil {
		fmt.Fprintf(os.Stderr, "hooktray: cannot run %s: %v\n", argv[0], err)
		return 127
	}
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	var err error
	code := 0
	select {
	case err = <-exited:
	case <-stop:
		killGroup(cmd)
		err = <-exited
		code = 128 + int(syscall.SIGTERM)
	}
	killGroup(cmd)
	endDescendants()
	var exit *exec.ExitError
	switch {
	case code != 0:
	case errors.As(err, &exit):
		code = exit.ExitCode()
		if code < 0 { // killed by a signal
			code = 128 + int(syscall.SIGKILL)
		}
	case err != nil:
		code = 1
	}
	return code
}
