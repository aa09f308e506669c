//go:build !nogui

package main

import (
	"context"

	"github.com/hooktray/hooktray/app"
	"github.com/hooktray/hooktray/ui"
)

// desktopApp is the default command: the Fyne desktop app. Build with -tags nogui for a headless
// binary without Fyne and its system libraries.
func desktopApp() func(context.Context, app.Options, bool) error { return ui.Run }
