//go:build unix

package testutil

import (
	"syscall"
	"testing"
)

// NeedFiles skips the test when this process may not open n files (sockets count): a flood test
// needs more than some systems' default of 1,024.
func NeedFiles(t testing.TB, n uint64) {
	t.Helper()
	var lim syscall.Rlimit
	if err := syscall.Getrlimit(syscall.RLIMIT_NOFILE, &lim); err == nil && lim.Cur < n {
		t.Skipf("needs %d open files; the limit here is %d (ulimit -n)", n, lim.Cur)
	}
}
