package ui

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/dialog"
	"fyne.io/fyne/v2/layout"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"

	"github.com/hooktray/hooktray/app/verify"
	"github.com/hooktray/hooktray/hook"
)

var notifyChoices = []string{"Alerts only", "Every event", "Never"}

var notifyValues = map[string]string{
	"Alerts only": hook.NotifyAlerts, "Every event": hook.NotifyEvery, "Never": hook.NotifyNever,
}

// editor is the endpoint editor: create a new endpoint or change, copy the URLs of, and delete an
// existing one. Invalid fields say why next to themselves.
type editor struct {
	u        *UI
	existing *hook.Endpoint
	// OnSaved is called with the endpoint after a successful save.
	OnSaved func(ep hook.Endpoint)

	name, status, contentType, body, limit, notes, alertTypes *widget.Entry
	// Routing (seed 001): a router reads a value by key path or query parameter and passes the
	// request to the endpoints whose keys hold it.
	routeBy            *widget.Select
	routeValue, keys   *widget.Entry
	notifyOn           *widget.Select
	scheme, verifyMode *widget.Select
	secret, sigHeader  *widget.Entry
	form               *widget.Form
	save               *widget.Button
	dlg                dialog.Dialog
}

// editEndpoint opens the editor; ep nil creates a new endpoint.
func (u *UI) editEndpoint(ep *hook.Endpoint) *editor {
	e := &editor{u: u, existing: ep, OnSaved: func(ep hook.Endpoint) { u.endpoints.selectEndpoint(ep.ID) }}
	defaults := hook.NewEndpoint("")
	if ep == nil {
		ep = &defaults
	}
	e.name = widget.NewEntry()
	e.name.SetPlaceHolder("e.g. Alarm, GitHub, Home Assistant")
	e.name.SetText(ep.Name)
	e.name.Validator = func(s string) error {
		switch s = strings.TrimSpace(s); {
		case s == "":
			return errors.New("a name is required")
		case len([]rune(s)) > 100:
			return errors.New("at most 100 characters")
		}
		return nil
	}
	e.status = widget.NewEntry()
	e.status.SetText(strconv.Itoa(ep.ResponseStatus))
	e.status.Validator = func(s string) error {
		if n, err := strconv.Atoi(strings.TrimSpace(s)); err != nil || n < 200 || n > 599 {
			return errors.New("an HTTP status from 200 to 599")
		}
		return nil
	}
	e.contentType = widget.NewEntry()
	e.contentType.SetText(ep.ResponseContentType)
	e.contentType.Validator = func(s string) error {
		if strings.TrimSpace(s) == "" {
			return errors.New("a content type, such as application/json")
		}
		return nil
	}
	e.body = widget.NewMultiLineEntry()
	e.body.SetText(string(ep.ResponseBody))
	e.body.SetMinRowsVisible(2)
	e.limit = widget.NewEntry()
	e.limit.SetText(strconv.FormatFloat(float64(ep.BodyLimit)/(1<<20), 'f', -1, 64))
	e.limit.Validator = func(s string) error {
		if _, err := parseMiB(s); err != nil {
			return err
		}
		return nil
	}
	e.notes = widget.NewMultiLineEntry()
	e.notes.SetText(ep.Notes)
	e.notes.SetMinRowsVisible(2)
	e.notifyOn = widget.NewSelect(notifyChoices, nil)
	for label, v := range notifyValues {
		if v == ep.Settings.NotifyOn {
			e.notifyOn.SetSelected(label)
		}
	}
	e.routeBy = widget.NewSelect([]string{routeNone, routeKeyPath, routeQuery}, nil)
	e.routeValue = widget.NewEntry()
	switch {
	case ep.Settings.Route.KeyPath != "":
		e.routeBy.SetSelected(routeKeyPath)
		e.routeValue.SetText(ep.Settings.Route.KeyPath)
	case ep.Settings.Route.QueryParam != "":
		e.routeBy.SetSelected(routeQuery)
		e.routeValue.SetText(ep.Settings.Route.QueryParam)
	default:
		e.routeBy.SetSelected(routeNone)
	}
	e.routeValue.SetPlaceHolder("headers['X-Device-Id'] or body.device_id; or a parameter such as homey")
	e.keys = widget.NewEntry()
	e.keys.SetText(strings.Join(ep.Settings.Keys, ", "))
	e.keys.SetPlaceHolder("values a router passes to this endpoint, comma separated")
	e.alertTypes = widget.NewEntry()
	e.alertTypes.SetText(strings.Join(ep.Settings.AlertTypes, ", "))
	e.alertTypes.SetPlaceHolder("ALERT, ANOMALY")

	schemes := []string{"none"}
	for _, s := range hook.Schemes {
		schemes = append(schemes, string(s))
	}
	e.scheme = widget.NewSelect(schemes, nil)
	e.scheme.SetSelected("none")
	if ep.VerifyScheme != hook.SchemeNone {
		e.scheme.SetSelected(string(ep.VerifyScheme))
	}
	e.verifyMode = widget.NewSelect([]string{string(hook.VerifyEnforce), string(hook.VerifyAnnotate), string(hook.VerifyOff)}, nil)
	e.verifyMode.SetSelected(string(hook.VerifyEnforce))
	if ep.VerifyMode != "" && ep.VerifyScheme != hook.SchemeNone {
		e.verifyMode.SetSelected(string(ep.VerifyMode))
	}
	e.secret = widget.NewPasswordEntry()
	e.secret.SetPlaceHolder("paste the provider's secret, or Generate")
	if e.existing != nil && ep.VerifyScheme != hook.SchemeNone {
		e.secret.SetPlaceHolder("set (paste one to replace it)")
	}
	e.sigHeader = widget.NewEntry()
	e.sigHeader.SetText(ep.Settings.Verify.Header)
	e.sigHeader.SetPlaceHolder("hmac / shared-secret: e.g. X-Signature")
	generate := widget.NewButton("Generate", func() {
		if e.scheme.Selected != "none" {
			e.secret.SetText(verify.NewSecret(hook.Scheme(e.scheme.Selected)))
			e.secret.Password = false
			e.secret.Refresh()
		}
	})
	secretRow := container.NewBorder(nil, nil, nil, generate, e.secret)
	if e.existing != nil && ep.VerifyScheme != hook.SchemeNone {
		id := e.existing.ID
		rotate := widget.NewButton("Rotate", func() {
			e.u.background(func() error {
				s, err := e.u.svc.Endpoints.RotateSecret(context.Background(), id)
				if err == nil {
					e.u.do(func() {
						e.secret.SetText(s)
						e.secret.Password = false
						e.secret.Refresh()
						e.u.say("New secret shown in the editor; the previous one stays valid for an hour")
					})
				}
				return err
			}, nil)
		})
		secretRow = container.NewBorder(nil, nil, nil, container.NewHBox(generate, rotate), e.secret)
	}

	e.form = widget.NewForm(
		widget.NewFormItem("Name", e.name),
		&widget.FormItem{Text: "Answer with", Widget: e.status, HintText: "HTTP status sent to the provider"},
		widget.NewFormItem("Content type", e.contentType),
		&widget.FormItem{Text: "Response body", Widget: e.body},
		&widget.FormItem{Text: "Body limit (MiB)", Widget: e.limit, HintText: "larger requests are refused with 413"},
		&widget.FormItem{Text: "Notify on", Widget: e.notifyOn},
		&widget.FormItem{Text: "Alert types", Widget: e.alertTypes, HintText: "event types that count as alerts, comma separated"},
		&widget.FormItem{Text: "Route by", Widget: container.NewBorder(nil, nil, e.routeBy, nil, e.routeValue),
			HintText: "a router passes each request to the endpoints whose keys hold this value"},
		&widget.FormItem{Text: "Keys", Widget: e.keys, HintText: "this endpoint's values for routers ($key / $keys)"},
		&widget.FormItem{Text: "Verify", Widget: container.NewGridWithColumns(2, e.scheme, e.verifyMode), HintText: "the provider's signature scheme; enforce answers 401 to a bad signature"},
		&widget.FormItem{Text: "Secret", Widget: secretRow},
		&widget.FormItem{Text: "Signature header", Widget: e.sigHeader},
		widget.NewFormItem("Notes", e.notes),
	)
	e.form.SetOnValidationChanged(func(err error) {
		if err != nil {
			e.save.Disable()
		} else {
			e.save.Enable()
		}
	})

	title := "New endpoint"
	saveLabel := "Create"
	var top fyne.CanvasObject = layout.NewSpacer()
	if e.existing != nil {
		title, saveLabel = "Edit "+e.existing.Name, "Save"
		top = e.urlBox(e.existing.ID)
	}
	e.save = widget.NewButtonWithIcon(saveLabel, theme.ConfirmIcon(), e.submit)
	e.save.Importance = widget.HighImportance
	cancel := widget.NewButton("Cancel", func() { e.dlg.Hide() })
	buttons := container.NewHBox(layout.NewSpacer(), cancel, e.save)
	if e.existing != nil {
		del := widget.NewButtonWithIcon("Delete…", theme.DeleteIcon(), e.confirmDelete)
		del.Importance = widget.DangerImportance
		id := e.existing.ID
		label := "Forwarding…"
		if ts, err := u.svc.Forwarding.Targets(id); err == nil && len(ts) > 0 {
			label = fmt.Sprintf("Forwarding (%d)…", len(ts))
		}
		fwd := widget.NewButtonWithIcon(label, theme.MailForwardIcon(), func() { e.dlg.Hide(); u.showForwarding(id) })
		subs := widget.NewButtonWithIcon("Subscriptions…", theme.MailComposeIcon(), func() { e.dlg.Hide(); u.showSubscriptions(id) })
		buttons.Objects = append([]fyne.CanvasObject{del, fwd, subs}, buttons.Objects...)
	}
	content := container.NewBorder(top, buttons, nil, nil, e.form)
	e.dlg = dialog.NewCustomWithoutButtons(title, content, u.win)
	e.dlg.Resize(fyne.NewSize(660, 700))
	e.dlg.Show()
	u.win.Canvas().Focus(e.name)
	return e
}

// urlBox shows an endpoint's local and public URLs with copy buttons.
func (e *editor) urlBox(id string) fyne.CanvasObject {
	local := e.u.svc.Endpoints.URL(id)
	rows := []fyne.CanvasObject{urlRow(e.u, "Local URL", local)}
	if public := e.u.svc.Endpoints.PublicURL(id); public != "" {
		rows = append(rows, urlRow(e.u, "Public URL", public))
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

func parseMiB(s string) (int64, error) {
	f, err := strconv.ParseFloat(strings.TrimSpace(s), 64)
	if err != nil || f <= 0 {
		return 0, errors.New("a size in MiB, such as 10 or 0.5")
	}
	n := int64(f * (1 << 20))
	if n < 1 || n > hook.MaxBodyLimit {
		return 0, fmt.Errorf("between 1 byte and %d MiB", hook.MaxBodyLimit>>20)
	}
	return n, nil
}

// change is what the form says, as an EndpointChange.
func (e *editor) change() (hook.EndpointChange, error) {
	if err := e.form.Validate(); err != nil {
		return hook.EndpointChange{}, err
	}
	name := strings.TrimSpace(e.name.Text)
	status, _ := strconv.Atoi(strings.TrimSpace(e.status.Text))
	ct := strings.TrimSpace(e.contentType.Text)
	body := e.body.Text
	limit, _ := parseMiB(e.limit.Text)
	notes := e.notes.Text
	notify := notifyValues[e.notifyOn.Selected]
	if notify == "" {
		notify = hook.NotifyAlerts
	}
	types := strings.Split(e.alertTypes.Text, ",")
	c := hook.EndpointChange{Name: &name, ResponseStatus: &status, ResponseContentType: &ct,
		ResponseBody: &body, BodyLimit: &limit, Notes: &notes, NotifyOn: &notify, AlertTypes: &types}
	scheme, mode, header := hook.Scheme(e.scheme.Selected), hook.VerifyMode(e.verifyMode.Selected), e.sigHeader.Text
	if e.scheme.Selected == "none" {
		scheme, mode = hook.SchemeNone, hook.VerifyOff
	}
	c.Verify = &hook.VerifyChange{Scheme: &scheme, Mode: &mode, Header: &header}
	route := hook.RouteSettings{}
	switch e.routeBy.Selected {
	case routeKeyPath:
		route.KeyPath = strings.TrimSpace(e.routeValue.Text)
	case routeQuery:
		route.QueryParam = strings.TrimSpace(e.routeValue.Text)
	}
	keys := []string{}
	for _, k := range strings.Split(e.keys.Text, ",") {
		if k = strings.TrimSpace(k); k != "" {
			keys = append(keys, k)
		}
	}
	c.Route, c.Keys = &route, &keys
	if secret := strings.TrimSpace(e.secret.Text); secret != "" {
		c.Secret = &secret
	}
	return c, nil
}

func (e *editor) submit() {
	c, err := e.change()
	if err != nil {
		return // the form shows which field and why
	}
	e.save.Disable()
	go func() {
		var ep hook.Endpoint
		var err error
		if e.existing == nil {
			ep, err = e.u.svc.Endpoints.Create(context.Background(), c)
		} else {
			ep, err = e.u.svc.Endpoints.Update(context.Background(), e.existing.ID, c)
		}
		e.u.do(func() {
			e.save.Enable()
			var fe *hook.FieldError
			switch {
			case errors.As(err, &fe):
				e.fieldError(fe)
			case err != nil:
				e.u.showError(err)
			default:
				e.dlg.Hide()
				e.OnSaved(ep)
				if e.existing == nil {
					e.u.say("Created " + ep.Name + ": send webhooks to " + e.u.bestURL(ep.ID))
				}
			}
		})
	}()
}

// Route choices in the editor.
const (
	routeNone    = "not a router"
	routeKeyPath = "key path"
	routeQuery   = "query parameter"
)

// fieldError shows a validation error from the hub next to its field.
func (e *editor) fieldError(fe *hook.FieldError) {
	entry := map[string]*widget.Entry{
		"name": e.name, "response_status": e.status, "response_content_type": e.contentType,
		"response_body": e.body, "body_limit": e.limit, "notes": e.notes, "alert_types": e.alertTypes,
		"route": e.routeValue, "route.key_path": e.routeValue, "route.query_param": e.routeValue, "keys": e.keys,
		"verify.header": e.sigHeader, "secret": e.secret,
	}[fe.Field]
	if entry == nil {
		e.u.showError(fe)
		return
	}
	entry.SetValidationError(errors.New(fe.Message))
}

func (e *editor) confirmDelete() {
	ep := e.existing
	msg := "Its URL will answer 410 Gone from now on. Its events stay in the history.\nThis cannot be undone."
	if subs := e.u.svc.Subscriptions.List(ep.ID); len(subs) > 0 {
		var names []string
		for _, s := range subs {
			names = append(names, s.Provider)
		}
		msg = "Its subscriptions at " + strings.Join(names, ", ") + " are unregistered first.\n" + msg
	}
	dialog.ShowConfirm("Delete "+ep.Name+"?", msg,
		func(ok bool) {
			if !ok {
				return
			}
			e.u.background(func() error { return e.u.svc.Endpoints.Delete(context.Background(), ep.ID) }, func() {
				e.dlg.Hide()
				e.u.say("Deleted " + ep.Name)
			})
		}, e.u.win)
}
