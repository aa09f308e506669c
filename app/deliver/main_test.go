package deliver

import (
	"os"
	"testing"
)

// TestMain lets the test binary be the program supervisor, as Hooktray's binary is: the engines
// of these tests run programs under it (rig's Supervisor).
func TestMain(m *testing.M) {
	if len(os.Args) > 1 && os.Args[1] == SuperviseCommand {
		os.Exit(Supervise(os.Args[2:]))
	}
	os.Exit(m.Run())
}

// supervisor is the command line that runs a program under this test binary's supervisor.
func supervisor() []string { return []string{os.Args[0], SuperviseCommand} }
