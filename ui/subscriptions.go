package ui

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/dialog"
	"fyne.io/fyne/v2/layout"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"

	"github.com/hooktray/hooktray/hook"
)

// providers are the subscription providers, in the order the app offers them.
var providers = []string{"diagral", "device-platform-v2", "homecast", "github", "stripe", "http"}

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
	detail   *widget.Label
	buttons  []*widget.Button
	pending  bool                // a reload is under way
	again    bool                // something changed during it: reload once more after
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
	u.subscriptions = v
	v.win = u.app.NewWindow("Hooktray — subscriptions")
	v.title = widget.NewLabelWithStyle("", fyne.TextAlignLeading, fyne.TextStyle{Bold: true})
	v.detail = widget.NewLabel("")
	v.detail.Wrapping = fyne.TextWrapWord
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
			setTwoLines(o, u.endpoints.name(s.EndpointID)+": "+s.Provider, subscriptionLine(s), importance)
		})
	v.list.OnSelected = func(i widget.ListItemID) {
		if i < len(v.subs) {
			v.selected = v.subs[i].ID
			v.show()
		}
	}
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
	test := widget.NewButtonWithIcon("Send test", theme.MailSendIcon(), func() {
		id := v.selected
		var ev hook.Event
		u.background(func() (err error) {
			ev, err = u.svc.Subscriptions.Test(context.Background(), id)
			return err
		}, func() {
			dialog.ShowInformation("Test delivery arrived", fmt.Sprintf("The provider's test arrived as event %d (%s), signature %s.",
				ev.ID, ev.Type, ev.Verification.Result), v.win)
		})
	})
	edit := widget.NewButtonWithIcon("Edit…", theme.DocumentCreateIcon(), func() {
		for _, s := range v.subs {
			if s.ID == v.selected {
				u.editSubscription(v.win, s.EndpointID, &s)
			}
		}
	})
	remove := widget.NewButtonWithIcon("Remove", theme.DeleteIcon(), func() {
		id := v.selected
		dialog.ShowConfirm("Remove this subscription?", "Hooktray unregisters it at the provider first, then forgets it.", func(ok bool) {
			if ok {
				u.background(func() error { return u.svc.Subscriptions.Delete(context.Background(), id) }, func() { v.selected = ""; v.reload() })
			}
		}, v.win)
	})
	remove.Importance = widget.DangerImportance
	v.buttons = []*widget.Button{register, unregister, test, edit, remove}
	add := widget.NewButtonWithIcon("Add subscription…", theme.ContentAddIcon(), func() { u.editSubscription(v.win, v.endpoint, nil) })
	add.Importance = widget.HighImportance
	left := container.NewBorder(container.NewBorder(nil, nil, widget.NewLabelWithStyle("Subscriptions", fyne.TextAlignLeading, fyne.TextStyle{Bold: true}), add),
		nil, nil, nil, v.list)
	right := container.NewBorder(container.NewVBox(v.title, container.NewHBox(register, unregister, test, layout.NewSpacer(), edit, remove)), nil, nil, nil,
		container.NewVScroll(v.detail))
	split := container.NewHSplit(left, right)
	split.Offset = 0.35
	v.win.SetContent(split)
	v.win.Resize(fyne.NewSize(1000, 520))
	v.win.SetOnClosed(func() { u.subscriptions = nil })
	v.win.Show()
	v.reload()
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

func (v *subscriptionsView) reload() {
	if v.pending {
		v.again = true
		return
	}
	v.pending = true
	endpoint := v.endpoint
	go func() {
		subs := v.u.svc.Subscriptions.List(endpoint)
		secrets := map[string][]string{}
		for _, s := range subs {
			secrets[s.ID] = v.u.svc.Subscriptions.SecretsSet(context.Background(), s)
		}
		v.u.do(func() {
			v.pending = false
			if v.again {
				v.again = false
				defer v.reload()
			}
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
		})
	}()
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
		v.detail.SetText("A subscription registers an endpoint's public URL with a provider (Diagral, a device platform, Homecast, GitHub, Stripe, or any REST API), and registers it again whenever the URL changes.")
		return
	}
	s := *cur
	lines := []string{"Status: " + subscriptionLine(s)}
	if s.RemoteID != "" {
		lines = append(lines, "The provider's id: "+s.RemoteID)
	}
	if f := s.Forced; f != nil {
		from := "another URL (the provider did not say which)"
		if f.From != "" {
			from = f.From
		}
		lines = append(lines, fmt.Sprintf("Forced to this URL on %s, from %s", f.At.Local().Format("2006-01-02 15:04:05"), from))
	}
	if !s.LastCheckedAt.IsZero() {
		lines = append(lines, "Last checked: "+s.LastCheckedAt.Local().Format("2006-01-02 15:04:05"))
	}
	for _, k := range sortedKeys(s.Settings) {
		lines = append(lines, fmt.Sprintf("%s: %v", k, s.Settings[k]))
	}
	if set := v.secrets[s.ID]; len(set) > 0 {
		lines = append(lines, "Secrets (sealed, never shown): "+strings.Join(set, ", "))
	}
	v.title.SetText(v.u.endpoints.name(s.EndpointID) + ": " + s.Provider)
	v.detail.SetText(strings.Join(lines, "\n"))
}

// editSubscription opens the form that adds a subscription (s nil) or changes one; the provider's
// fields come from the core, secrets as masked entries that are never filled in.
func (u *UI) editSubscription(parent fyne.Window, endpointID string, s *hook.Subscription) {
	endpoints := u.svc.Endpoints.List()
	var names []string
	byName := map[string]string{}
	for _, ep := range endpoints {
		names = append(names, ep.Name)
		byName[ep.Name] = ep.ID
	}
	endpoint := widget.NewSelect(names, nil)
	provider := widget.NewSelect(providers, nil)
	for _, ep := range endpoints {
		if ep.ID == endpointID {
			endpoint.SetSelected(ep.Name)
		}
	}
	provider.SetSelected("diagral")
	if s != nil {
		provider.SetSelected(s.Provider)
		endpoint.Disable()
		provider.Disable()
	}
	form := widget.NewForm()
	values := map[string]func() (any, bool){} // each field's value, and whether it was given
	var secretsSet []string
	if s != nil && u.subscriptions != nil {
		secretsSet = u.subscriptions.secrets[s.ID] // read in the background with the list
	}
	build := func() {
		form.Items = []*widget.FormItem{{Text: "Endpoint", Widget: endpoint}, {Text: "Provider", Widget: provider}}
		values = map[string]func() (any, bool){}
		fields, base, err := u.svc.Subscriptions.Fields(provider.Selected)
		if err != nil {
			form.Refresh()
			return
		}
		fields = append(fields, hook.ProviderField{Key: "base_url", Label: "API address", Help: "default: " + orNone(base), Kind: hook.FieldText})
		for _, f := range fields {
			var cur any
			if s != nil {
				cur = s.Settings[f.Key]
			}
			if cur == nil {
				cur = f.Default
			}
			item := &widget.FormItem{Text: f.Label, HintText: f.Help}
			key := f.Key
			switch {
			case f.Kind == hook.FieldBool:
				c := widget.NewCheck("", nil)
				b, _ := cur.(bool)
				c.SetChecked(b)
				item.Widget = c
				values[key] = func() (any, bool) { return c.Checked, true }
			case f.Secret:
				e := widget.NewPasswordEntry()
				e.SetPlaceHolder("required")
				for _, k := range secretsSet {
					if k == key {
						e.SetPlaceHolder("stored (sealed); type to replace")
					}
				}
				item.Widget = e
				values[key] = func() (any, bool) { return e.Text, e.Text != "" }
			default:
				e := widget.NewEntry()
				e.SetText(settingText(cur))
				if f.Kind == hook.FieldText && strings.Contains(f.Key, "body") {
					e.MultiLine = true
				}
				item.Widget = e
				kind := f.Kind
				values[key] = func() (any, bool) { return parseSetting(kind, e.Text) }
			}
			form.Items = append(form.Items, item)
		}
		form.Refresh()
	}
	build()
	// Diagral: the API key can be made from the account, once; the password is not kept.
	makeKey := widget.NewButtonWithIcon("Create the API key from my Diagral account…", theme.LoginIcon(), func() {
		email := widget.NewEntry()
		password := widget.NewPasswordEntry()
		dialog.ShowForm("Diagral account", "Create key", "Cancel", []*widget.FormItem{
			{Text: "E-mail", Widget: email}, {Text: "Password", Widget: password, HintText: "used once to create the key, never stored"},
		}, func(ok bool) {
			if !ok {
				return
			}
			text := func(key string) string {
				if get, ok := values[key]; ok {
					v, _ := get()
					s, _ := v.(string)
					return s
				}
				return ""
			}
			serialText, baseText := text("serial_id"), text("base_url")
			var key, secret string
			pw := password.Text
			u.background(func() (err error) {
				key, secret, err = u.svc.Subscriptions.DiagralKeys(context.Background(), baseText, strings.TrimSpace(email.Text), pw, serialText)
				return err
			}, func() {
				values["api_key"] = func() (any, bool) { return key, true }
				values["secret_key"] = func() (any, bool) { return secret, true }
				u.say("Diagral API key created; save to register")
			})
		}, parent)
	})
	var d dialog.Dialog
	save := widget.NewButtonWithIcon("Save and register", theme.ConfirmIcon(), func() {
		settings := map[string]any{}
		for k, get := range values {
			if v, ok := get(); ok {
				settings[k] = v
			}
		}
		epID := byName[endpoint.Selected]
		prov := provider.Selected
		go func() {
			var err error
			if s == nil {
				_, err = u.svc.Subscriptions.Create(context.Background(), hook.SubscriptionChange{EndpointID: &epID, Provider: &prov, Settings: settings})
			} else {
				_, err = u.svc.Subscriptions.Update(context.Background(), s.ID, hook.SubscriptionChange{Settings: settings})
			}
			u.do(func() {
				var fe *hook.FieldError
				switch {
				case errors.As(err, &fe):
					dialog.ShowError(fmt.Errorf("%s: %s", fe.Field, fe.Message), parent)
				case err != nil:
					dialog.ShowError(err, parent)
				default:
					d.Hide()
					u.say("Subscription saved; registering at the provider")
					if u.subscriptions != nil {
						u.subscriptions.reload()
					}
				}
			})
		}()
	})
	save.Importance = widget.HighImportance
	cancel := widget.NewButtonWithIcon("Cancel", theme.CancelIcon(), func() { d.Hide() })
	title := "Add a subscription"
	if s != nil {
		title = "Subscription"
	}
	keyBox := container.NewHBox(makeKey)
	showKey := func() {
		if provider.Selected == "diagral" {
			keyBox.Show()
		} else {
			keyBox.Hide()
		}
	}
	provider.OnChanged = func(string) { build(); showKey() }
	showKey()
	d = dialog.NewCustomWithoutButtons(title, container.NewBorder(nil, container.NewHBox(keyBox, layout.NewSpacer(), cancel, save), nil, nil,
		container.NewVScroll(form)), parent)
	d.Resize(fyne.NewSize(760, 620))
	d.Show()
}

func orNone(s string) string {
	if s == "" {
		return "none: give it"
	}
	return s
}

// settingText writes a setting's value for an entry.
func settingText(v any) string {
	switch x := v.(type) {
	case nil:
		return ""
	case []any:
		var parts []string
		for _, p := range x {
			parts = append(parts, settingText(p))
		}
		return strings.Join(parts, ", ")
	case float64:
		return strconv.FormatFloat(x, 'f', -1, 64)
	}
	return fmt.Sprint(v)
}

// parseSetting reads an entry back by the field's kind; empty means not given.
func parseSetting(kind hook.FieldKind, text string) (any, bool) {
	text = strings.TrimSpace(text)
	if text == "" {
		return nil, false
	}
	switch kind {
	case hook.FieldNumber:
		f, err := strconv.ParseFloat(text, 64)
		return f, err == nil
	case hook.FieldList, hook.FieldNumbers:
		var out []any
		for _, p := range strings.Split(text, ",") {
			if p = strings.TrimSpace(p); p == "" {
				continue
			}
			if kind == hook.FieldNumbers {
				f, err := strconv.ParseFloat(p, 64)
				if err != nil {
					return nil, false
				}
				out = append(out, f)
			} else {
				out = append(out, p)
			}
		}
		return out, true
	}
	return text, true
}
