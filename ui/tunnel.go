package ui

import (
	"context"
	"errors"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/dialog"
	"fyne.io/fyne/v2/widget"

	"github.com/hooktray/hooktray/hook"
	"github.com/hooktray/hooktray/tunnel"
)

// Preference keys of the tunnel settings. The token is not saved: secrets are kept only where
// they are encrypted, and until then it comes from HOOKTRAY_TUNNEL_TOKEN or is typed again.
const (
	prefTunnelMode = "tunnel.mode"
	prefPublicURL  = "tunnel.public_url"
)

var tunnelChoices = []string{"Cloudflare quick tunnel (no account)", "Cloudflare named tunnel (token)", "My own public URL", "Off (local only)"}

var tunnelModes = map[string]tunnel.Mode{
	tunnelChoices[0]: tunnel.Quick, tunnelChoices[1]: tunnel.Token, tunnelChoices[2]: tunnel.External, tunnelChoices[3]: tunnel.Off,
}

func loadTunnelSettings(p fyne.Preferences) tunnel.Settings {
	mode, err := tunnel.ParseMode(p.StringWithFallback(prefTunnelMode, string(tunnel.Quick)))
	if err != nil {
		mode = tunnel.Quick
	}
	return tunnel.Settings{Mode: mode, PublicURL: p.String(prefPublicURL)}
}

// editTunnel opens the tunnel settings: how endpoints become public.
func (u *UI) editTunnel() {
	current, hasToken := u.hub.TunnelSettings()
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
		token.SetPlaceHolder("a token is set; paste a new one to replace it")
	}
	form := []*widget.FormItem{
		{Text: "Public URL", Widget: mode, HintText: "quick tunnels get a new trycloudflare.com address on every start"},
		{Text: "URL or hostname", Widget: publicURL, HintText: "your own URL, or the named tunnel's hostname"},
		{Text: "Tunnel token", Widget: token, HintText: "named tunnels only; not saved yet: set HOOKTRAY_TUNNEL_TOKEN to keep it"},
	}
	d := dialog.NewForm("Tunnel settings", "Apply", "Cancel", form, func(ok bool) {
		if !ok {
			return
		}
		o := tunnel.Settings{Mode: tunnelModes[mode.Selected], PublicURL: publicURL.Text, Token: token.Text}
		go func() {
			err := u.hub.SetTunnel(context.Background(), o)
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
				p := u.app.Preferences()
				p.SetString(prefTunnelMode, string(o.Mode))
				p.SetString(prefPublicURL, o.PublicURL)
				u.status.refresh()
				u.tray.refresh()
			})
		}()
	}, u.win)
	d.Resize(fyne.NewSize(620, 320))
	d.Show()
}
