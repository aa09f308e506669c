//go:build unix && !linux

package tunnel

import "syscall"

// setDeathSignal: there is no death signal on macOS and the BSDs; the watchdog stands in.
func setDeathSignal(*syscall.SysProcAttr) {}

// needsWatchdog: without a death signal, cloudflared runs under Hooktray's watchdog.
const needsWatchdog = true
