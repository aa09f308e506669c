//go:build unix

package deliver

import (
	"os/exec"
	"syscall"
)

// newGroup puts the program in its own process group, so that what it starts can be ended with it.
func newGroup(cmd *exec.Cmd) { cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true} }

// killGroup kills whatever is left in the program's process group.
func killGroup(cmd *exec.Cmd) { syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL) }

// askToStop sends SIGTERM to the program (or its supervisor, which then ends everything).
func askToStop(cmd *exec.Cmd) { cmd.Process.Signal(syscall.SIGTERM) }
