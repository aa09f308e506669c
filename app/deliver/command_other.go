//go:build !unix

package deliver

import "os/exec"

func newGroup(*exec.Cmd) {}

// killGroup ends the program (Windows has no process groups to signal; its children may stay).
func killGroup(cmd *exec.Cmd) { cmd.Process.Kill() }

func askToStop(cmd *exec.Cmd) { cmd.Process.Kill() }
