package ui

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"unicode/utf8"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/dialog"
	"fyne.io/fyne/v2/widget"

	"github.com/hooktray/hooktray/hook"
)

// loadDeliveries reads the shown event's deliveries in the background.
func (d *eventDetail) loadDeliveries() {
	if d.ev == nil {
		return
	}
	id := d.ev.ID
	go func() {
		ds, _, err := d.u.svc.History.Deliveries(context.Background(), hook.DeliveryQuery{EventID: id, Limit: 200})
		d.u.do(func() {
			if err != nil || d.ev == nil || d.ev.ID != id {
				return
			}
			d.deliveries = ds
			switch {
			case len(ds) == 0 && d.ev.Status != hook.Accepted:
				d.delNote.SetText("Only accepted events are forwarded.")
			case len(ds) == 0:
				d.delNote.SetText("Not forwarded: the endpoint had no target for this event when it arrived. Forwarding… in the File menu adds one.")
			default:
				d.delNote.SetText(plural(int64(len(ds)), "delivery", "deliveries") + ", newest first.")
			}
			d.delList.Refresh()
		})
	}()
}

// deliveriesChanged reloads the deliveries of the event shown when its tab is open.
func (d *eventDetail) deliveriesChanged() {
	if d.ev != nil && d.tabs.Selected() != nil && d.tabs.Selected().Text == "Deliveries" {
		d.loadDeliveries()
	}
}

func (d *eventDetail) updateDelivery(i widget.ListItemID, o fyne.CanvasObject) {
	if i >= len(d.deliveries) {
		return
	}
	del := d.deliveries[i]
	box := o.(*fyne.Container)
	texts, retry := box.Objects[0].(*fyne.Container), box.Objects[1].(*widget.Button)
	to := del.TargetID
	for _, t := range d.u.svc.Forwarding.AllTargets() {
		if t.ID == del.TargetID {
			to = targetWhere(t)
		}
	}
	texts.Objects[0].(*widget.Label).SetText(deliveryLine(del) + " to " + to)
	sub := texts.Objects[1].(*widget.Label)
	sub.SetText(deliveryDetail(del))
	sub.Importance = widget.MediumImportance
	if del.Status == hook.DeliveryDeadLetter || del.Status == hook.DeliveryFailed {
		sub.Importance = widget.DangerImportance
	}
	sub.Refresh()
	id := del.ID
	retry.OnTapped = func() {
		d.u.background(func() error { _, err := d.u.svc.Forwarding.RetryDelivery(context.Background(), id); return err }, d.loadDeliveries)
	}
	if del.Status == hook.DeliverySuccess || del.Status == hook.DeliveryPending {
		retry.Hide()
	} else {
		retry.Show()
	}
}

// replay opens the editor with the original request filled in and sends it again to the
// endpoint's targets (or chosen ones), edited as the user left it.
func (d *eventDetail) replay() {
	if d.ev == nil {
		return
	}
	ev := *d.ev
	targets, err := d.u.svc.Forwarding.Targets(ev.EndpointID)
	if err != nil {
		d.u.showError(err)
		return
	}
	if len(targets) == 0 {
		dialog.ShowInformation("Nowhere to replay to", "This endpoint forwards to no target yet. Add one with Forwarding… in the File menu, or copy the request as cURL.", d.u.win)
		return
	}
	checks := container.NewVBox()
	var boxes []*widget.Check
	for _, t := range targets {
		c := widget.NewCheck(targetWhere(t), nil)
		c.SetChecked(true)
		boxes = append(boxes, c)
		checks.Add(c)
	}
	method := widget.NewEntry()
	method.SetText(ev.Method)
	var hdr []string
	for _, k := range sortedKeys(ev.Header) {
		for _, v := range ev.Header[k] {
			hdr = append(hdr, k+": "+v)
		}
	}
	headers := widget.NewMultiLineEntry()
	headers.SetText(strings.Join(hdr, "\n"))
	headers.SetMinRowsVisible(4)
	body := widget.NewMultiLineEntry()
	body.SetText(string(ev.Body))
	body.SetMinRowsVisible(8)
	body.TextStyle = fyne.TextStyle{Monospace: true}
	binary := !utf8.Valid(ev.Body)
	if binary {
		body.SetText(fmt.Sprintf("(%d bytes that are not text: sent as received)", len(ev.Body)))
		body.Disable()
	}
	items := []*widget.FormItem{
		{Text: "To", Widget: checks},
		{Text: "Method", Widget: method},
		{Text: "Headers", Widget: headers, HintText: "one Name: value a line"},
		{Text: "Body", Widget: body},
	}
	dlg := dialog.NewForm("Replay event "+fmt.Sprint(ev.ID), "Replay", "Cancel", items, func(ok bool) {
		if !ok {
			return
		}
		var chosen []string
		for i, c := range boxes {
			if c.Checked {
				chosen = append(chosen, targets[i].ID)
			}
		}
		if len(chosen) == 0 {
			d.u.showError(errors.New("choose at least one target"))
			return
		}
		edit := &hook.Edit{}
		changed := false
		if m := strings.ToUpper(strings.TrimSpace(method.Text)); m != ev.Method {
			edit.Method, changed = &m, true
		}
		if headers.Text != strings.Join(hdr, "\n") {
			h := map[string][]string{}
			for _, line := range strings.Split(headers.Text, "\n") {
				if k, v, ok := strings.Cut(line, ":"); ok && strings.TrimSpace(k) != "" {
					h[strings.TrimSpace(k)] = append(h[strings.TrimSpace(k)], strings.TrimSpace(v))
				}
			}
			edit.Headers, changed = h, true
		}
		if !binary && body.Text != string(ev.Body) {
			edit.Body, changed = []byte(body.Text), true
		}
		if !changed {
			edit = nil
		}
		var n int
		d.u.background(func() error {
			ds, err := d.u.svc.Forwarding.ReplayToTargets(context.Background(), ev.ID, chosen, edit)
			n = len(ds)
			return err
		}, func() {
			d.u.say(fmt.Sprintf("Replay queued: %d deliveries", n))
			d.loadDeliveries()
		})
	}, d.u.win)
	dlg.Resize(fyne.NewSize(760, 620))
	dlg.Show()
}
