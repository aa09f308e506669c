//go:build unix

package deliver

import (
	"os/exec"
	"syscall"
)

// newGroup puts the program in its own process group, so a timeout ends its children too.
func newGroup(cmd *exec.Cmd) { cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true} }

func killGroup(cmd *exec.Cmd) { syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL) }
