//go:build !windows

package main

// attachConsole is needed on Windows only, where the build is a GUI program.
func attachConsole() {}
