package ui

import (
	"context"
	"fmt"
	"strings"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/layout"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"

	"github.com/hooktray/hooktray/app/rules"
	"github.com/hooktray/hooktray/hook"
	"github.com/hooktray/hooktray/ui/forms"
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
	reloads    reloader
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
	v.reloads = reloader{do: u.do, load: v.load, gap: 300 * time.Millisecond}
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
	v.makeActions()
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

// makeActions makes the buttons that act on the selected target.
func (v *forwardingView) makeActions() {
	v.resume = widget.NewButtonWithIcon("Resume", theme.MediaPlayIcon(), func() {
		id := v.selected
		v.u.background(func() error { _, err := v.u.svc.Forwarding.ResumeTarget(context.Background(), id); return err }, v.reload)
	})
	v.reregister = widget.NewButtonWithIcon("Register again", theme.ViewRefreshIcon(), func() { v.u.reregister(v.selected) })
	v.reregister.Importance = widget.HighImportance
	v.reregister.Hide()
	v.retryAll = widget.NewButtonWithIcon("Retry all dead letters", theme.ViewRefreshIcon(), func() {
		id := v.selected
		var n int64
		v.u.background(func() (err error) {
			n, err = v.u.svc.Forwarding.RetryDeliveries(context.Background(), id, hook.DeliveryDeadLetter)
			return err
		}, func() { v.u.say(fmt.Sprintf("%d dead letters are due again, in their order", n)); v.reload() })
	})
	v.edit = widget.NewButtonWithIcon("Edit…", theme.DocumentCreateIcon(), func() {
		for _, t := range v.targets {
			if t.ID == v.selected {
				v.u.editTarget(v.win, t.EndpointID, &t)
			}
		}
	})
	v.test = widget.NewButtonWithIcon("Send test event", theme.MailSendIcon(), func() {
		for _, t := range v.targets {
			if t.ID == v.selected {
				v.u.sendTest(v.win, t.EndpointID)
			}
		}
	})
	v.remove = widget.NewButtonWithIcon("Remove", theme.DeleteIcon(), func() {
		id := v.selected
		v.u.confirm(v.win, "Remove this target?", "Its deliveries still to make end as failed; the history stays.", func() {
			v.u.background(func() error { return v.u.svc.Forwarding.DeleteTarget(context.Background(), id) }, func() { v.selected = ""; v.reload() })
		})
	})
	v.remove.Importance = widget.DangerImportance
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
	case hook.TargetMQTT:
		if t.MQTT != nil {
			return t.MQTT.Broker + "  " + t.MQTT.Topic
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
// come in a burst are folded into one, a few a second at most while deliveries stream by.
func (v *forwardingView) reload() { v.reloads.request() }

// load reads the targets of the endpoint shown ("" for all).
func (v *forwardingView) load() read {
	endpoint := v.endpoint
	return func() func() {
		if endpoint == "" {
			targets := v.u.svc.Forwarding.AllTargets()
			return func() { v.showTargets(targets) }
		}
		targets, err := v.u.svc.Forwarding.Targets(endpoint)
		if err != nil {
			return func() { v.u.showError(err) }
		}
		return func() { v.showTargets(targets) }
	}
}

// showTargets shows what load read, keeping the selection, then the selected one's deliveries.
func (v *forwardingView) showTargets(targets []hook.Target) {
	v.targets = targets
	v.targetList.Refresh()
	for i, t := range targets {
		if t.ID == v.selected {
			v.targetList.Select(i)
			v.reloadDeliveries()
			return
		}
	}
	if len(targets) > 0 {
		v.targetList.Select(0) // its OnSelected reads its deliveries
		return
	}
	v.reloadDeliveries()
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
	event := widget.NewButtonWithIcon("Event", theme.SearchIcon(), nil)
	event.Importance = widget.LowImportance
	return container.NewBorder(nil, nil, nil, container.NewHBox(event, retry), container.NewVBox(line, detail))
}

func (v *forwardingView) updateDeliveryRow(i widget.ListItemID, o fyne.CanvasObject) {
	if i >= len(v.deliveries) {
		return
	}
	d := v.deliveries[i]
	box := o.(*fyne.Container)
	texts := box.Objects[0].(*fyne.Container)
	buttons := box.Objects[1].(*fyne.Container)
	event, retry := buttons.Objects[0].(*widget.Button), buttons.Objects[1].(*widget.Button)
	eventID := d.EventID
	event.OnTapped = func() { v.u.showEvent(eventID) }
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
	if n := max(d.Attempt, len(d.Attempts)); n > 0 {
		s += " · " + plural(int64(n), "attempt", "attempts")
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
	case !d.NextAt.IsZero() && d.Status == hook.DeliveryRetrying && d.NextAt.After(time.Now()):
		parts = append(parts, "next attempt at "+d.NextAt.Local().Format(time.TimeOnly))
	case d.Status == hook.DeliveryRetrying:
		parts = append(parts, "next attempt due now")
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
		u.inform(parent, "Test event sent", fmt.Sprintf("Sent webhook.test to %s: answered %d in %d ms, stored as event %d; %s queued.",
			res.SentTo, res.Event.ResponseStatus, res.RoundTrip.Milliseconds(), res.Event.ID, plural(int64(len(res.Deliveries)), "delivery", "deliveries")))
	})
}

// editTarget opens the form that adds a target to an endpoint (t nil) or changes one.
func (u *UI) editTarget(parent fyne.Window, endpointID string, t *hook.Target) {
	f := forms.NewTarget(u.svc.Endpoints.List(), endpointID, t)
	title := "Add a forwarding target"
	if t != nil {
		title = "Forwarding target"
	}
	d := u.showForm(parent, title, f, fyne.NewSize(760, 640))
	f.OnCancel = d.Hide
	f.SetRuleChecker(u.svc.Rules.CheckField)
	f.Paths = u.svc.Shapes.Paths
	f.OnTry = func(epID string, tr rules.Trial) { u.tryRules(epID, tr, f.ShowTrial) }
	f.OnSubmit = func(epID string, c hook.TargetChange) {
		u.submitFormIn(parent, f, func(ctx context.Context) (err error) {
			if t == nil {
				_, err = u.svc.Forwarding.CreateTarget(ctx, epID, c)
			} else {
				_, err = u.svc.Forwarding.UpdateTarget(ctx, t.ID, c)
			}
			return err
		}, func() {
			d.Hide()
			u.say("Forwarding target saved")
			if u.forwarding != nil {
				u.forwarding.reload()
			}
		})
	}
}

// tryRules runs a trial on the endpoint's last 50 events off the UI goroutine and shows it.
func (u *UI) tryRules(endpointID string, tr rules.Trial, show func([]rules.TrialResult, error)) {
	go func() {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		results, err := u.svc.TryRules(ctx, endpointID, tr, 50)
		u.do(func() { show(results, err) })
	}()
}
