//go:build nogui

package main

import (
	"context"

	"github.com/hooktray/hooktray/app"
)

// desktopApp is nil in headless builds: the default command runs `serve`.
func desktopApp() func(context.Context, app.Options, bool) error { return nil }
