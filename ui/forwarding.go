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

// forwardingView is the Forwarding window: every target with its health, and the selected
// target's deliveries (retrying ones with their next attempt, dead letters with Retry and Retry
// all). It loads in the background and follows hook.TargetsChanged and DeliveriesChanged.
type forwardingView struct {
	u        *UI
	win      fyne.Window
	endpoint string // only this endpoint's targets ("" for all)

	targets    []hook.Target
	selected   string
	deliveries []hook.Delivery
	targetList *widget.List
	table      *widget.List
	title      *widget.Label
	health     *widget.Label
	resume     *widget.Button
	reregister *widget.Button // for a Home Assistant registration Hooktray made, once deleted
	retryAll   *widget.Button
	edit       *widget.Button
	remove     *widget.Button
	test       *widget.Button
	filter     *widget.Select
	pending    bool      // a reload is under way or scheduled
	again      bool      // something changed during it: reload once more after
	loaded     time.Time // when the last reload started
}

var deliveryFilters = []string{"All", "Retrying", "Dead letters", "Failed", "Delivered"}

func filterStatus(label string) hook.DeliveryStatus {
	switch label {
	case "Retrying":
		return hook.DeliveryRetrying
	case "Dead letters":
		return hook.DeliveryDeadLetter
	case "Failed":
		return hook.DeliveryFailed
	case "Delivered":
		return hook.DeliverySuccess
	}
	return ""
}

// showForwarding opens (or brings up) the Forwarding window, on one endpoint's targets when
// endpointID is set.
func (u *UI) showForwarding(endpointID string) {
	if v := u.forwarding; v != nil {
		v.endpoint = endpointID
		v.win.Show()
		v.win.RequestFocus()
		v.reload()
		return
	}
	v := &forwardingView{u: u, endpoint: endpointID}
	u.forwarding = v
	v.win = u.app.NewWindow("Hooktray — forwarding")
	v.title = widget.NewLabelWithStyle("", fyne.TextAlignLeading, fyne.TextStyle{Bold: true})
	v.title.Truncation = fyne.TextTruncateEllipsis
	v.health = widget.NewLabel("")
	v.health.Wrapping = fyne.TextWrapWord
	v.targetList = widget.NewList(func() int { return len(v.targets) }, twoLines,
		func(i widget.ListItemID, o fyne.CanvasObject) {
			if i >= len(v.targets) {
				return
			}
			t := v.targets[i]
			importance := widget.MediumImportance
			if t.State != hook.TargetActive || !t.Enabled {
				importance = widget.WarningImportance
			}
			setTwoLines(o, u.endpoints.name(t.EndpointID)+": "+targetWhere(t), targetHealth(t), importance)
		})
	v.targetList.OnSelected = func(i widget.ListItemID) {
		if i < len(v.targets) {
			v.selected = v.targets[i].ID
			v.reloadDeliveries()
		}
	}
	v.table = widget.NewList(func() int { return len(v.deliveries) }, v.deliveryRow, v.updateDeliveryRow)
	v.filter = widget.NewSelect(deliveryFilters, nil)
	v.filter.SetSelected("All")
	v.filter.OnChanged = func(string) { v.reloadDeliveries() }
	v.resume = widget.NewButtonWithIcon("Resume", theme.MediaPlayIcon(), func() {
		id := v.selected
		u.background(func() error { _, err := u.svc.Forwarding.ResumeTarget(context.Background(), id); return err }, v.reload)
	})
	v.reregister = widget.NewButtonWithIcon("Register again", theme.ViewRefreshIcon(), func() { u.reregister(v.selected) })
	v.reregister.Importance = widget.HighImportance
	v.reregister.Hide()
	v.retryAll = widget.NewButtonWithIcon("Retry all dead letters", theme.ViewRefreshIcon(), func() {
		id := v.selected
		var n int64
		u.background(func() (err error) {
			n, err = u.svc.Forwarding.RetryDeliveries(context.Background(), id, hook.DeliveryDeadLetter)
			return err
		}, func() { u.say(fmt.Sprintf("%d dead letters are due again, in their order", n)); v.reload() })
	})
	v.edit = widget.NewButtonWithIcon("Edit…", theme.DocumentCreateIcon(), func() {
		for _, t := range v.targets {
			if t.ID == v.selected {
				u.editTarget(v.win, t.EndpointID, &t)
			}
		}
	})
	v.test = widget.NewButtonWithIcon("Send test event", theme.MailSendIcon(), func() {
		for _, t := range v.targets {
			if t.ID == v.selected {
				u.sendTest(v.win, t.EndpointID)
			}
		}
	})
	v.remove = widget.NewButtonWithIcon("Remove", theme.DeleteIcon(), func() {
		id := v.selected
		dialog.ShowConfirm("Remove this target?", "Its deliveries still to make end as failed; the history stays.", func(ok bool) {
			if ok {
				u.background(func() error { return u.svc.Forwarding.DeleteTarget(context.Background(), id) }, func() { v.selected = ""; v.reload() })
			}
		}, v.win)
	})
	v.remove.Importance = widget.DangerImportance
	add := widget.NewButtonWithIcon("Add target…", theme.ContentAddIcon(), func() { u.editTarget(v.win, v.endpoint, nil) })
	add.Importance = widget.HighImportance
	left := container.NewBorder(container.NewBorder(nil, nil, widget.NewLabelWithStyle("Targets", fyne.TextAlignLeading, fyne.TextStyle{Bold: true}), add),
		nil, nil, nil, v.targetList)
	actions := container.NewHBox(v.reregister, v.resume, v.retryAll, v.test, layout.NewSpacer(), v.edit, v.remove)
	right := container.NewBorder(container.NewVBox(v.title, v.health, actions, container.NewHBox(widget.NewLabel("Deliveries"), v.filter)),
		nil, nil, nil, v.table)
	split := container.NewHSplit(left, right)
	split.Offset = 0.32
	v.win.SetContent(split)
	v.win.Resize(fyne.NewSize(1100, 620))
	v.win.SetOnClosed(func() { u.forwarding = nil })
	v.win.Show()
	v.reload()
}

func targetWhere(t hook.Target) string {
	switch t.Kind {
	case hook.TargetHomeAssistant:
		if t.HomeAssistant != nil {
			return "Home Assistant " + t.HomeAssistant.WebhookID
		}
	case hook.TargetCommand:
		if t.Command != nil {
			return strings.Join(t.Command.Argv, " ")
		}
	}
	return t.URL
}

// registrationGone reports whether t is a Home Assistant registration Hooktray made that the
// instance no longer has (it answered 410): Hooktray can register again.
func registrationGone(t hook.Target) bool {
	return t.Kind == hook.TargetHomeAssistant && t.HomeAssistant != nil && t.HomeAssistant.Registered &&
		!t.Enabled && t.State == hook.TargetDisabled
}

// reregister registers a Home Assistant target again, in the background.
func (u *UI) reregister(id string) {
	u.background(func() error {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		_, err := u.svc.Forwarding.ReregisterTarget(ctx, id)
		return err
	}, func() {
		u.say("Registered with Home Assistant again")
		if u.forwarding != nil {
			u.forwarding.reload()
		}
		u.tray.refresh()
	})
}

// targetHealth says how a target is doing, in a line.
func targetHealth(t hook.Target) string {
	switch {
	case !t.Enabled && t.State == hook.TargetDisabled && t.StateReason != "":
		return "Disabled: " + t.StateReason
	case !t.Enabled:
		return "Off"
	case t.State == hook.TargetPaused:
		return "Paused: " + t.StateReason
	case t.ConsecutiveFailures > 0:
		return fmt.Sprintf("Failing (%d in a row): %s", t.ConsecutiveFailures, t.LastError)
	}
	return "Active"
}

// reload reads the targets and the selected one's deliveries in the background; calls that
// come in a burst are folded into one.
func (v *forwardingView) reload() {
	if v.pending {
		v.again = true
		return
	}
	v.pending = true
	// At most a few reloads a second while deliveries stream by.
	if wait := 300*time.Millisecond - time.Since(v.loaded); wait > 0 {
		time.AfterFunc(wait, func() { v.u.do(func() { v.pending = false; v.reload() }) })
		return
	}
	v.loaded = time.Now()
	endpoint := v.endpoint
	go func() {
		var targets []hook.Target
		var err error
		if endpoint == "" {
			targets = v.u.svc.Forwarding.AllTargets()
		} else {
			targets, err = v.u.svc.Forwarding.Targets(endpoint)
		}
		v.u.do(func() {
			v.pending = false
			if v.again {
				v.again = false
				defer v.reload()
			}
			if err != nil {
				v.u.showError(err)
				return
			}
			v.targets = targets
			v.targetList.Refresh()
			found := false
			for i, t := range targets {
				if t.ID == v.selected {
					found = true
					v.targetList.Select(i)
				}
			}
			if !found && len(targets) > 0 {
				v.targetList.Select(0)
				return
			}
			v.reloadDeliveries()
		})
	}()
}

func (v *forwardingView) current() (hook.Target, bool) {
	for _, t := range v.targets {
		if t.ID == v.selected {
			return t, true
		}
	}
	return hook.Target{}, false
}

func (v *forwardingView) reloadDeliveries() {
	t, ok := v.current()
	for _, b := range []*widget.Button{v.resume, v.retryAll, v.edit, v.remove, v.test} {
		if ok {
			b.Enable()
		} else {
			b.Disable()
		}
	}
	if !ok {
		v.title.SetText("No forwarding targets yet")
		v.health.SetText("Add one to pass this endpoint's webhooks on to a local server, Home Assistant or a program.")
		v.deliveries = nil
		v.table.Refresh()
		return
	}
	v.title.SetText(v.u.endpoints.name(t.EndpointID) + ": " + targetWhere(t))
	v.health.SetText(targetHealth(t))
	if t.State == hook.TargetActive && t.Enabled {
		v.resume.Disable()
	}
	if registrationGone(t) {
		v.reregister.Show()
	} else {
		v.reregister.Hide()
	}
	q := hook.DeliveryQuery{TargetID: t.ID, Status: filterStatus(v.filter.Selected), Limit: 500}
	go func() {
		ds, _, err := v.u.svc.History.Deliveries(context.Background(), q)
		v.u.do(func() {
			if err != nil || v.selected != q.TargetID {
				return
			}
			v.deliveries = ds
			v.table.Refresh()
		})
	}()
}

func (v *forwardingView) deliveryRow() fyne.CanvasObject {
	line := widget.NewLabel("")
	line.Truncation = fyne.TextTruncateEllipsis
	detail := widget.NewLabel("")
	detail.Truncation = fyne.TextTruncateEllipsis
	detail.SizeName = theme.SizeNameCaptionText
	retry := widget.NewButtonWithIcon("Retry", theme.ViewRefreshIcon(), nil)
	return container.NewBorder(nil, nil, nil, retry, container.NewVBox(line, detail))
}

func (v *forwardingView) updateDeliveryRow(i widget.ListItemID, o fyne.CanvasObject) {
	if i >= len(v.deliveries) {
		return
	}
	d := v.deliveries[i]
	box := o.(*fyne.Container)
	texts := box.Objects[0].(*fyne.Container)
	retry := box.Objects[1].(*widget.Button)
	texts.Objects[0].(*widget.Label).SetText(deliveryLine(d))
	detail := texts.Objects[1].(*widget.Label)
	detail.SetText(deliveryDetail(d))
	detail.Importance = widget.MediumImportance
	if d.Status == hook.DeliveryDeadLetter || d.Status == hook.DeliveryFailed {
		detail.Importance = widget.DangerImportance
	}
	detail.Refresh()
	id := d.ID
	retry.OnTapped = func() {
		v.u.background(func() error { _, err := v.u.svc.Forwarding.RetryDelivery(context.Background(), id); return err }, v.reload)
	}
	if d.Status == hook.DeliverySuccess || d.Status == hook.DeliveryPending {
		retry.Hide()
	} else {
		retry.Show()
	}
}

var deliveryWords = map[hook.DeliveryStatus]string{
	hook.DeliveryPending: "Waiting", hook.DeliverySuccess: "Delivered", hook.DeliveryFailed: "Failed",
	hook.DeliveryRetrying: "Retrying", hook.DeliveryDeadLetter: "Dead letter",
}

func deliveryLine(d hook.Delivery) string {
	s := fmt.Sprintf("#%d  event %d  %s", d.ID, d.EventID, deliveryWords[d.Status])
	if d.Attempt > 0 {
		s += fmt.Sprintf(" · %d attempt", d.Attempt)
		if d.Attempt > 1 {
			s += "s"
		}
	}
	if d.ResponseStatus != 0 {
		s += fmt.Sprintf(" · answered %d in %d ms", d.ResponseStatus, d.Latency.Milliseconds())
	}
	if d.Edit != nil {
		s += " · edited replay"
	}
	return s
}

func deliveryDetail(d hook.Delivery) string {
	var parts []string
	switch {
	case !d.NextAt.IsZero() && d.Status == hook.DeliveryRetrying:
		parts = append(parts, "next attempt at "+d.NextAt.Local().Format(time.TimeOnly))
	case d.Status == hook.DeliveryPending:
		parts = append(parts, "waits its turn: deliveries go in order of arrival")
	}
	if d.Error != "" {
		parts = append(parts, d.Error)
	} else if d.Response != "" {
		parts = append(parts, strings.TrimSpace(d.Response))
	}
	if len(parts) == 0 {
		return d.UpdatedAt.Local().Format("2006-01-02 15:04:05")
	}
	return strings.Join(parts, " — ")
}

// sendTest sends the endpoint's test event and says what it came to.
func (u *UI) sendTest(parent fyne.Window, endpointID string) {
	var res hook.TestResult
	u.background(func() (err error) {
		ctx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
		defer cancel()
		res, err = u.svc.Endpoints.Test(ctx, endpointID)
		return err
	}, func() {
		dialog.ShowInformation("Test event sent", fmt.Sprintf("Sent webhook.test to %s: answered %d in %d ms, stored as event %d; %d deliveries queued.",
			res.SentTo, res.Event.ResponseStatus, res.RoundTrip.Milliseconds(), res.Event.ID, len(res.Deliveries)), parent)
	})
}

// editTarget opens the form that adds a target to an endpoint (t nil) or changes one.
func (u *UI) editTarget(parent fyne.Window, endpointID string, t *hook.Target) {
	endpoints := u.svc.Endpoints.List()
	var names []string
	byName := map[string]string{}
	for _, ep := range endpoints {
		names = append(names, ep.Name)
		byName[ep.Name] = ep.ID
	}
	endpoint := widget.NewSelect(names, nil)
	for _, ep := range endpoints {
		if ep.ID == endpointID {
			endpoint.SetSelected(ep.Name)
		}
	}
	const haRegister, haByHand = "Home Assistant (this app registers itself)", "Home Assistant (webhook id and secret by hand)"
	kinds := map[string]hook.TargetKind{"HTTP URL": hook.TargetHTTP, haRegister: hook.TargetHomeAssistant, haByHand: hook.TargetHomeAssistant, "Program": hook.TargetCommand}
	kind := widget.NewSelect([]string{"HTTP URL", haRegister, haByHand, "Program"}, nil)
	kind.SetSelected("HTTP URL")
	cur := hook.NewTarget(endpointID, hook.TargetHTTP)
	if t != nil {
		cur = *t
		endpoint.Disable()
		for label, k := range kinds {
			if k == t.Kind && label != haRegister && label != haByHand {
				kind.SetSelected(label)
			}
		}
		if t.Kind == hook.TargetHomeAssistant {
			kind.SetSelected(haByHand)
			if t.HomeAssistant != nil && t.HomeAssistant.Registered {
				kind.SetSelected(haRegister)
			}
		}
		kind.Disable()
	}
	entry := func(text, placeholder string) *widget.Entry {
		e := widget.NewEntry()
		e.SetText(text)
		e.SetPlaceHolder(placeholder)
		return e
	}
	toURL := entry(cur.URL, "http://127.0.0.1:3000/webhook")
	method := entry(cur.Method, "the original's")
	var hdr []string
	for k, v := range cur.Headers {
		hdr = append(hdr, k+": "+v)
	}
	headers := widget.NewMultiLineEntry()
	headers.SetText(strings.Join(hdr, "\n"))
	headers.SetPlaceHolder("Authorization: Bearer …")
	headers.SetMinRowsVisible(2)
	timeout := entry(strconv.FormatFloat(cur.Timeout.Seconds(), 'f', -1, 64), "30")
	retries := entry(strconv.Itoa(cur.MaxRetries), "3")
	rate := entry(strconv.Itoa(cur.RateLimitPerMinute), "0")
	types := entry(strings.Join(cur.EventTypes, ", "), "*")
	signSchemes := []string{"none", "standard-webhooks", "homecast", "github", "stripe", "shopify", "slack", "hmac"}
	sign := widget.NewSelect(signSchemes, nil)
	sign.SetSelected("none")
	if cur.SignScheme != hook.SchemeNone {
		sign.SetSelected(string(cur.SignScheme))
	}
	signSecret := widget.NewPasswordEntry()
	signSecret.SetPlaceHolder("the secret the target checks with (write-only)")
	ha := cur.HomeAssistant
	if ha == nil {
		ha = &hook.HomeAssistantTarget{}
	}
	haID := entry(ha.WebhookID, "from the mobile_app registration")
	haCloud := entry(ha.CloudhookURL, "https://hooks.nabu.casa/… (tried first)")
	haRemote := entry(ha.RemoteUIURL, "https://….ui.nabu.casa (tried second)")
	haInstance := entry(ha.InstanceURL, "http://homeassistant.local:8123 (tried last)")
	haEncrypt := widget.NewCheck("Encrypt with the registration secret", nil)
	haEncrypt.SetChecked(ha.Encrypt)
	haSecret := widget.NewPasswordEntry()
	haSecret.SetPlaceHolder("the registration's secret (write-only)")
	haToken := widget.NewPasswordEntry()
	haToken.SetPlaceHolder("a long-lived access token (write-only)")
	if t != nil {
		haToken.SetPlaceHolder("kept; give a new one to register again")
	}
	cmd := cur.Command
	if cmd == nil {
		cmd = &hook.CommandTarget{}
	}
	argv := widget.NewMultiLineEntry()
	argv.SetText(strings.Join(cmd.Argv, "\n"))
	argv.SetPlaceHolder("/usr/local/bin/lamp\n--on")
	argv.SetMinRowsVisible(2)
	dir := entry(cmd.Dir, "working folder (optional)")

	common := []*widget.FormItem{
		{Text: "Endpoint", Widget: endpoint},
		{Text: "Send to", Widget: kind},
	}
	httpItems := []*widget.FormItem{
		{Text: "URL", Widget: toURL, HintText: "the event's query is added to it"},
		{Text: "Method", Widget: method},
		{Text: "Extra headers", Widget: headers, HintText: "one Name: value a line"},
		{Text: "Re-sign with", Widget: sign, HintText: "a fresh signature per attempt, so the target's own check passes"},
		{Text: "Signing secret", Widget: signSecret},
	}
	haItems := []*widget.FormItem{
		{Text: "Webhook id", Widget: haID},
		{Text: "Cloudhook URL", Widget: haCloud},
		{Text: "Remote UI URL", Widget: haRemote},
		{Text: "Instance URL", Widget: haInstance, HintText: "tried in this order; the next after a network error or a 5xx"},
		{Text: "", Widget: haEncrypt},
		{Text: "Secret", Widget: haSecret},
	}
	haRegisterItems := []*widget.FormItem{
		{Text: "Instance URL", Widget: haInstance, HintText: "the address you open Home Assistant at"},
		{Text: "Access token", Widget: haToken, HintText: "Home Assistant: your profile → Security → Long-lived access tokens → Create token. Hooktray registers itself as a device and keeps the token to register again if the device is deleted"},
	}
	cmdItems := []*widget.FormItem{
		{Text: "Program", Widget: argv, HintText: "the program and its arguments, one a line; no shell. The body is its input, the request its HOOKTRAY_* environment"},
		{Text: "Folder", Widget: dir},
	}
	tail := []*widget.FormItem{
		{Text: "Event types", Widget: types, HintText: "* for all, or a list such as state.changed, alarm.*"},
		{Text: "Timeout (s)", Widget: timeout},
		{Text: "Retries", Widget: retries, HintText: "after the first attempt, waiting 1, 2, 4, 8, 16 s; then a dead letter"},
		{Text: "Per minute", Widget: rate, HintText: "at most this many deliveries a minute (a burst waits its turn); 0 for no limit"},
	}
	form := widget.NewForm()
	rebuild := func() {
		items := append([]*widget.FormItem{}, common...)
		switch {
		case kind.Selected == haRegister:
			items = append(items, haRegisterItems...)
		case kinds[kind.Selected] == hook.TargetHomeAssistant:
			items = append(items, haItems...)
		case kinds[kind.Selected] == hook.TargetCommand:
			items = append(items, cmdItems...)
		default:
			items = append(items, httpItems...)
		}
		form.Items = append(items, tail...)
		form.Refresh()
	}
	kind.OnChanged = func(string) { rebuild() }
	rebuild()
	title := "Add a forwarding target"
	if t != nil {
		title = "Forwarding target"
	}
	var d dialog.Dialog
	save := widget.NewButtonWithIcon("Save", theme.ConfirmIcon(), nil)
	save.Importance = widget.HighImportance
	cancel := widget.NewButtonWithIcon("Cancel", theme.CancelIcon(), func() { d.Hide() })
	save.OnTapped = func() {
		epID := byName[endpoint.Selected]
		if t != nil {
			epID = t.EndpointID
		}
		if epID == "" {
			dialog.ShowError(errors.New("choose the endpoint whose events to forward"), parent)
			return
		}
		k := kinds[kind.Selected]
		c := hook.TargetChange{Kind: &k}
		num := func(field, s string) (float64, bool) {
			f, err := strconv.ParseFloat(strings.TrimSpace(s), 64)
			if err != nil {
				dialog.ShowError(fmt.Errorf("%s: %q is not a number", field, s), parent)
			}
			return f, err == nil
		}
		secs, ok1 := num("Timeout", timeout.Text)
		r, ok2 := num("Retries", retries.Text)
		pm, ok3 := num("Per minute", rate.Text)
		if !ok1 || !ok2 || !ok3 {
			return
		}
		ms, ri, pmi := int64(secs*1000), int(r), int(pm)
		c.TimeoutMS, c.MaxRetries, c.RateLimitPerMinute = &ms, &ri, &pmi
		c.EventTypes = splitList(types.Text)
		switch k {
		case hook.TargetHTTP:
			u, m := strings.TrimSpace(toURL.Text), strings.TrimSpace(method.Text)
			c.URL, c.Method = &u, &m
			c.Headers = map[string]string{}
			for _, line := range strings.Split(headers.Text, "\n") {
				if name, value, ok := strings.Cut(line, ":"); ok && strings.TrimSpace(name) != "" {
					c.Headers[strings.TrimSpace(name)] = strings.TrimSpace(value)
				}
			}
			if sign.Selected == "none" {
				c.ClearSign = true
			} else {
				c.Sign = &hook.SignChange{Scheme: sign.Selected}
				if s := signSecret.Text; s != "" {
					c.Sign.Secret = &s
				}
			}
		case hook.TargetHomeAssistant:
			if kind.Selected == haRegister {
				token := strings.TrimSpace(haToken.Text)
				c.HomeAssistant = &hook.HomeAssistantChange{HomeAssistantTarget: hook.HomeAssistantTarget{InstanceURL: strings.TrimSpace(haInstance.Text)}}
				if t != nil {
					c.HomeAssistant.HomeAssistantTarget = *t.HomeAssistant
					c.HomeAssistant.InstanceURL = strings.TrimSpace(haInstance.Text)
				}
				if t == nil || token != "" || c.HomeAssistant.InstanceURL != t.HomeAssistant.InstanceURL {
					c.HomeAssistant.Register, c.HomeAssistant.AccessToken = true, &token
				}
				break
			}
			c.HomeAssistant = &hook.HomeAssistantChange{HomeAssistantTarget: hook.HomeAssistantTarget{
				WebhookID: strings.TrimSpace(haID.Text), CloudhookURL: strings.TrimSpace(haCloud.Text),
				RemoteUIURL: strings.TrimSpace(haRemote.Text), InstanceURL: strings.TrimSpace(haInstance.Text), Encrypt: haEncrypt.Checked}}
			if s := haSecret.Text; s != "" {
				c.HomeAssistant.Secret = &s
			}
		case hook.TargetCommand:
			var args []string
			for _, a := range strings.Split(argv.Text, "\n") {
				if a = strings.TrimSpace(a); a != "" {
					args = append(args, a)
				}
			}
			c.Command = &hook.CommandTarget{Argv: args, Dir: strings.TrimSpace(dir.Text)}
		}
		go func() {
			var err error
			if t == nil {
				_, err = u.svc.Forwarding.CreateTarget(context.Background(), epID, c)
			} else {
				_, err = u.svc.Forwarding.UpdateTarget(context.Background(), t.ID, c)
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
					u.say("Forwarding target saved")
					if u.forwarding != nil {
						u.forwarding.reload()
					}
				}
			})
		}()
	}
	body := container.NewBorder(nil, container.NewHBox(layout.NewSpacer(), cancel, save), nil, nil, container.NewVScroll(form))
	d = dialog.NewCustomWithoutButtons(title, body, parent)
	d.Resize(fyne.NewSize(760, 640))
	d.Show()
}

func splitList(s string) []string {
	var out []string
	for _, p := range strings.Split(s, ",") {
		if p = strings.TrimSpace(p); p != "" {
			out = append(out, p)
		}
	}
	if len(out) == 0 {
		return []string{"*"}
	}
	return out
}
