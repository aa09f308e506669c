package ui

import (
	"context"
	"fmt"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/dialog"
	"fyne.io/fyne/v2/layout"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"

	"github.com/hooktray/hooktray/app/inbox"
	"github.com/hooktray/hooktray/hook"
	"github.com/hooktray/hooktray/ui/forms"
)

// inboxView is the always-on inbox's dialog while it is open: its set-up form, or how it is
// doing. It follows the inbox's status through hook.InboxChanged (refresh).
type inboxView struct {
	u      *UI
	d      dialog.Dialog
	setup  *forms.Inbox // while the set-up form shows
	status *widget.Form // while the status shows
	busy   *widget.Label
}

// showInbox opens the always-on inbox: its set-up when there is none, else how it is doing.
func (u *UI) showInbox() {
	if u.inbox != nil {
		u.inbox.d.Hide()
	}
	v := &inboxView{u: u}
	u.inbox = v
	if u.svc.Inbox.Status().Configured {
		v.showStatus()
	} else {
		v.showSetup()
	}
}

func (v *inboxView) closed() {
	if v.u.inbox == v {
		v.u.inbox = nil
	}
}

// showSetup asks how to get an inbox, and gets it off the UI goroutine, its steps shown.
func (v *inboxView) showSetup() {
	u := v.u
	f := forms.NewInbox()
	v.setup = f
	v.d = u.showForm(u.win, "Always-on inbox", f, fyne.NewSize(720, 600))
	v.d.SetOnClosed(v.closed)
	f.OnCancel = v.d.Hide
	u.win.Canvas().Focus(f.Focus())
	f.OnSubmit = func(c forms.InboxChange) {
		if c.Setup != nil {
			f.SetStep("Starting…")
		} else {
			f.SetStep("Connecting to the inbox…")
		}
		call := func(ctx context.Context) error {
			if c.Setup != nil {
				return u.svc.Inbox.Setup(ctx, *c.Setup)
			}
			return u.svc.Inbox.Use(ctx, c.Use.URL, c.Use.Secret, c.Use.Cap)
		}
		u.submitForm(setupForm{f}, call, func() {
			v.setup = nil
			v.d.Hide()  // closes the view…
			u.inbox = v // …which goes on as the status
			v.showStatus()
			u.say("Always-on inbox in use: endpoints' public URLs are now its own")
		})
	}
}

// setupForm ends the set-up's progress whatever the outcome.
type setupForm struct{ *forms.Inbox }

func (f setupForm) SetBusy(busy bool) {
	f.Inbox.SetBusy(busy)
	if !busy {
		f.SetStep("")
	}
}

// showStatus shows how the inbox is doing, with Remove.
func (v *inboxView) showStatus() {
	u := v.u
	v.status = widget.NewForm()
	v.busy = widget.NewLabel("")
	v.busy.Wrapping = fyne.TextWrapWord
	v.busy.Hide()
	remove := widget.NewButtonWithIcon("Remove inbox…", theme.DeleteIcon(), v.confirmRemove)
	remove.Importance = widget.DangerImportance
	closeB := widget.NewButton("Close", func() { v.d.Hide() })
	buttons := container.NewHBox(remove, layout.NewSpacer(), closeB)
	content := container.NewBorder(nil, container.NewVBox(v.busy, buttons), nil, nil, container.NewVScroll(v.status))
	v.d = dialog.NewCustomWithoutButtons("Always-on inbox", content, u.win)
	v.d.SetOnClosed(v.closed)
	v.d.Resize(fyne.NewSize(min(680, u.win.Canvas().Size().Width-24), min(460, u.win.Canvas().Size().Height-24)))
	v.refresh()
	u.showEscapable(v.d, u.win)
}

// refresh shows the inbox's status as it is now.
func (v *inboxView) refresh() {
	st := v.u.svc.Inbox.Status()
	if v.setup != nil {
		if st.Step != "" {
			v.setup.SetStep(st.Step)
		}
		return
	}
	if v.status == nil {
		return
	}
	v.status.Items = nil
	for _, row := range inboxRows(st, time.Now()) {
		v.status.Append(row[0], wrapped(row[1]))
	}
	v.status.Items[0].Widget = v.urlWithCopy(st.URL)
	v.status.Refresh()
}

// urlWithCopy is the inbox's URL with a Copy button.
func (v *inboxView) urlWithCopy(url string) fyne.CanvasObject {
	text := widget.NewLabelWithStyle(url, fyne.TextAlignLeading, fyne.TextStyle{Monospace: true})
	text.Truncation = fyne.TextTruncateEllipsis
	return container.NewBorder(nil, nil, nil, widget.NewButtonWithIcon("Copy", theme.ContentCopyIcon(), func() { v.u.copyText("inbox URL", url) }), text)
}

// inboxRows are the status's lines: what the inbox is, its connection, what it holds.
func inboxRows(st inbox.Status, now time.Time) [][2]string {
	conn := "Connected"
	switch {
	case !st.Connected && st.Error != "":
		conn = "Not connected: " + st.Error + ". What arrives waits in the inbox."
	case !st.Connected:
		conn = "Connecting…"
	case !st.CaughtUp:
		conn = "Connected, taking what waits"
	}
	waiting := "nothing: Hooktray holds everything the inbox kept"
	if st.Waiting > 0 {
		waiting = fmt.Sprintf("%s (%s), the oldest since %s", plural(st.Waiting, "request", "requests"), hook.Bytes(st.Bytes), relativeTime(st.Oldest, now))
	}
	drain := "none since Hooktray started"
	if !st.LastDrain.IsZero() {
		drain = fmt.Sprintf("%s · %s taken since Hooktray started", relativeTime(st.LastDrain, now), plural(st.Drained, "request", "requests"))
	}
	where := "an inbox Hooktray did not set up (deployed by hand, or a local one)"
	if st.Account != "" {
		where = fmt.Sprintf("the Worker %s on the Cloudflare account %s", st.Script, st.Account)
	}
	return [][2]string{
		{"URL", st.URL},
		{"Connection", conn},
		{"Waiting", waiting},
		{"Last taken", drain},
		{"Keeps at most", fmt.Sprintf("%s and %s of bodies; past either it answers 507", plural(st.Cap.Requests, "request", "requests"), hook.Bytes(st.Cap.Bytes))},
		{"Runs as", where},
	}
}

// confirmRemove asks, then removes the inbox: it is drained first, then (when Hooktray set it
// up) the Worker and what it stored are deleted.
func (v *inboxView) confirmRemove() {
	u := v.u
	st := u.svc.Inbox.Status()
	msg := "Hooktray first takes everything the inbox holds, then stops using it.\nEndpoints go back to the tunnel's public URL, and providers are registered there again."
	if st.Account != "" {
		msg = "Hooktray first takes everything the inbox holds, then deletes the Worker " + st.Script + " and what it stored from your Cloudflare account.\nEndpoints go back to the tunnel's public URL, and providers are registered there again."
	}
	u.confirm(u.win, "Remove the always-on inbox?", msg, func() {
		v.busy.SetText("Taking what the inbox holds, then removing it…")
		v.busy.Show()
		go func() {
			err := u.svc.Inbox.Remove(context.Background())
			u.do(func() {
				v.busy.Hide()
				if err != nil {
					u.showProblem(describe(err), err)
					return
				}
				v.d.Hide()
				u.say("Always-on inbox removed")
			})
		}()
	})
}
