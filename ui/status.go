package ui

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"

	"github.com/hooktray/hooktray/hook"
	"github.com/hooktray/hooktray/tunnel"
)

// statusBar is the window's bottom line, as separate items: how webhooks reach Hooktray (the
// public URL, click to copy), what needs the user's hand (damage, unreadable secrets), stopped
// forwarding, where the secrets' key is, and brief confirmations.
type statusBar struct {
	u        *UI
	reach    *widget.Button // the reachability and the public URL; tap copies it, or says why not
	trouble  *widget.Button // damage or unreadable secrets; tap explains
	stopped  *widget.Button // forwarding targets that deliver nothing; tap opens Forwarding
	keychain *widget.Label
	message  *widget.Label
	download *widget.Button // offered when a tunnel needs cloudflared and there is none
	clear    *time.Timer
	content  fyne.CanvasObject
}

func newStatusBar(u *UI) *statusBar {
	s := &statusBar{u: u, message: widget.NewLabel(""), keychain: widget.NewLabel("")}
	s.reach = widget.NewButton("", s.reachTapped)
	s.reach.Importance = widget.LowImportance
	s.reach.Alignment = widget.ButtonAlignLeading
	s.trouble = widget.NewButtonWithIcon("", theme.ErrorIcon(), s.troubleTapped)
	s.trouble.Importance = widget.DangerImportance
	s.stopped = widget.NewButtonWithIcon("", theme.WarningIcon(), func() { u.showForwarding("") })
	s.stopped.Importance = widget.LowImportance
	s.keychain.SizeName = theme.SizeNameCaptionText
	s.message.SizeName = theme.SizeNameCaptionText
	s.message.Importance = widget.SuccessImportance
	s.download = widget.NewButtonWithIcon("Install cloudflared…", theme.DownloadIcon(), func() { u.installer.offer() })
	s.download.Importance = widget.HighImportance
	for _, o := range []fyne.CanvasObject{s.trouble, s.stopped, s.download, s.keychain} {
		o.Hide()
	}
	// Items that do not fit the window's width are left out, from the right: the bar never widens it.
	s.content = container.New(fitRow{}, s.trouble, s.reach, s.download, s.stopped, s.keychain, s.message)
	s.refresh()
	return s
}

func (s *statusBar) refresh() {
	u := s.u
	text, importance := statusLine(u), widget.MediumImportance
	if currentReach(u.svc.Reach).trouble() {
		importance = widget.WarningImportance
	}
	s.reach.SetText(shorten(text, 90))
	s.reach.Importance = importance
	s.reach.Refresh()
	setShown(s.trouble, s.troubleText())
	setShown(s.stopped, stoppedTargets(u))
	if u.svc.Endpoints.SecretsStorage() == "file" {
		// No keychain (headless Linux, some desktops): say where the master key is instead.
		s.keychain.SetText("Secrets' key: in the data dir (no keychain)")
		s.keychain.Show()
	} else {
		s.keychain.Hide()
	}
	installing := u.svc.Reach.CloudflaredInstall().State == tunnel.InstallDownloading
	switch b := u.svc.Reach.Cloudflared(); {
	case installing:
		s.download.Hide()
	case u.svc.Reach.CloudflaredMissing():
		s.download.SetText("Install cloudflared…")
		s.download.Show()
	case b.UpdateAvailable:
		s.download.SetText("Update cloudflared…")
		s.download.Show()
	default:
		s.download.Hide()
	}
	u.installer.refresh()
}

// setShown shows b with text, or hides it when there is none.
func setShown(b *widget.Button, text string) {
	if text == "" {
		b.Hide()
		return
	}
	b.SetText(shorten(text, 60))
	b.Show()
}

// shorten cuts s to at most n characters, with an ellipsis.
func shorten(s string, n int) string {
	if r := []rune(s); len(r) > n {
		return string(r[:n-1]) + "…"
	}
	return s
}

// troubleText names what needs the user's hand, most serious first ("" when nothing does).
func (s *statusBar) troubleText() string {
	switch {
	case s.u.svc.Health.StorageError() != "":
		return "The history is damaged"
	case s.u.svc.Health.JournalDamage().Damaged():
		return "Webhooks were lost in a crash"
	case s.u.svc.Endpoints.SecretsError() != "":
		return "Some secrets cannot be read"
	}
	return ""
}

// troubleTapped explains what needs the user's hand and what to do.
func (s *statusBar) troubleTapped() {
	u := s.u
	switch {
	case u.svc.Health.StorageError() != "":
		u.showProblem("The history database is damaged. Quit Hooktray, then run 'hooktray db recover': it copies everything that can be read into a new file.",
			errors.New(u.svc.Health.StorageError()))
	case u.svc.Health.JournalDamage().Damaged():
		d := u.svc.Health.JournalDamage()
		u.showProblem(sentence(d.Sentence()), nil, action{"Copy folder path", func() { u.copyText("folder path", d.Folder) }})
	case u.svc.Endpoints.SecretsError() != "":
		u.showProblem(sentence(u.svc.Endpoints.SecretsError()), nil)
	}
}

// reachTapped copies the public URL, or says why there is none and what to do.
func (s *statusBar) reachTapped() {
	u := s.u
	r := u.svc.Reach
	switch {
	case r.Status().Mode == tunnel.Inbox:
		u.showInbox()
	case r.CloudflaredMissing():
		u.showProblem("Endpoints are local only: the tunnel needs cloudflared, which is not installed.", nil,
			action{"Install cloudflared…", u.installer.offer}, action{"Tunnel settings…", u.editTunnel})
	case r.Status().Error != "":
		u.showProblem(sentence(r.Status().Error), nil, action{"Tunnel settings…", u.editTunnel}, action{"Tunnel log…", u.showTunnelLog})
	case currentReach(r) == reachSilent:
		u.showProblem(sentence(r.Reachability().Error), nil, action{"Check again", r.ProbeNow}, action{"Tunnel settings…", u.editTunnel})
	case r.PublicURL() != "":
		u.app.Clipboard().SetContent(r.PublicURL())
		u.flash(s.reach, "Copied the public URL")
	default:
		u.editTunnel()
	}
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
	switch len(names) {
	case 0:
		return ""
	case 1:
		return "Forwarding: " + names[0]
	}
	return fmt.Sprintf("Forwarding: %d targets stopped", len(names))
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
