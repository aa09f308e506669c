package ui

import (
	"fmt"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/dialog"
	"fyne.io/fyne/v2/layout"
	"fyne.io/fyne/v2/widget"

	"github.com/hooktray/hooktray/hook"
	"github.com/hooktray/hooktray/tunnel"
)

// installer offers cloudflared's download or update and shows its progress. The download runs in
// the core; this follows it through hook.TunnelChanged (refresh), so the window never waits on it.
type installer struct {
	u        *UI
	progress dialog.Dialog // shown while a download the user started runs
	bar      *widget.ProgressBar
	note     *widget.Label
	watching bool // the user started a download from this window: report how it ends
}

// offer explains what will be downloaded and, if the user agrees, starts the download.
func (in *installer) offer() {
	u := in.u
	b := u.svc.Reach.Cloudflared()
	title, action := "Download cloudflared?", "Download"
	msg := "Public URLs come from Cloudflare's tunnels, run by Cloudflare's official cloudflared program.\n\n" +
		"Hooktray downloads the newest cloudflared for " + tunnel.Platform() + " from Cloudflare's releases on GitHub (about 40 MB), " +
		"installs it only if its size and SHA-256 match what GitHub publishes for the release, and keeps it in Hooktray's data folder. " +
		"The tunnel then starts by itself."
	if b.UpdateAvailable {
		title, action = "Update cloudflared?", "Update"
		msg = fmt.Sprintf("cloudflared %s is available (this computer has %s).\n\n", b.Latest, b.Number()) +
			"Hooktray downloads it from Cloudflare's releases on GitHub, checks its size and SHA-256 against what GitHub publishes, " +
			"and restarts the tunnel with it. A quick tunnel gets a new address."
	}
	d := dialog.NewConfirm(title, msg, func(ok bool) {
		if ok {
			in.start()
		}
	}, u.win)
	d.SetConfirmText(action)
	d.SetDismissText("Cancel")
	d.Show()
}

// start asks the core to download cloudflared and opens the progress dialog.
func (in *installer) start() {
	if err := in.u.svc.Reach.InstallCloudflared(""); err != nil {
		in.u.showError(err)
		return
	}
	in.watching = true
	in.note = widget.NewLabel("Asking GitHub for the newest release…")
	in.bar = widget.NewProgressBar()
	hide := widget.NewButton("Hide", func() { in.progress.Hide() })
	body := container.NewVBox(in.note, in.bar, container.NewHBox(layout.NewSpacer(), hide))
	in.progress = dialog.NewCustomWithoutButtons("Downloading cloudflared", body, in.u.win)
	in.progress.Resize(fyne.NewSize(480, 160))
	in.progress.Show()
	in.refresh()
}

// refresh follows the core's download: progress while it runs, then the outcome, once.
func (in *installer) refresh() {
	if !in.watching {
		return
	}
	st := in.u.svc.Reach.CloudflaredInstall()
	switch st.State {
	case tunnel.InstallDownloading:
		if st.Total > 0 {
			in.bar.SetValue(float64(st.Done) / float64(st.Total))
			in.note.SetText(fmt.Sprintf("cloudflared %s for %s: %s of %s", st.Version, tunnel.Platform(), hook.Bytes(st.Done), hook.Bytes(st.Total)))
		}
	case tunnel.InstallInstalled:
		in.watching = false
		in.progress.Hide()
		in.u.status.flash("cloudflared " + st.Version + " installed and checked; starting the tunnel")
	case tunnel.InstallFailed:
		in.watching = false
		in.progress.Hide()
		dialog.ShowError(fmt.Errorf("cloudflared was not installed: %s", st.Error), in.u.win)
	}
}
