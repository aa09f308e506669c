// Package palette is Hooktray's colours, shared by the icons (assets/gen) and the window (ui), so
// a state looks the same in the tray and in the endpoint list.
package palette

import "image/color"

// The colours.
var (
	Brand   = color.NRGBA{0x25, 0x63, 0xeb, 0xff} // the icon's background; links and JSON keys
	White   = color.NRGBA{0xff, 0xff, 0xff, 0xff}
	Online  = color.NRGBA{0x16, 0xa3, 0x4a, 0xff} // receiving, reachable
	Offline = color.NRGBA{0x6b, 0x72, 0x80, 0xff} // local only
	Problem = color.NRGBA{0xdc, 0x26, 0x26, 0xff} // the tunnel failed, or the URL is silent
	Alert   = color.NRGBA{0xf5, 0x9e, 0x0b, 0xff} // alerts not seen yet
)
