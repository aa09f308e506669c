package ui

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/dialog"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"

	"github.com/hooktray/hooktray/app/subscribe"
	"github.com/hooktray/hooktray/hook"
	"github.com/hooktray/hooktray/ui/forms"
)

// editEndpoint opens the endpoint form; ep nil creates a new endpoint. An existing one's form
// also shows its URLs and leads to its forwarding and subscriptions, and to deleting it.
func (u *UI) editEndpoint(ep *hook.Endpoint) *forms.Endpoint {
	f := forms.NewEndpoint(ep)
	f.SetRuleChecker(u.svc.Rules.CheckField)
	if ep != nil {
		id, seed := ep.ID, ep.Settings.ResponseSeed
		f.OnTryResponses = func(rs []hook.ResponseRule) {
			go func() {
				ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
				defer cancel()
				results, err := u.svc.TryResponses(ctx, id, rs, seed, 50)
				u.do(func() { f.ShowResponseTrial(results, err) })
			}()
		}
	}
	var dlg dialog.Dialog
	title := "New endpoint"
	if ep != nil {
		title = "Edit " + ep.Name
		f.Top = u.urlBox(ep.ID)
		f.Extra = u.endpointActions(func() { dlg.Hide() }, *ep)
		if ep.VerifyScheme != hook.SchemeNone {
			f.OnRotate = func() { u.rotateSecret(f, ep.ID) }
		}
	}
	f.OnCancel = func() { dlg.Hide() }
	f.OnSubmit = func(c hook.EndpointChange) {
		var saved hook.Endpoint
		u.submitForm(f, func(ctx context.Context) (err error) {
			if ep == nil {
				saved, err = u.svc.Endpoints.Create(ctx, c)
			} else {
				saved, err = u.svc.Endpoints.Update(ctx, ep.ID, c)
			}
			return err
		}, func() {
			dlg.Hide()
			u.endpoints.selectEndpoint(saved.ID)
			if ep == nil {
				u.say("Created " + saved.Name + ": send webhooks to " + u.bestURL(saved.ID))
			}
		})
	}
	size := fyne.NewSize(660, 700)
	if ep == nil {
		size = fyne.NewSize(560, 300)
	}
	dlg = u.showForm(u.win, title, f, size)
	u.win.Canvas().Focus(f.Focus())
	return f
}

// endpointActions are the existing endpoint's buttons beside Save: delete it, its forwarding,
// its subscriptions; hide closes the form.
func (u *UI) endpointActions(hide func(), ep hook.Endpoint) []fyne.CanvasObject {
	del := widget.NewButtonWithIcon("Delete…", theme.DeleteIcon(), func() { u.confirmDelete(ep, hide) })
	del.Importance = widget.DangerImportance
	label := "Forwarding…"
	if ts, err := u.svc.Forwarding.Targets(ep.ID); err == nil && len(ts) > 0 {
		label = fmt.Sprintf("Forwarding (%d)…", len(ts))
	}
	fwd := widget.NewButtonWithIcon(label, theme.MailForwardIcon(), func() { hide(); u.showForwarding(ep.ID) })
	subs := widget.NewButtonWithIcon("Subscriptions…", theme.MailComposeIcon(), func() { hide(); u.showSubscriptions(ep.ID) })
	return []fyne.CanvasObject{del, fwd, subs}
}

// rotateSecret rotates an endpoint's secret and shows the new one in its form.
func (u *UI) rotateSecret(f *forms.Endpoint, id string) {
	var secret string
	u.background(func() (err error) {
		secret, err = u.svc.Endpoints.RotateSecret(context.Background(), id)
		return err
	}, func() {
		f.ShowSecret(secret)
		u.say("New secret shown in the editor; the previous one stays valid for an hour")
	})
}

// showForm shows form in a dialog over parent that Esc closes (a focused field takes Esc itself,
// forms.Input), and returns the dialog.
func (u *UI) showForm(parent fyne.Window, title string, form fyne.CanvasObject, size fyne.Size) dialog.Dialog {
	d := dialog.NewCustomWithoutButtons(title, form, parent)
	if cs := parent.Canvas().Size(); cs.Width > 0 {
		size = fyne.NewSize(min(size.Width, cs.Width-24), min(size.Height, cs.Height-24))
	}
	d.Resize(size)
	u.showEscapable(d, parent)
	return d
}

// showEscapable shows d over parent so that Esc closes it (Fyne's dialogs take no keys).
func (u *UI) showEscapable(d dialog.Dialog, parent fyne.Window) {
	c := parent.Canvas()
	before := c.OnTypedKey()
	c.SetOnTypedKey(func(k *fyne.KeyEvent) {
		if k.Name == fyne.KeyEscape {
			d.Hide()
		} else if before != nil {
			before(k)
		}
	})
	d.SetOnClosed(func() { c.SetOnTypedKey(before) })
	d.Show()
}

// confirm asks before something that cannot be undone; Esc says no.
func (u *UI) confirm(parent fyne.Window, title, message string, yes func()) {
	d := dialog.NewConfirm(title, message, func(ok bool) {
		if ok {
			yes()
		}
	}, parent)
	u.showEscapable(d, parent)
}

// inform says how something went; Esc closes it.
func (u *UI) inform(parent fyne.Window, title, message string) {
	u.showEscapable(dialog.NewInformation(title, message, parent), parent)
}

// fieldForm is a form the core's field errors go back to.
type fieldForm interface {
	ShowError(fe *hook.FieldError) bool
	SetBusy(busy bool)
}

// submitForm runs call off the UI goroutine with the form's Save disabled; an error about a field
// goes next to it, another error to a dialog, and done runs when call succeeded.
func (u *UI) submitForm(f fieldForm, call func(ctx context.Context) error, done func()) {
	u.submitFormIn(u.win, f, call, done)
}

// submitFormIn is submitForm for a form in the window parent, where its error dialogs go.
func (u *UI) submitFormIn(parent fyne.Window, f fieldForm, call func(ctx context.Context) error, done func()) {
	f.SetBusy(true)
	go func() {
		err := call(context.Background())
		u.do(func() {
			f.SetBusy(false)
			var fe *hook.FieldError
			switch {
			case errors.As(err, &fe) && f.ShowError(fe):
			case err != nil:
				u.showProblemIn(parent, describe(err), err, u.actionsFor(err)...)
			default:
				done()
			}
		})
	}()
}

// urlBox shows an endpoint's local and public URLs with copy buttons.
func (u *UI) urlBox(id string) fyne.CanvasObject {
	local := u.svc.Endpoints.URL(id)
	rows := []fyne.CanvasObject{urlRow(u, "Local URL", local)}
	if public := u.svc.Endpoints.PublicURL(id); public != "" {
		rows = append(rows, urlRow(u, "Public URL", public))
	} else {
		note := widget.NewLabel("Public URL: none yet (local only)")
		note.SizeName = theme.SizeNameCaptionText
		rows = append(rows, note)
	}
	return container.NewVBox(rows...)
}

func urlRow(u *UI, label, url string) fyne.CanvasObject {
	text := widget.NewLabelWithStyle(url, fyne.TextAlignLeading, fyne.TextStyle{Monospace: true})
	text.Truncation = fyne.TextTruncateEllipsis
	copyBtn := widget.NewButtonWithIcon("Copy", theme.ContentCopyIcon(), func() { u.copyText(strings.ToLower(label), url) })
	return container.NewBorder(nil, nil, widget.NewLabel(label), copyBtn, text)
}

// confirmDelete asks before deleting an endpoint, naming the subscriptions unregistered first;
// hide closes its form.
func (u *UI) confirmDelete(ep hook.Endpoint, hide func()) {
	msg := "Its URL will answer 410 Gone from now on. Its events stay in the history.\nThis cannot be undone."
	if subs := u.svc.Subscriptions.List(ep.ID); len(subs) > 0 {
		var names []string
		for _, s := range subs {
			names = append(names, subscribe.ProviderTitle(s.Provider))
		}
		msg = "Its subscriptions at " + strings.Join(names, ", ") + " are unregistered first.\n" + msg
	}
	u.confirm(u.win, "Delete "+ep.Name+"?", msg, func() {
		u.background(func() error { return u.svc.Endpoints.Delete(context.Background(), ep.ID) }, func() {
			hide()
			u.say("Deleted " + ep.Name)
		})
	})
}
