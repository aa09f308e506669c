// Package proc reads a process's resource use from Linux's /proc, for the benchmarks.
package proc

import (
	"fmt"
	"os"
	"strconv"
	"strings"
	"time"
)

// CPUTime is the process's user+system time (from /proc/PID/stat, in ticks of 1/100 s).
func CPUTime(pid int) (time.Duration, error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return 0, err
	}
	fields := strings.Fields(string(b[strings.LastIndexByte(string(b), ')')+2:]))
	utime, _ := strconv.ParseInt(fields[11], 10, 64)
	stime, _ := strconv.ParseInt(fields[12], 10, 64)
	return time.Duration(utime+stime) * 10 * time.Millisecond, nil
}

// RSS is the process's resident memory in bytes.
func RSS(pid int) (int64, error) { return status(pid, "VmRSS:") }

// PeakRSS is the most resident memory the process has had, in bytes.
func PeakRSS(pid int) (int64, error) { return status(pid, "VmHWM:") }

func status(pid int, field string) (int64, error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0, err
	}
	for _, line := range strings.Split(string(b), "\n") {
		if rest, ok := strings.CutPrefix(line, field); ok {
			kb, _ := strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(rest), " kB"), 10, 64)
			return kb << 10, nil
		}
	}
	return 0, fmt.Errorf("no %s for pid %d", field, pid)
}
