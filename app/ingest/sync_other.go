//go:build !linux

package ingest

import "os"

// datasync flushes f to stable storage (on macOS, Go's Sync asks the drive itself: F_FULLFSYNC).
func datasync(f *os.File) error { return f.Sync() }
