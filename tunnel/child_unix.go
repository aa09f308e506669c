//go:build unix

package tunnel

import (
	"fmt"
	"os"
	"os/exec"
	"strings"
	"syscall"
)

// stopGroup signals pid's process group (SIGTERM, or SIGKILL when hard), and pid itself in case
// it is not a group leader.
func stopGroup(pid int, hard bool) {
	sig := syscall.SIGTERM
	if hard {
		sig = syscall.SIGKILL
	}
	syscall.Kill(-pid, sig)
	syscall.Kill(pid, sig)
}

// alive reports whether pid still runs (a zombie waiting to be reaped does not).
func alive(pid int) bool {
	if syscall.Kill(pid, 0) != nil {
		return false
	}
	if b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid)); err == nil {
		if i := strings.LastIndexByte(string(b), ')'); i > 0 && i+2 < len(b) && b[i+2] == 'Z' {
			return false
		}
	}
	return true
}

// groupAlive reports whether any process is left in the process group pgid.
func groupAlive(pgid int) bool { return syscall.Kill(-pgid, 0) == nil }

// tie makes cmd a child that dies with Hooktray: in its own process group, and on Linux killed by
// the kernel when Hooktray dies.
func tie(cmd *exec.Cmd) {
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	setDeathSignal(cmd.SysProcAttr)
}

// afterStart has nothing to do on Unix: the ties are made at fork.
func afterStart(*exec.Cmd) (release func(), err error) { return func() {}, nil }
