package forms

import (
	"strings"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/widget"

	"github.com/hooktray/hooktray/hook"
	"github.com/hooktray/hooktray/tunnel"
)

// tunnelLabels say the tunnel modes in words.
var tunnelLabels = map[tunnel.Mode]string{
	tunnel.Quick: "Cloudflare quick tunnel (no account)", tunnel.Token: "Cloudflare named tunnel (token)",
	tunnel.External: "My own public URL", tunnel.Off: "Off (local only)",
}

// Tunnel is the tunnel settings form: how endpoints become public, and the named tunnel's token
// (kept sealed, never shown again).
type Tunnel struct {
	widget.BaseWidget
	frame
	OnSubmit func(tunnel.SettingsChange)
	OnCancel func()
	// Cloudflared, when set before the form is shown, is a row about the cloudflared in use.
	Cloudflared fyne.CanvasObject

	current  tunnel.Settings
	hasToken bool
	// The fields, for tests to fill.
	Mode  *widget.Select
	URL   *Input
	Token *Input
}

// NewTunnel returns the form filled with the settings in force; hasToken says a token is stored.
func NewTunnel(current tunnel.Settings, hasToken bool) *Tunnel {
	f := &Tunnel{current: current, hasToken: hasToken}
	f.frame = newFrame("Apply", f.submit, func() {
		if f.OnCancel != nil {
			f.OnCancel()
		}
	})
	var labels []string
	for _, m := range tunnel.Modes {
		labels = append(labels, tunnelLabels[m])
	}
	f.Mode = widget.NewSelect(labels, nil)
	f.Mode.SetSelected(tunnelLabels[current.EffectiveMode()])
	f.URL = f.entry("public_url", current.PublicURL, "https://hooks.example.com", nil)
	f.Token = f.password("token", "")
	f.byField["token"] = f.Token
	f.Token.SetPlaceHolder("paste the token from the Cloudflare dashboard")
	if hasToken {
		f.Token.SetPlaceHolder("a token is stored (sealed); paste a new one to replace it")
	}
	f.ExtendBaseWidget(f)
	return f
}

// CreateRenderer lays the fields out.
func (f *Tunnel) CreateRenderer() fyne.WidgetRenderer {
	f.Form.Items = []*widget.FormItem{
		{Text: "Public URL", Widget: f.Mode, HintText: "quick tunnels get a new trycloudflare.com address on every start"},
		{Text: "URL or hostname", Widget: f.URL, HintText: "your own URL; for a named tunnel, empty takes the hostname set in the dashboard"},
		{Text: "Tunnel token", Widget: f.Token, HintText: "named tunnels only; stored encrypted, never shown again"},
	}
	if f.Cloudflared != nil {
		f.Form.Items = append(f.Form.Items, &widget.FormItem{Text: "cloudflared", Widget: f.Cloudflared})
	}
	return renderer(f.frame.layout(nil, nil, false))
}

func (f *Tunnel) submit() {
	c, fe := f.Change()
	if fe != nil {
		f.ShowError(fe)
		return
	}
	if f.OnSubmit != nil {
		f.OnSubmit(c)
	}
}

// Change is what the form holds, or the first field that is wrong, checked as the reachability
// service will check it: by applying it to the settings in force.
func (f *Tunnel) Change() (tunnel.SettingsChange, *hook.FieldError) {
	mode := tunnel.Off
	for m, label := range tunnelLabels {
		if label == f.Mode.Selected {
			mode = m
		}
	}
	url := strings.TrimSpace(f.URL.Text)
	c := tunnel.SettingsChange{Mode: &mode, PublicURL: &url}
	if t := strings.TrimSpace(f.Token.Text); t != "" {
		c.Token = &t
	}
	scratch := f.current
	if f.hasToken && scratch.Token == "" {
		scratch.Token = "(stored)" // Settings() leaves the stored token out; it counts as given
	}
	if err := c.Apply(&scratch); err != nil {
		return c, fieldError("", err)
	}
	return c, nil
}
