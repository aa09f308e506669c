package ui

import (
	"context"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/canvas"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/layout"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"

	"github.com/hooktray/hooktray/hook"
)

// endpointList is the left pane: "All endpoints", then each endpoint with its state, activity
// and a switch that pauses or resumes it.
type endpointList struct {
	u *UI
	// OnSelected is called with the endpoint chosen ("" for all), OnAdd for "New", OnEdit with
	// the endpoint whose pencil was pressed.
	OnSelected func(id string)
	OnAdd      func()
	OnEdit     func(ep hook.Endpoint)
	// OnHide folds the pane away.
	OnHide func()

	items    []hook.Endpoint
	list     *widget.List
	add      *widget.Button
	selected string    // endpoint id, "" for all
	drawn    time.Time // when the activity was last redrawn
	later    bool      // a redraw is scheduled for the end of the second
	content  fyne.CanvasObject
}

// endpointRow is one row of the list.
type endpointRow struct {
	widget.BaseWidget
	box     *fyne.Container
	dot     *canvas.Circle
	dotBox  *fyne.Container
	name    *widget.Label
	sub     *widget.Label
	spark   *sparkline
	enabled *widget.Check
	edit    *widget.Button
}

func newEndpointList(u *UI) *endpointList {
	l := &endpointList{u: u}
	l.list = widget.NewList(
		func() int { return len(l.items) + 1 },
		l.createRow,
		func(id widget.ListItemID, o fyne.CanvasObject) { l.updateRow(id, o) },
	)
	l.list.OnSelected = func(id widget.ListItemID) {
		l.selected = ""
		if id > 0 && id <= len(l.items) {
			l.selected = l.items[id-1].ID
		}
		l.OnSelected(l.selected)
	}
	l.add = widget.NewButtonWithIcon("New", theme.ContentAddIcon(), func() { l.OnAdd() })
	l.add.Importance = widget.HighImportance
	title := widget.NewLabelWithStyle("Endpoints", fyne.TextAlignLeading, fyne.TextStyle{Bold: true})
	hide := widget.NewButtonWithIcon("", theme.NavigateBackIcon(), func() { l.OnHide() })
	hide.Importance = widget.LowImportance
	l.content = container.NewBorder(container.NewBorder(nil, nil, hide, l.add, title), nil, nil, nil, l.list)
	return l
}

func (r *endpointRow) CreateRenderer() fyne.WidgetRenderer { return widget.NewSimpleRenderer(r.box) }

func (l *endpointList) createRow() fyne.CanvasObject {
	r := &endpointRow{
		dot:   canvas.NewCircle(colorOK),
		name:  widget.NewLabelWithStyle("", fyne.TextAlignLeading, fyne.TextStyle{Bold: true}),
		sub:   widget.NewLabel(""),
		spark: newSparkline(),
	}
	r.name.Truncation = fyne.TextTruncateEllipsis
	r.sub.Truncation = fyne.TextTruncateEllipsis
	r.sub.SizeName = theme.SizeNameCaptionText
	r.enabled = widget.NewCheck("", nil)
	r.edit = widget.NewButtonWithIcon("", theme.DocumentCreateIcon(), nil)
	r.edit.Importance = widget.LowImportance
	text := container.New(layout.NewCustomPaddedVBoxLayout(-theme.Padding()*2), r.name,
		container.NewBorder(nil, nil, nil, container.NewCenter(r.spark), r.sub))
	right := container.NewHBox(r.enabled, r.edit)
	r.dotBox = container.New(dotLayout{10}, r.dot)
	r.box = container.NewBorder(nil, nil, r.dotBox, right, text)
	r.ExtendBaseWidget(r)
	return r
}

func (l *endpointList) updateRow(id widget.ListItemID, o fyne.CanvasObject) {
	r := o.(*endpointRow)
	now := time.Now()
	if id == 0 {
		var total int64
		for _, ep := range l.items {
			total += l.u.svc.Endpoints.Activity(ep.ID).Events
		}
		r.dotBox.Hide()
		r.name.SetText("All endpoints")
		r.sub.SetText(plural(total, "event", "events"))
		r.spark.Hide()
		r.enabled.Hide()
		r.edit.Hide()
		return
	}
	if id > len(l.items) {
		return
	}
	ep := l.items[id-1]
	act := l.u.svc.Endpoints.Activity(ep.ID)
	r.dotBox.Show()
	r.dot.FillColor = colorOK
	if !ep.Enabled {
		r.dot.FillColor = colorPaused
	}
	r.dot.Refresh()
	r.name.SetText(ep.Name)
	state := ""
	if !ep.Enabled {
		state = "paused · "
	}
	if ts, err := l.u.svc.Forwarding.Targets(ep.ID); err == nil {
		for _, t := range ts {
			if t.State != hook.TargetActive {
				state += "forwarding " + string(t.State) + " · "
				break
			}
		}
	}
	r.sub.SetText(state + plural(act.Events, "event", "events") + " · " + relativeTime(act.Last, now))
	r.spark.Show()
	r.spark.set(act.PerMinute)
	r.enabled.Show()
	r.enabled.OnChanged = nil // SetChecked would otherwise toggle the endpoint
	r.enabled.SetChecked(ep.Enabled)
	epID := ep.ID
	r.enabled.OnChanged = func(on bool) { l.u.setEnabled(epID, on) }
	r.edit.Show()
	r.edit.OnTapped = func() {
		if cur, err := l.u.svc.Endpoints.Get(epID); err == nil {
			l.OnEdit(cur)
		}
	}
}

// reload reads the endpoints from the hub (memory) and redraws the list, keeping the selection.
func (l *endpointList) reload() {
	l.items = l.u.svc.Endpoints.List()
	found := l.selected == ""
	for i, ep := range l.items {
		if ep.ID == l.selected {
			found = true
			l.list.Select(i + 1)
		}
	}
	if !found {
		l.selected = ""
		l.list.Select(0)
	}
	l.list.Refresh()
}

// refreshActivity redraws counts, times and charts.
//
// Counts and charts come from the core's in-memory counters; they are redrawn at most once a
// second, whatever the event rate: a per-minute chart has nothing new to show more often.
func (l *endpointList) refreshActivity() {
	since := time.Since(l.drawn)
	switch {
	case since >= time.Second:
		l.drawn = time.Now()
		l.list.Refresh()
	case !l.later:
		// The last of a burst is drawn too, a moment later.
		l.later = true
		time.AfterFunc(time.Second-since, func() {
			l.u.do(func() {
				l.later = false
				if l.u.visible.Load() {
					l.refreshActivity()
				}
			})
		})
	}
}

// name returns an endpoint's name for display, also for deleted endpoints' old events.
func (l *endpointList) name(id string) string {
	for _, ep := range l.items {
		if ep.ID == id {
			return ep.Name
		}
	}
	if len(id) > 8 {
		return id[:8] + "…"
	}
	return id
}

// setEnabled pauses or resumes an endpoint in the background.
func (u *UI) setEnabled(id string, on bool) {
	u.background(func() error {
		_, err := u.svc.Endpoints.SetEnabled(context.Background(), id, on)
		return err
	}, nil)
}

// selectEndpoint selects an endpoint in the list (after creating it, say).
func (l *endpointList) selectEndpoint(id string) {
	l.items = l.u.svc.Endpoints.List()
	l.list.Refresh()
	for i, ep := range l.items {
		if ep.ID == id {
			l.list.Select(i + 1)
		}
	}
}
