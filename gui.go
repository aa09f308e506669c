//go:build !nogui

package main

import (
	"context"

	"github.com/hooktray/hooktray/app"
	"github.com/hooktray/hooktray/app/core"
	"github.com/hooktray/hooktray/ui"
)

// desktopApp is the default command: the Fyne desktop app on the core that app.Start makes. Build
// with -tags nogui for a headless binary without Fyne and its system libraries.
func desktopApp() func(context.Context, app.Options, bool) error {
	return func(ctx context.Context, opts app.Options, hidden bool) error {
		start := func(ctx context.Context, showWindow, hideWindow func()) (*core.Services, func(context.Context) error, error) {
			opts.ShowWindow, opts.HideWindow = showWindow, hideWindow
			hub, err := app.Start(ctx, opts)
			if err != nil {
				return nil, nil, err
			}
			return hub.Services(), hub.Stop, nil
		}
		return ui.Run(ctx, start, hidden)
	}
}
