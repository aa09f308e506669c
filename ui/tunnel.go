package ui

import (
	"context"
	"errors"
	"strings"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/dialog"
	"fyne.io/fyne/v2/widget"

	"github.com/hooktray/hooktray/hook"
	"github.com/hooktray/hooktray/tunnel"
)

var tunnelChoices = []string{"Cloudflare quick tunnel (no account)", "Cloudflare named tunnel (token)", "My own public URL", "Off (local only)"}

var tunnelModes = map[string]tunnel.Mode{
	tunnelChoices[0]: tunnel.Quick, tunnelChoices[1]: tunnel.Token, tunnelChoices[2]: tunnel.External, tunnelChoices[3]: tunnel.Off,
}

// editTunnel opens the tunnel settings: how endpoints become public, the named tunnel's token
// (kept sealed like endpoint secrets, never shown again), and the cloudflared in use.
func (u *UI) editTunnel() {
	current, hasToken := u.svc.Reach.Settings()
	mode := widget.NewSelect(tunnelChoices, nil)
	for label, m := range tunnelModes {
		if m == current.Mode {
			mode.SetSelected(label)
		}
	}
	publicURL := widget.NewEntry()
	publicURL.SetText(current.PublicURL)
	publicURL.SetPlaceHolder("https://hooks.example.com")
	token := widget.NewPasswordEntry()
	token.SetPlaceHolder("paste the token from the Cloudflare dashboard")
	if hasToken {
		token.SetPlaceHolder("a token is stored (sealed); paste a new one to replace it")
	}
	form := []*widget.FormItem{
		{Text: "Public URL", Widget: mode, HintText: "quick tunnels get a new trycloudflare.com address on every start"},
		{Text: "URL or hostname", Widget: publicURL, HintText: "your own URL; for a named tunnel, empty takes the hostname set in the dashboard"},
		{Text: "Tunnel token", Widget: token, HintText: "named tunnels only; stored encrypted, never shown again"},
		{Text: "cloudflared", Widget: u.cloudflaredRow()},
	}
	d := dialog.NewForm("Tunnel settings", "Apply", "Cancel", form, func(ok bool) {
		if !ok {
			return
		}
		m, url := tunnelModes[mode.Selected], strings.TrimSpace(publicURL.Text)
		change := tunnel.SettingsChange{Mode: &m, PublicURL: &url}
		if t := strings.TrimSpace(token.Text); t != "" {
			change.Token = &t
		}
		go func() {
			err := u.svc.Reach.SetTunnel(context.Background(), change)
			u.do(func() {
				var fe *hook.FieldError
				if errors.As(err, &fe) {
					dialog.ShowError(errors.New(fe.Message), u.win)
					return
				}
				if err != nil {
					u.showError(err)
					return
				}
				u.status.refresh()
				u.tray.refresh()
			})
		}()
	}, u.win)
	d.Resize(fyne.NewSize(680, 380))
	d.Show()
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
