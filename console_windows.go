package main

import (
	"os"

	"golang.org/x/sys/windows"
)

// attachConsole gives a command run from a terminal its output: the Windows build is a GUI program
// (no console window when double-clicked), so `hooktray.exe serve` or `hooktray.exe events list`
// attach to the console of the shell that started them.
func attachConsole() {
	if len(os.Args) < 2 {
		return // double-clicked: the desktop app, no console
	}
	const attachParentProcess = ^uint32(0) // ATTACH_PARENT_PROCESS
	kernel32 := windows.NewLazySystemDLL("kernel32.dll")
	if r, _, _ := kernel32.NewProc("AttachConsole").Call(uintptr(attachParentProcess)); r == 0 {
		return // started without a console (a shortcut with arguments): nothing to attach to
	}
	if f, err := os.OpenFile("CONOUT$", os.O_WRONLY, 0); err == nil {
		os.Stdout, os.Stderr = f, f
	}
	if f, err := os.OpenFile("CONIN$", os.O_RDONLY, 0); err == nil {
		os.Stdin = f
	}
}
