//go:build linux && cgo

package ui

// #include <malloc.h>
import "C"

// trimNative hands the C heap's free memory back to the system. The GL driver frees what it held
// for a closed window, but glibc keeps freed memory in its arenas until asked.
func trimNative() { C.malloc_trim(0) }
