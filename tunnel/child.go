package tunnel

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"time"
)

// cloudflared never outlives Hooktray. Three guards, because no single one covers every OS and
// every way of dying:
//   - the child is tied to Hooktray by the OS where it can be: on Linux the kernel kills it when
//     Hooktray dies (Pdeathsig); on Windows it runs in a job object that is killed when
//     Hooktray's handle to it closes; elsewhere (macOS) a watchdog (Hooktray's own binary, see
//     Watchdog) sits between them and stops it when the pipe from Hooktray closes;
//   - it runs in its own process group, and stopping stops the whole group;
//   - its pid is recorded in the state dir, so a cloudflared left over from a crash (of Hooktray
//     and of the guards above) is stopped before a new one starts.

// pidFile records the running cloudflared (or its watchdog): pid, then executable path.
const pidFile = "cloudflared.pid"

func (c *Cloudflared) recordChild(p *os.Process, exe string) {
	if c.StateDir == "" {
		return
	}
	os.WriteFile(filepath.Join(c.StateDir, pidFile), []byte(fmt.Sprintf("%d\n%s\n", p.Pid, exe)), 0o600)
}

func (c *Cloudflared) forgetChild() {
	if c.StateDir != "" {
		os.Remove(filepath.Join(c.StateDir, pidFile))
	}
}

// StopLeftover stops a cloudflared that an earlier run recorded in stateDir and that is still
// running because that run did not end cleanly; it reports the pid it stopped (0: none). It makes
// sure the pid still belongs to a cloudflared (or a watchdog of one) before signalling it: pids
// are reused. Hooktray calls it at start, whether or not it starts a tunnel.
func StopLeftover(stateDir string, grace time.Duration) int {
	if stateDir == "" {
		return 0
	}
	path := filepath.Join(stateDir, pidFile)
	b, err := os.ReadFile(path)
	if err != nil {
		return 0
	}
	defer os.Remove(path)
	fields := strings.Fields(string(b))
	if len(fields) < 1 {
		return 0
	}
	pid, err := strconv.Atoi(fields[0])
	if err != nil || pid <= 1 || pid == os.Getpid() {
		return 0
	}
	running := func() bool { return alive(pid) || groupAlive(pid) }
	switch {
	case alive(pid) && isCloudflared(pid):
	case !alive(pid) && groupAlive(pid):
		// The recorded process is gone but its group is not: a wrapper script (--cloudflared
		// pointing at one) died with Hooktray and left the real cloudflared running in the group
		// it made. A group's id is not given to a new process while the group exists, so the
		// group is still the one recorded.
	default:
		return 0
	}
	stopGroup(pid, false)
	deadline := time.Now().Add(grace)
	for running() && time.Now().Before(deadline) {
		time.Sleep(20 * time.Millisecond)
	}
	if running() {
		stopGroup(pid, true)
	}
	return pid
}

// isCloudflared reports whether pid runs a cloudflared binary or Hooktray's watchdog of one.
func isCloudflared(pid int) bool {
	cmdline, err := commandLine(pid)
	if err != nil || len(cmdline) == 0 {
		return false
	}
	name := strings.ToLower(filepath.Base(cmdline[0]))
	if strings.Contains(name, "cloudflared") {
		return true
	}
	return len(cmdline) > 2 && cmdline[1] == WatchdogCommand && strings.Contains(strings.ToLower(filepath.Base(cmdline[2])), "cloudflared")
}

// commandLine returns pid's argv, from /proc where there is one, else from ps.
func commandLine(pid int) ([]string, error) {
	if b, err := os.ReadFile(fmt.Sprintf("/proc/%d/cmdline", pid)); err == nil {
		return strings.Split(strings.TrimRight(string(b), "\x00"), "\x00"), nil
	}
	out, err := exec.Command("ps", "-o", "args=", "-p", strconv.Itoa(pid)).Output()
	if err != nil {
		return nil, errors.New("no such process")
	}
	return strings.Fields(string(out)), nil
}
