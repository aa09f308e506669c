//go:build !linux || !cgo

package ui

// trimNative has nothing to do where the C allocator returns memory by itself.
func trimNative() {}
