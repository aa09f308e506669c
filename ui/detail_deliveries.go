package ui

import (
	"context"
	"fmt"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/dialog"
	"fyne.io/fyne/v2/widget"

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
		dialog.ShowInformation("Nowhere to replay to", "This endpoint forwards to no target yet. Add one with Forwarding… in the File menu, or copy the request as cURL.", d.u.win)
		return
	}
	f := forms.NewReplay(ev, targets, targetWhere)
	dlg := dialog.NewCustomWithoutButtons("Replay event "+fmt.Sprint(ev.ID), f, d.u.win)
	f.OnCancel = dlg.Hide
	f.OnSubmit = func(chosen []string, edit *hook.Edit) {
		var n int
		d.u.submitForm(f, func(ctx context.Context) error {
			ds, err := d.u.svc.Forwarding.ReplayToTargets(ctx, ev.ID, chosen, edit)
			n = len(ds)
			return err
		}, func() {
			dlg.Hide()
			d.u.say(fmt.Sprintf("Replay queued: %d deliveries", n))
			d.loadDeliveries()
		})
	}
	dlg.Resize(fyne.NewSize(760, 620))
	dlg.Show()
}
