package ui

import (
	"context"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/widget"

	"github.com/hooktray/hooktray/tunnel"
	"github.com/hooktray/hooktray/ui/forms"
)

// editTunnel opens the tunnel settings: how endpoints become public, the named tunnel's token
// (kept sealed like endpoint secrets, never shown again), and the cloudflared in use.
func (u *UI) editTunnel() {
	f := forms.NewTunnel(u.svc.Reach.Settings())
	f.Cloudflared = u.cloudflaredRow()
	d := u.showForm(u.win, "Tunnel settings", f, fyne.NewSize(680, 420))
	f.OnCancel = d.Hide
	f.OnSubmit = func(c tunnel.SettingsChange) {
		u.submitForm(f, func(ctx context.Context) error { return u.svc.Reach.SetTunnel(ctx, c) }, func() {
			d.Hide()
			u.status.refresh()
			u.tray.refresh()
		})
	}
}

// cloudflaredRow says which cloudflared is in use and offers to download or update it.
func (u *UI) cloudflaredRow() fyne.CanvasObject {
	b := u.svc.Reach.Cloudflared()
	text := "not installed"
	if b.Path != "" {
		text = b.Number() + " · " + b.Path
	} else if !u.svc.Reach.CloudflaredMissing() {
		text = "not needed for this choice"
	}
	label := widget.NewLabel(text)
	label.Truncation = fyne.TextTruncateEllipsis
	row := []fyne.CanvasObject{}
	switch {
	case u.svc.Reach.CloudflaredMissing():
		row = append(row, widget.NewButton("Download…", u.installer.offer))
	case b.UpdateAvailable:
		row = append(row, widget.NewButton("Update to "+b.Latest+"…", u.installer.offer))
	}
	var warn fyne.CanvasObject = container.NewHBox()
	if b.Warning != "" {
		w := widget.NewLabel(b.Warning)
		w.Importance = widget.WarningImportance
		w.Wrapping = fyne.TextWrapWord
		warn = w
	}
	return container.NewVBox(container.NewBorder(nil, nil, nil, container.NewHBox(row...), label), warn)
}
