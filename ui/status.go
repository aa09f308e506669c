package ui

import (
	"context"
	"strings"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/dialog"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"

	"github.com/hooktray/hooktray/hook"
	"github.com/hooktray/hooktray/tunnel"
)

// statusBar is the window's bottom line: where webhooks can reach Hooktray, and brief
// confirmations ("Copied cURL command").
type statusBar struct {
	u        *UI
	where    *widget.Label
	message  *widget.Label
	download *widget.Button // offered when a tunnel needs cloudflared and there is none
	clear    *time.Timer
	content  fyne.CanvasObject
}

func newStatusBar(u *UI) *statusBar {
	s := &statusBar{u: u, where: widget.NewLabel(""), message: widget.NewLabel("")}
	s.where.SizeName = theme.SizeNameCaptionText
	s.message.SizeName = theme.SizeNameCaptionText
	s.message.Importance = widget.SuccessImportance
	s.download = widget.NewButtonWithIcon("Download cloudflared…", theme.DownloadIcon(), func() { u.installer.offer() })
	s.download.Importance = widget.HighImportance
	s.download.Hide()
	s.where.Truncation = fyne.TextTruncateEllipsis
	s.content = container.NewBorder(nil, nil, nil, container.NewHBox(s.message, s.download), s.where)
	s.refresh()
	return s
}

func (s *statusBar) refresh() {
	text := statusLine(s.u)
	if st := s.u.svc.Reach.Status(); st.Error != "" {
		text += " — " + st.Error
	} else if r := s.u.svc.Reach.Reachability(); !r.Reachable && r.Error != "" && r.URL == s.u.svc.Reach.PublicURL() {
		text += " — " + r.Error
	}
	if stopped := stoppedTargets(s.u); stopped != "" {
		text += " · " + stopped
	}
	if s.u.svc.Endpoints.SecretsStorage() == "file" {
		// No keychain (headless Linux, some desktops): say where the master key is instead.
		text += " · secrets key in the data dir (no keychain)"
	}
	importance := widget.MediumImportance
	if currentReach(s.u.svc.Reach).trouble() {
		importance = widget.WarningImportance
	}
	// What needs the user's hand comes first: damage to the history, secrets that cannot be read.
	if e := s.u.svc.Endpoints.SecretsError(); e != "" {
		text, importance = "Secrets: "+e+" · "+text, widget.DangerImportance
	}
	if d := s.u.svc.Health.JournalDamage(); d.Damaged() {
		text, importance = "Journal: "+d.Sentence()+" · "+text, widget.DangerImportance
	}
	if e := s.u.svc.Health.StorageError(); e != "" {
		text, importance = "Storage: "+e+" (quit, then run 'hooktray db recover') · "+text, widget.DangerImportance
	}
	s.where.SetText(text)
	s.where.Importance = importance
	s.where.Refresh()
	installing := s.u.svc.Reach.CloudflaredInstall().State == tunnel.InstallDownloading
	switch b := s.u.svc.Reach.Cloudflared(); {
	case installing:
		s.download.Hide()
	case s.u.svc.Reach.CloudflaredMissing():
		s.download.SetText("Download cloudflared…")
		s.download.Show()
	case b.UpdateAvailable:
		s.download.SetText("Update cloudflared…")
		s.download.Show()
	default:
		s.download.Hide()
	}
	s.u.installer.refresh()
}

// stoppedTargets names the forwarding targets that deliver nothing now ("" when all do).
func stoppedTargets(u *UI) string {
	var names []string
	for _, t := range u.svc.Forwarding.AllTargets() {
		switch {
		case t.State == hook.TargetPaused:
			names = append(names, u.endpoints.name(t.EndpointID)+" paused")
		case t.State == hook.TargetDisabled || !t.Enabled:
			names = append(names, u.endpoints.name(t.EndpointID)+" off")
		}
	}
	if len(names) == 0 {
		return ""
	}
	return "forwarding: " + strings.Join(names, ", ")
}

// showTunnelLog opens a window with cloudflared's recent log, for when the tunnel misbehaves.
func (u *UI) showTunnelLog() {
	w := u.app.NewWindow("Hooktray — tunnel log")
	grid := widget.NewTextGrid()
	load := func() {
		lines := u.svc.Reach.Log()
		if len(lines) == 0 {
			lines = []string{"(cloudflared has not written anything yet)"}
		}
		grid.SetText(strings.Join(lines, "\n"))
	}
	load()
	reload := widget.NewButtonWithIcon("Reload", theme.ViewRefreshIcon(), load)
	copyAll := widget.NewButtonWithIcon("Copy", theme.ContentCopyIcon(), func() {
		u.copyText("tunnel log", strings.Join(u.svc.Reach.Log(), "\n"))
	})
	w.SetContent(container.NewBorder(container.NewHBox(reload, copyAll), nil, nil, nil, container.NewScroll(grid)))
	w.Resize(fyne.NewSize(900, 500))
	w.Show()
}

// flash shows a confirmation for a few seconds.
func (s *statusBar) flash(msg string) {
	s.message.SetText(msg)
	if s.clear != nil {
		s.clear.Stop()
	}
	s.clear = time.AfterFunc(4*time.Second, func() { s.u.do(func() { s.message.SetText("") }) })
}

// showError shows an error in a dialog. Call it on the UI goroutine.
func (u *UI) showError(err error) {
	dialog.ShowError(err, u.win)
}

// bestURL is the URL to give a provider for an endpoint: public when there is one, else local.
func (u *UI) bestURL(id string) string {
	if p := u.svc.Endpoints.PublicURL(id); p != "" {
		return p
	}
	return u.svc.Endpoints.URL(id)
}

// setAllEnabled pauses or resumes every endpoint.
func (u *UI) setAllEnabled(on bool) {
	eps := u.svc.Endpoints.List()
	u.background(func() error {
		for _, ep := range eps {
			if ep.Enabled != on {
				if _, err := u.svc.Endpoints.SetEnabled(context.Background(), ep.ID, on); err != nil {
					return err
				}
			}
		}
		return nil
	}, nil)
}
