package tunnel

import "syscall"

// setDeathSignal has the kernel kill the child when the thread that started it exits, which for
// a Go program (whose threads live as long as the process) is when Hooktray dies, even by kill -9.
func setDeathSignal(a *syscall.SysProcAttr) { a.Pdeathsig = syscall.SIGKILL }

// needsWatchdog: Linux ties the child to Hooktray by itself.
const needsWatchdog = false
