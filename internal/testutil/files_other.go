//go:build !unix

package testutil

import "testing"

// NeedFiles is a no-op where open files are not limited by an rlimit.
func NeedFiles(testing.TB, uint64) {}
