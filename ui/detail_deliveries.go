package ui

import (
	"context"
	"fmt"
	"strings"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/dialog"
	"fyne.io/fyne/v2/widget"

	"github.com/hooktray/hooktray/app/deliver"
	"github.com/hooktray/hooktray/hook"
	"github.com/hooktray/hooktray/ui/forms"
)

// loadDeliveries reads the shown event's deliveries in the background.
func (d *eventDetail) loadDeliveries() {
	if d.ev == nil {
		return
	}
	id := d.ev.ID
	go func() {
		ds, _, err := d.u.svc.History.Deliveries(context.Background(), hook.DeliveryQuery{EventID: id, Limit: 200})
		for i := range ds[:min(len(ds), 50)] { // each with its attempts
			if full, err := d.u.svc.History.Delivery(context.Background(), ds[i].ID); err == nil {
				ds[i] = full
			}
		}
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
	sub.SetText(deliveryDetail(del) + attemptsLine(del))
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

// replay opens the replay form with the original request filled in and sends it again to the
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
		d.u.showProblem("This endpoint forwards to no target yet: add one, or send the event once to a URL.", nil,
			action{"Add target…", func() { d.u.editTarget(d.u.win, ev.EndpointID, nil) }},
			action{"Replay to a URL…", d.replayToURL})
		return
	}
	f := forms.NewReplay(ev, targets, targetWhere)
	dlg := d.u.showForm(d.u.win, "Replay event "+fmt.Sprint(ev.ID), f, fyne.NewSize(760, 620))
	f.OnCancel = dlg.Hide
	f.OnSubmit = func(chosen []string, edit *hook.Edit) {
		var n int
		d.u.submitForm(f, func(ctx context.Context) error {
			ds, err := d.u.svc.Forwarding.ReplayToTargets(ctx, ev.ID, chosen, edit)
			n = len(ds)
			return err
		}, func() {
			dlg.Hide()
			d.u.say("Replay queued: " + plural(int64(n), "delivery", "deliveries"))
			d.loadDeliveries()
		})
	}
}

// replayToURL sends the shown event once to a URL the user types, and says what it answered.
func (d *eventDetail) replayToURL() {
	if d.ev == nil {
		return
	}
	id := d.ev.ID
	to := widget.NewEntry()
	to.SetPlaceHolder("http://127.0.0.1:3000/webhook")
	to.Validator = optionalURL
	if ts, err := d.u.svc.Forwarding.Targets(d.ev.EndpointID); err == nil && len(ts) > 0 && ts[0].URL != "" {
		to.SetText(ts[0].URL)
	}
	dlg := dialog.NewForm(fmt.Sprintf("Replay event %d to a URL", id), "Send", "Cancel",
		[]*widget.FormItem{{Text: "URL", Widget: to, HintText: "sent once, as received; the answer is shown, nothing is stored"}}, func(ok bool) {
			if !ok {
				return
			}
			var res deliver.ReplayResult
			url := strings.TrimSpace(to.Text)
			d.u.background(func() (err error) {
				ctx, cancel := context.WithTimeout(context.Background(), hook.DefaultTargetTimeout)
				defer cancel()
				res, err = d.u.svc.Forwarding.ReplayTo(ctx, id, url, nil)
				return err
			}, func() {
				d.u.inform(d.u.win, "Replayed", fmt.Sprintf("%s answered %d in %d ms.\n%s", url, res.Status, res.Duration.Milliseconds(), shorten(res.Body, 300)))
			})
		}, d.u.win)
	dlg.Resize(fyne.NewSize(min(620, d.u.win.Canvas().Size().Width-40), 0))
	d.u.showEscapable(dlg, d.u.win)
	d.u.win.Canvas().Focus(to)
}

// optionalURL accepts an absolute http(s) URL.
func optionalURL(s string) error {
	if strings.TrimSpace(s) == "" {
		return nil
	}
	return hook.CheckTargetURL(strings.TrimSpace(s))
}

// attemptsLine lists a delivery's attempts: when, and what came of each.
func attemptsLine(d hook.Delivery) string {
	if len(d.Attempts) == 0 {
		return ""
	}
	var parts []string
	for _, a := range d.Attempts[max(0, len(d.Attempts)-4):] {
		out := fmt.Sprintf("%d", a.Status)
		if a.Error != "" || a.Status == 0 {
			out = shorten(a.Error, 40)
		}
		parts = append(parts, a.At.Local().Format("15:04:05")+" "+out)
	}
	more := ""
	if len(d.Attempts) > 4 {
		more = "… "
	}
	return " · attempts: " + more + strings.Join(parts, ", ")
}
