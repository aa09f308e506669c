// Package assets holds Hooktray's icons, embedded in the binary. assets/gen draws them.
package assets

import _ "embed"

// Icon is the application icon (512×512 PNG).
//
//go:embed icon.png
var Icon []byte

// Tray icons (64×64 PNG), one per state the tray shows.
var (
	//go:embed tray-online.png
	TrayOnline []byte // a public URL is up
	//go:embed tray-offline.png
	TrayOffline []byte // local only
	//go:embed tray-error.png
	TrayError []byte // something needs attention (tunnel failed, storage errors)
	//go:embed tray-alert.png
	TrayAlert []byte // alerts arrived that the user has not seen
)
