package deliver

import (
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"

	"golang.org/x/sys/unix"
)

// becomeSubreaper makes orphaned descendants this process's children, and this process end with
// Hooktray: the kernel sends it SIGTERM when its parent dies.
func becomeSubreaper() {
	unix.Prctl(unix.PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0)
	unix.Prctl(unix.PR_SET_PDEATHSIG, uintptr(syscall.SIGTERM), 0, 0, 0)
}

// endDescendants kills and reaps every child left, until none is: each one killed may have
// children of its own, which the kernel hands to this subreaper in turn.
func endDescendants() {
	for {
		kids := children(os.Getpid())
		for _, pid := range kids {
			syscall.Kill(pid, syscall.SIGKILL)
		}
		var ws syscall.WaitStatus
		if _, err := syscall.Wait4(-1, &ws, 0, nil); err == syscall.ECHILD && len(kids) == 0 {
			return
		}
	}
}

// children lists the processes whose parent is pid.
func children(pid int) []int {
	entries, _ := os.ReadDir("/proc")
	parent := strconv.Itoa(pid)
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
		// pid (comm) state ppid …: comm may hold spaces and parentheses, so read after the last ')'.
		rest := string(b)[strings.LastIndexByte(string(b), ')')+1:]
		if f := strings.Fields(rest); len(f) > 1 && f[1] == parent {
			out = append(out, child)
		}
	}
	return out
}
