package ui

import (
	"context"
	"fmt"
	"strings"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/dialog"
	"fyne.io/fyne/v2/layout"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"

	"github.com/hooktray/hooktray/app/subscribe"
	"github.com/hooktray/hooktray/hook"
	"github.com/hooktray/hooktray/ui/forms"
)

// subscriptionsView is the Subscriptions window: each endpoint's registrations at providers, with
// their status, and register / unregister / edit / remove.
type subscriptionsView struct {
	u        *UI
	win      fyne.Window
	endpoint string
	subs     []hook.Subscription
	selected string
	list     *widget.List
	title    *widget.Label
	detail   *widget.Form
	buttons  []*widget.Button
	reloads  reloader
	secrets  map[string][]string // the secret settings each subscription has stored
}

// showSubscriptions opens (or brings up) the Subscriptions window, on one endpoint when set.
func (u *UI) showSubscriptions(endpointID string) {
	if v := u.subscriptions; v != nil {
		v.endpoint = endpointID
		v.win.Show()
		v.win.RequestFocus()
		v.reload()
		return
	}
	v := &subscriptionsView{u: u, endpoint: endpointID}
	v.reloads = reloader{do: u.do, load: v.load}
	u.subscriptions = v
	v.win = u.app.NewWindow("Hooktray — subscriptions")
	v.title = widget.NewLabelWithStyle("", fyne.TextAlignLeading, fyne.TextStyle{Bold: true})
	v.detail = widget.NewForm()
	v.list = widget.NewList(func() int { return len(v.subs) }, twoLines,
		func(i widget.ListItemID, o fyne.CanvasObject) {
			if i >= len(v.subs) {
				return
			}
			s := v.subs[i]
			importance := widget.MediumImportance
			if s.Status == hook.SubscriptionFailed {
				importance = widget.DangerImportance
			}
			setTwoLines(o, u.endpoints.name(s.EndpointID)+": "+subscribe.ProviderTitle(s.Provider), subscriptionLine(s), importance)
		})
	v.list.OnSelected = func(i widget.ListItemID) {
		if i < len(v.subs) {
			v.selected = v.subs[i].ID
			v.show()
		}
	}
	v.buttons = v.actions()
	add := widget.NewButtonWithIcon("Add subscription…", theme.ContentAddIcon(), func() { u.editSubscription(v.win, v.endpoint, nil) })
	add.Importance = widget.HighImportance
	left := container.NewBorder(container.NewBorder(nil, nil, widget.NewLabelWithStyle("Subscriptions", fyne.TextAlignLeading, fyne.TextStyle{Bold: true}), add),
		nil, nil, nil, v.list)
	b := v.buttons
	right := container.NewBorder(container.NewVBox(v.title, container.NewHBox(b[0], b[1], b[2], layout.NewSpacer(), b[3], b[4])), nil, nil, nil,
		container.NewVScroll(v.detail))
	split := container.NewHSplit(left, right)
	split.Offset = 0.35
	v.win.SetContent(split)
	v.win.Resize(fyne.NewSize(1000, 520))
	v.win.SetOnClosed(func() { u.subscriptions = nil })
	v.win.Show()
	v.reload()
}

// actions are the buttons that act on the selected subscription: register, unregister, test,
// edit, remove.
func (v *subscriptionsView) actions() []*widget.Button {
	u := v.u
	act := func(label string, icon fyne.Resource, do func(ctx context.Context, id string) (hook.Subscription, error), done string) *widget.Button {
		return widget.NewButtonWithIcon(label, icon, func() {
			id := v.selected
			u.background(func() error {
				ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
				defer cancel()
				_, err := do(ctx, id)
				return err
			}, func() { u.say(done); v.reload() })
		})
	}
	register := act("Register now", theme.ViewRefreshIcon(), u.svc.Subscriptions.Register, "Registering at the provider…")
	unregister := act("Unregister", theme.CancelIcon(), u.svc.Subscriptions.Unregister, "Unregistered at the provider")
	test := widget.NewButtonWithIcon("Send test", theme.MailSendIcon(), v.test)
	edit := widget.NewButtonWithIcon("Edit…", theme.DocumentCreateIcon(), func() {
		for _, s := range v.subs {
			if s.ID == v.selected {
				u.editSubscription(v.win, s.EndpointID, &s)
			}
		}
	})
	remove := widget.NewButtonWithIcon("Remove", theme.DeleteIcon(), func() {
		id := v.selected
		u.confirm(v.win, "Remove this subscription?", "Hooktray unregisters it at the provider first, then forgets it.", func() {
			u.background(func() error { return u.svc.Subscriptions.Delete(context.Background(), id) }, func() { v.selected = ""; v.reload() })
		})
	})
	remove.Importance = widget.DangerImportance
	return []*widget.Button{register, unregister, test, edit, remove}
}

// test asks the selected subscription's provider for a test delivery and says how it arrived.
func (v *subscriptionsView) test() {
	id := v.selected
	var ev hook.Event
	v.u.background(func() (err error) {
		ev, err = v.u.svc.Subscriptions.Test(context.Background(), id)
		return err
	}, func() {
		v.u.inform(v.win, "Test delivery arrived", fmt.Sprintf("The provider's test arrived as event %d (%s), signature %s.",
			ev.ID, ev.Type, ev.Verification.Result))
	})
}

func subscriptionLine(s hook.Subscription) string {
	switch {
	case !s.Enabled && s.Status == hook.SubscriptionUnregistered:
		return "Unregistered"
	case s.Status == hook.SubscriptionRegistered:
		return "Registered on " + s.RegisteredURL
	case s.LastError != "":
		return strings.ToUpper(string(s.Status[:1])) + string(s.Status[1:]) + ": " + s.LastError
	}
	return string(s.Status)
}

// reload reads the subscriptions again, in the background.
func (v *subscriptionsView) reload() { v.reloads.request() }

// load reads the subscriptions of the endpoint shown and which secrets each has stored.
func (v *subscriptionsView) load() read {
	endpoint := v.endpoint
	return func() func() {
		subs := v.u.svc.Subscriptions.List(endpoint)
		secrets := map[string][]string{}
		for _, s := range subs {
			secrets[s.ID] = v.u.svc.Subscriptions.SecretsSet(context.Background(), s)
		}
		return func() { v.showList(subs, secrets) }
	}
}

// showList shows what load read, keeping the selection.
func (v *subscriptionsView) showList(subs []hook.Subscription, secrets map[string][]string) {
	v.subs, v.secrets = subs, secrets
	v.list.Refresh()
	for i, s := range subs {
		if s.ID == v.selected {
			v.list.Select(i)
			v.show()
			return
		}
	}
	if len(subs) > 0 {
		v.list.Select(0)
		return
	}
	v.show()
}

func (v *subscriptionsView) show() {
	var cur *hook.Subscription
	for i := range v.subs {
		if v.subs[i].ID == v.selected {
			cur = &v.subs[i]
		}
	}
	for _, b := range v.buttons {
		if cur != nil {
			b.Enable()
		} else {
			b.Disable()
		}
	}
	if cur == nil {
		v.title.SetText("No subscriptions yet")
		v.detail.Items = []*widget.FormItem{{Text: "", Widget: wrapped("A subscription registers an endpoint's public URL with a provider (Diagral, a device platform, Homecast, GitHub, Stripe, or any REST API), and registers it again whenever the URL changes.")}}
		v.detail.Refresh()
		return
	}
	s := *cur
	v.title.SetText(v.u.endpoints.name(s.EndpointID) + ": " + subscribe.ProviderTitle(s.Provider))
	v.detail.Items = v.fields(s)
	v.detail.Refresh()
}

// fields are a subscription's state and settings, a field a row, named as its provider names them.
func (v *subscriptionsView) fields(s hook.Subscription) []*widget.FormItem {
	const when = "Mon 2 Jan 2006 15:04:05"
	items := []*widget.FormItem{{Text: "Status", Widget: wrapped(subscriptionLine(s))}}
	add := func(name, value string) { items = append(items, &widget.FormItem{Text: name, Widget: wrapped(value)}) }
	if s.RemoteID != "" {
		add("The provider's id", s.RemoteID)
	}
	if f := s.Forced; f != nil {
		from := "another URL (the provider did not say which)"
		if f.From != "" {
			from = f.From
		}
		add("Forced", fmt.Sprintf("to this URL on %s, from %s", f.At.Local().Format(when), from))
	}
	if !s.LastCheckedAt.IsZero() {
		add("Last checked", s.LastCheckedAt.Local().Format(when))
	}
	labels := map[string]string{"base_url": "API address"}
	if fs, _, err := v.u.svc.Subscriptions.Fields(s.Provider); err == nil {
		for _, f := range fs {
			labels[f.Key] = f.Label
		}
	}
	for _, k := range sortedKeys(s.Settings) {
		name := labels[k]
		if name == "" {
			name = k
		}
		add(name, forms.SettingText(s.Settings[k]))
	}
	if set := v.secrets[s.ID]; len(set) > 0 {
		var names []string
		for _, k := range set {
			names = append(names, labels[k])
		}
		add("Secrets", strings.Join(names, ", ")+" (sealed, never shown)")
	}
	return items
}

// wrapped is a label whose text wraps.
func wrapped(text string) *widget.Label {
	l := widget.NewLabel(text)
	l.Wrapping = fyne.TextWrapWord
	return l
}

// editSubscription opens the form that adds a subscription (s nil) or changes one.
func (u *UI) editSubscription(parent fyne.Window, endpointID string, s *hook.Subscription) {
	var secretsSet []string
	if s != nil && u.subscriptions != nil {
		secretsSet = u.subscriptions.secrets[s.ID] // read in the background with the list
	}
	f := forms.NewSubscription(u.svc.Endpoints.List(), endpointID, s, secretsSet, subscribe.ProviderNames(), u.svc.Subscriptions.Fields)
	title := "Add a subscription"
	if s != nil {
		title = "Subscription"
	}
	d := u.showForm(parent, title, f, fyne.NewSize(760, 620))
	f.OnCancel = d.Hide
	f.OnCreateKey = func(baseURL, serial string) { u.createDiagralKey(parent, f, baseURL, serial) }
	f.OnSubmit = func(c hook.SubscriptionChange) {
		u.submitFormIn(parent, f, func(ctx context.Context) (err error) {
			if s == nil {
				_, err = u.svc.Subscriptions.Create(ctx, c)
			} else {
				_, err = u.svc.Subscriptions.Update(ctx, s.ID, c)
			}
			return err
		}, func() {
			d.Hide()
			u.say("Subscription saved; registering at the provider")
			if u.subscriptions != nil {
				u.subscriptions.reload()
			}
		})
	}
}

// createDiagralKey makes the API key and secret of a Diagral system from the user's account and
// puts them in the form; the password is used for that only, never kept.
func (u *UI) createDiagralKey(parent fyne.Window, f *forms.Subscription, baseURL, serial string) {
	email := widget.NewEntry()
	password := widget.NewPasswordEntry()
	dialog.ShowForm("Diagral account", "Create key", "Cancel", []*widget.FormItem{
		{Text: "E-mail", Widget: email}, {Text: "Password", Widget: password, HintText: "used once to create the key, never stored"},
	}, func(ok bool) {
		if !ok {
			return
		}
		var key, secret string
		addr, pw := strings.TrimSpace(email.Text), password.Text
		u.background(func() (err error) {
			key, secret, err = u.svc.Subscriptions.DiagralKeys(context.Background(), baseURL, addr, pw, serial)
			return err
		}, func() {
			f.SetValue("api_key", key)
			f.SetValue("secret_key", secret)
			u.say("Diagral API key created; save to register")
		})
	}, parent)
}
