package ui

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/canvas"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"

	"github.com/hooktray/hooktray/hook"
)

const (
	pageSize   = 200  // events read per page
	maxInView  = 2000 // events held in memory; older ones are paged in again when scrolled to
	allChoices = "All"
	// burstRows is how many new events one refresh may add to the top of the list by itself;
	// more, or any while the list is scrolled down, wait behind the "N new events" bar so rows do
	// not move under the user's pointer.
	burstRows = 20
)

// logColumns are the log's columns: time, endpoint, request (method, query and the body's
// beginning, taking what is left), type, status and size. Their widths come from the text they
// are made for and never change with what the rows hold; a text too long ends in an ellipsis
// and shows whole on hover.
func logColumns() *columns {
	pad := 2*theme.InnerPadding() + theme.Padding()
	width := func(sample string, style fyne.TextStyle) float32 {
		return fyne.MeasureText(sample, theme.TextSize(), style).Width + pad
	}
	mono := fyne.TextStyle{Monospace: true}
	return &columns{widths: []float32{width("00:00:00.000", mono), width("Home Assist", fyne.TextStyle{}), -1,
		width("state_chang", fyne.TextStyle{}), width("✓ 200", fyne.TextStyle{}), width("999.9 KiB", fyne.TextStyle{})}}
}

// endpointColumn is the index of the endpoint column, left out when the list shows one endpoint.
const endpointColumn = 1

// eventLog is the middle pane: search and filters over a virtualised list of events, newest
// first, read page by page from SQLite and followed live.
type eventLog struct {
	u *UI
	// OnSelected is called with the event chosen; OnCreateEndpoint by the empty state's button.
	OnSelected       func(id int64)
	OnCreateEndpoint func()
	// NameOf names an endpoint by id, for the rows.
	NameOf func(id string) string

	endpoint string // "" for all

	search *widget.Entry
	status *widget.Select
	method *widget.Select
	typ    *widget.Entry

	events   []hook.Event // summaries, newest first
	pending  []hook.Event // live events not yet shown (newest first), behind the "new events" bar
	overflow bool         // more arrived than pending holds: showing them means a reload
	watching bool         // watchScroll is waiting for the list to be scrolled to the top
	scrolled bool         // events began to wait while the list was scrolled down
	// keptOffset is the scroll position when the window closed, restored when it opens again.
	keptOffset float32
	newBar     *widget.Button
	next       int64 // cursor of the next older page, 0 when none
	loading    bool
	gen        int   // bumped by every reload, so late answers of an older query are dropped
	selected   int64 // the event shown in the detail pane
	list       *eventList
	columns    *columns
	header     *fyne.Container
	endpointW  float32 // the endpoint column's width when it is shown
	colGen     int     // bumped when the columns change, so rows lay themselves out again
	summary    *widget.Label
	// showEndpoints brings the endpoints pane back when it is folded away.
	showEndpoints   *widget.Button
	OnShowEndpoints func()
	empty           *fyne.Container
	body            *fyne.Container
	debounce        *time.Timer
	content         fyne.CanvasObject
}

func newEventLog(u *UI) *eventLog {
	l := &eventLog{u: u}
	l.search = widget.NewEntry()
	l.search.SetPlaceHolder("Search method, path, headers and body…")
	l.search.ActionItem = widget.NewIcon(theme.SearchIcon())
	l.search.OnChanged = func(string) { l.reloadSoon() }
	l.search.OnSubmitted = func(string) { l.reload() }
	l.status = widget.NewSelect([]string{allChoices, "accepted", "rejected", "duplicate"}, nil)
	l.status.SetSelected(allChoices)
	l.status.OnChanged = func(string) { l.reload() }
	l.method = widget.NewSelect([]string{allChoices, "POST", "GET", "PUT", "PATCH", "DELETE"}, nil)
	l.method.SetSelected(allChoices)
	l.method.OnChanged = func(string) { l.reload() }
	l.typ = widget.NewEntry()
	l.typ.SetPlaceHolder("Type")
	l.typ.OnChanged = func(string) { l.reloadSoon() }

	l.list = newEventList(func() int { return len(l.events) }, func() fyne.CanvasObject { return newEventRow(u, l.columns) }, l.updateRow)
	l.list.OnHighlighted = func(id widget.ListItemID) { l.list.OnSelected(id) } // ↑ and ↓ move the selection
	l.list.OnEnter = func() { u.detail.showTab("Body") }
	l.list.OnDelete = func() { u.detail.confirmDelete() }
	l.list.OnSelected = func(id widget.ListItemID) {
		// The selection is kept by event id and drawn by the rows themselves: the list's own is by
		// index, and would have to move (and redraw everything) with every new row on top.
		l.list.UnselectAll()
		if id < len(l.events) && l.events[id].ID != l.selected {
			l.selected = l.events[id].ID
			l.list.Refresh()
			l.OnSelected(l.selected)
		}
	}
	l.newBar = widget.NewButtonWithIcon("", theme.MoveUpIcon(), l.showPending)
	l.newBar.Importance = widget.HighImportance
	l.newBar.Hide()
	l.summary = widget.NewLabel("")
	l.summary.SizeName = theme.SizeNameCaptionText
	l.empty = container.NewCenter()
	l.columns = logColumns()
	l.endpointW = l.columns.widths[endpointColumn]
	l.header = container.New(l.columns, caption("Time"), caption("Endpoint"),
		caption("Request"), caption("Type"), caption("Status"), caption("Size"))
	l.showEndpoints = widget.NewButtonWithIcon("", theme.ListIcon(), func() { l.OnShowEndpoints() })
	l.showEndpoints.Importance = widget.LowImportance
	filters := container.NewVBox(container.NewBorder(nil, nil, l.showEndpoints, nil, l.search),
		container.NewGridWithColumns(3, l.status, l.method, l.typ))
	// The "N new events" bar floats over the top of the list, so its coming and going moves no row.
	rows := container.NewStack(l.list, container.NewVBox(container.NewCenter(l.newBar)))
	l.body = container.NewStack(container.NewBorder(l.header, l.summary, nil, nil, rows), l.empty)
	l.content = container.NewBorder(filters, nil, nil, nil, l.body)
	return l
}

func caption(s string) *widget.Label {
	l := widget.NewLabelWithStyle(s, fyne.TextAlignLeading, fyne.TextStyle{Bold: true})
	l.SizeName = theme.SizeNameCaptionText
	return l
}

// eventRow is one line of the log.
type eventRow struct {
	widget.BaseWidget
	time, endpoint, request, typ, status, size *tipLabel
	selected                                   *canvas.Rectangle
	box, cells                                 *fyne.Container
	gen                                        int // the columns it was laid out for
}

func newEventRow(u *UI, cols *columns) fyne.CanvasObject {
	r := &eventRow{}
	labels := []**tipLabel{&r.time, &r.endpoint, &r.request, &r.typ, &r.status, &r.size}
	objs := make([]fyne.CanvasObject, len(labels))
	for i, p := range labels {
		*p = newTipLabel()
		(*p).Truncation = fyne.TextTruncateEllipsis
		objs[i] = *p
	}
	r.time.TextStyle = fyne.TextStyle{Monospace: true}
	r.request.TextStyle = fyne.TextStyle{Monospace: true}
	r.size.Alignment = fyne.TextAlignTrailing
	r.selected = canvas.NewRectangle(theme.Color(theme.ColorNameSelection))
	r.selected.Hide()
	r.cells = container.New(cols, objs...)
	r.box = container.NewStack(r.selected, r.cells)
	r.ExtendBaseWidget(r)
	return r
}

func (r *eventRow) CreateRenderer() fyne.WidgetRenderer { return widget.NewSimpleRenderer(r.box) }

// eventList is the log's list: ↑ and ↓ move the selection, Enter opens the body, Del deletes.
type eventList struct {
	widget.List
	OnEnter, OnDelete func()
}

func newEventList(length func() int, create func() fyne.CanvasObject, update func(widget.ListItemID, fyne.CanvasObject)) *eventList {
	l := &eventList{}
	l.Length, l.CreateItem, l.UpdateItem = length, create, update
	l.ExtendBaseWidget(l)
	return l
}

// TypedKey adds Enter and Del to the list's keys.
func (l *eventList) TypedKey(ev *fyne.KeyEvent) {
	switch ev.Name {
	case fyne.KeyReturn, fyne.KeyEnter:
		l.OnEnter()
	case fyne.KeyDelete:
		l.OnDelete()
	default:
		l.List.TypedKey(ev)
	}
}

// setText changes a cell only when its text changes: when rows shift by one, most cells (the
// endpoint, the type, the status) show what they showed, and need no new layout.
func setText(l *tipLabel, s string) {
	if l.Text != s {
		l.SetText(s)
	}
}

func (l *eventLog) updateRow(id widget.ListItemID, o fyne.CanvasObject) {
	if id >= len(l.events) {
		return
	}
	if id >= len(l.events)-pageSize/4 {
		l.loadMore()
	}
	ev := l.events[id]
	r := o.(*eventRow)
	if r.gen != l.colGen {
		r.gen = l.colGen
		r.cells.Refresh()
	}
	setText(r.time, ev.ReceivedAt.Local().Format("15:04:05.000"))
	setText(r.endpoint, l.NameOf(ev.EndpointID))
	setText(r.request, requestSummary(ev))
	typ := ev.Type
	if typ == "" {
		typ = "–"
	}
	setText(r.typ, typ)
	status, importance := statusText(ev)
	if r.status.Importance != importance {
		r.status.Importance = importance
		r.status.Refresh()
	}
	setText(r.status, status)
	setText(r.size, receivedSize(ev))
	if sel := ev.ID == l.selected; sel != r.selected.Visible() {
		r.selected.Hidden = !sel
		r.selected.Refresh()
	}
}

// requestSummary tells a row's request from its neighbours': its query, then the body's
// beginning.
func requestSummary(ev hook.Event) string {
	s := ev.Method
	if ev.Query != "" {
		s += " ?" + ev.Query
	}
	switch {
	case ev.Preview != "":
		return s + "  " + withoutType(ev.Preview, ev.Type)
	case ev.Status == hook.Rejected && ev.Reason != "":
		return s + "  (" + ev.Reason + ")"
	}
	return s
}

// withoutType leaves a JSON preview's "type" member out when the Type column shows it, so that
// what differs from row to row comes first.
func withoutType(preview, typ string) string {
	if typ == "" {
		return preview
	}
	for _, member := range []string{`"type": "` + typ + `", `, `"type":"` + typ + `",`} {
		if i := strings.Index(preview, member); i >= 0 && i < 4 {
			return preview[:i] + preview[i+len(member):]
		}
	}
	return preview
}

// announcedOnly reports whether an event's size is only what its request announced: refused
// before its body was read (a paused endpoint, a body over the limit).
func announcedOnly(ev hook.Event) bool {
	return ev.Status == hook.Rejected && ev.Preview == "" && ev.Size > 0 &&
		(ev.ResponseStatus == 503 || strings.HasPrefix(ev.Reason, "body of "))
}

// receivedSize is the size of the body received ("–" when none was read).
func receivedSize(ev hook.Event) string {
	if announcedOnly(ev) {
		return "–"
	}
	return hook.Bytes(ev.Size).String()
}

// statusText is an event's status as the log shows it: the answer and, for refusals, why.
func statusText(ev hook.Event) (string, widget.Importance) {
	switch ev.Status {
	case hook.Rejected:
		return "✕ " + strconv.Itoa(ev.ResponseStatus), widget.DangerImportance
	case hook.Duplicate:
		return "↺ dup", widget.WarningImportance
	}
	if ev.Verification.Result == hook.ResultFailed {
		return "⚠ " + strconv.Itoa(ev.ResponseStatus), widget.WarningImportance
	}
	return "✓ " + strconv.Itoa(ev.ResponseStatus), widget.SuccessImportance
}

// query is the storage query the filters describe.
func (l *eventLog) query() hook.EventQuery {
	q := hook.EventQuery{EndpointID: l.endpoint, Text: strings.TrimSpace(l.search.Text), Limit: pageSize,
		Type: strings.TrimSpace(l.typ.Text)}
	if s, ok := hook.ParseStatus(l.status.Selected); ok {
		q.Status = &s
	}
	if m := l.method.Selected; m != allChoices && m != "" {
		q.Method = m
	}
	return q
}

func (l *eventLog) filtered() bool {
	q := l.query()
	return q.Text != "" || q.Status != nil || q.Method != "" || q.Type != ""
}

// matches reports whether a live event belongs in the list as filtered. Full-text search cannot
// be judged here (and the index lags a moment), so a search shows what it found until rerun.
func (l *eventLog) matches(ev hook.Event) bool {
	q := l.query()
	switch {
	case q.Text != "":
		return false
	case q.EndpointID != "" && ev.EndpointID != q.EndpointID:
		return false
	case q.Status != nil && ev.Status != *q.Status:
		return false
	case q.Method != "" && ev.Method != q.Method:
		return false
	case q.Type != "" && ev.Type != q.Type:
		return false
	}
	return true
}

func (l *eventLog) setEndpoint(id string) {
	if id == l.endpoint && l.list != nil && len(l.events) > 0 {
		return
	}
	l.endpoint = id
	l.fitColumns()
	l.reload()
}

// fitColumns leaves the endpoint column out when every row would name the same endpoint.
func (l *eventLog) fitColumns() {
	w := l.endpointW
	if l.endpoint != "" || len(l.u.svc.Endpoints.List()) <= 1 {
		w = 0
	}
	if l.columns.widths[endpointColumn] != w {
		l.columns.widths[endpointColumn] = w
		l.colGen++
		l.header.Refresh()
		l.list.Refresh()
	}
}

// reloadSoon reloads after typing pauses for a quarter of a second.
func (l *eventLog) reloadSoon() {
	if l.debounce != nil {
		l.debounce.Stop()
	}
	l.debounce = time.AfterFunc(250*time.Millisecond, func() { l.u.do(l.reload) })
}

// reload reads the newest page for the current filters in the background.
func (l *eventLog) reload() {
	l.gen++
	l.clearPending()
	before := newestID(l.events)
	l.fetch(l.query(), func(page hook.Page) {
		l.events, l.next = withLiveRows(l.events, before, page, l.matches), page.Next
		l.list.Refresh()
		if l.keptOffset > 0 { // the window was closed scrolled down: back to where the user was
			l.list.ScrollToOffset(l.keptOffset)
			l.keptOffset = 0
		}
		l.selectFirstIfNone()
	})
}

// withLiveRows is a reloaded page with the rows the live feed added to shown while the page was
// read on top: those newer than both the page and before (the newest row when the reload
// started, so that rows deleted since are not kept) that still match the filters.
func withLiveRows(shown []hook.Event, before int64, page hook.Page, matches func(hook.Event) bool) []hook.Event {
	floor := max(before, newestID(page.Events))
	var live []hook.Event
	for _, ev := range shown {
		if ev.ID <= floor {
			break // newest first: the rest are older
		}
		if matches(ev) {
			live = append(live, ev)
		}
	}
	if len(live) == 0 {
		return page.Events
	}
	return append(live, page.Events...)
}

func newestID(evs []hook.Event) int64 {
	if len(evs) == 0 {
		return 0
	}
	return evs[0].ID
}

// loadMore appends the next older page, once the list scrolls near its end.
func (l *eventLog) loadMore() {
	if l.loading || l.next == 0 {
		return
	}
	q := l.query()
	q.Before = l.next
	l.fetch(q, func(page hook.Page) {
		l.events = append(l.events, page.Events...)
		l.next = page.Next
		l.list.Refresh()
	})
}

// fetch runs q off the UI goroutine and applies its page on it, unless a reload has started
// since (its answer would be for filters no longer shown).
func (l *eventLog) fetch(q hook.EventQuery, apply func(hook.Page)) {
	l.loading = true
	gen := l.gen
	go func() {
		page, err := l.u.svc.History.Events(context.Background(), q)
		l.u.do(func() {
			if gen != l.gen {
				return
			}
			l.loading = false
			if err != nil {
				l.u.showError(err)
				return
			}
			apply(page)
			l.updateEmptyState()
		})
	}()
}

// prepend takes live events (oldest first, as published). At the top of the list, a few at a
// time go straight in; a burst, or any while the user has scrolled down, waits behind the
// "N new events" bar, so the rows under the pointer stay where they are.
func (l *eventLog) prepend(evs []hook.Event) {
	var fresh []hook.Event
	for i := len(evs) - 1; i >= 0; i-- {
		if l.matches(evs[i]) {
			fresh = append(fresh, evs[i])
		}
	}
	atTop := l.list.GetScrollOffset() <= 0
	switch {
	case len(fresh) == 0 && (len(l.pending) == 0 || !atTop):
		return
	case atTop && !l.overflow && (len(l.pending)+len(fresh) <= burstRows || len(l.events) == 0):
		// A few at a time, or into an empty list: nothing the user looks at moves.
		l.show(append(fresh, l.pending...))
		l.clearPending()
	default:
		l.pending = append(fresh, l.pending...)
		if len(l.pending) > maxInView {
			l.pending, l.overflow = l.pending[:maxInView], true
		}
		l.scrolled = l.scrolled || !atTop
		if !l.newBar.Visible() {
			l.updateNewBar()
			l.newBar.Show()
		}
		l.watchScroll() // the count on the bar follows once a second, not with every refresh
	}
}

func (l *eventLog) updateNewBar() {
	n := len(l.pending)
	text := fmt.Sprintf("%s — show them", plural(int64(n), "new event", "new events"))
	if l.overflow {
		text = fmt.Sprintf("%d+ new events — show them", n)
	}
	if l.newBar.Text != text {
		l.newBar.SetText(text)
	}
}

// watchScroll keeps the bar's count current while events wait, and takes them in once a user who
// had scrolled down comes back to the top (the list tells nobody when it scrolls).
func (l *eventLog) watchScroll() {
	if l.watching {
		return
	}
	l.watching = true
	time.AfterFunc(time.Second, func() {
		l.u.do(func() {
			l.watching = false
			switch {
			case len(l.pending) == 0 && !l.overflow:
			case l.scrolled && l.list.GetScrollOffset() <= 0:
				l.showPending()
			default:
				l.updateNewBar()
				l.watchScroll()
			}
		})
	})
}

// show puts events (newest first) on top of the list.
func (l *eventLog) show(fresh []hook.Event) {
	l.events = append(fresh, l.events...)
	if len(l.events) > maxInView {
		l.events = l.events[:maxInView]
		l.next = l.events[len(l.events)-1].ID
	}
	l.list.Refresh()
	l.selectFirstIfNone()
	l.updateEmptyState()
}

// showPending is the "N new events" bar: the waiting events go on top and the list scrolls there.
func (l *eventLog) showPending() {
	if l.overflow {
		l.reload()
	} else {
		l.show(l.pending)
		l.clearPending()
	}
	l.list.ScrollToTop()
}

func (l *eventLog) clearPending() {
	l.pending, l.overflow, l.scrolled = nil, false, false
	if l.newBar != nil {
		l.newBar.Hide()
	}
}

// selectFirstIfNone shows the newest event when none is selected yet.
func (l *eventLog) selectFirstIfNone() {
	if l.selected == 0 && len(l.events) > 0 {
		l.selected = l.events[0].ID
		l.list.Refresh()
		l.OnSelected(l.selected)
	}
}

// release drops what the log holds while the window is closed; reload brings it back. The
// selection and the scroll position are kept.
func (l *eventLog) release() {
	l.keptOffset = l.list.GetScrollOffset()
	l.events, l.next = nil, 0
	l.clearPending()
	l.gen++ // answers of loads under way are for a list no longer shown
}

// endpointsChanged redraws names and the empty state after endpoints changed.
func (l *eventLog) endpointsChanged() {
	l.fitColumns()
	l.list.Refresh()
	l.updateEmptyState()
}

// updateEmptyState shows what to do when there is nothing to list, and how much is listed.
func (l *eventLog) updateEmptyState() {
	n := len(l.events)
	endpoints := l.u.svc.Endpoints.List()
	l.fitColumns()
	l.summary.SetText(l.counter(endpoints))
	switch {
	case len(endpoints) == 0:
		create := widget.NewButtonWithIcon("Create an endpoint", theme.ContentAddIcon(), func() { l.OnCreateEndpoint() })
		create.Importance = widget.HighImportance
		l.setEmpty(widget.NewLabelWithStyle("Welcome to Hooktray", fyne.TextAlignCenter, fyne.TextStyle{Bold: true}),
			widget.NewLabelWithStyle("Create an endpoint, then send a webhook to its URL.\nEvery request it receives shows up here, live.", fyne.TextAlignCenter, fyne.TextStyle{}),
			container.NewCenter(create))
	case n == 0 && l.filtered():
		clear := widget.NewButton("Clear filters", func() {
			l.search.SetText("")
			l.typ.SetText("")
			l.status.SetSelected(allChoices)
			l.method.SetSelected(allChoices)
		})
		l.setEmpty(widget.NewLabelWithStyle("No events match", fyne.TextAlignCenter, fyne.TextStyle{Bold: true}), container.NewCenter(clear))
	case n == 0:
		ep := endpoints[0]
		if l.endpoint != "" {
			if e, err := l.u.svc.Endpoints.Get(l.endpoint); err == nil {
				ep = e
			}
		}
		url := l.u.bestURL(ep.ID)
		urlLabel := widget.NewLabelWithStyle(url, fyne.TextAlignCenter, fyne.TextStyle{Monospace: true})
		copyURL := widget.NewButtonWithIcon("Copy URL", theme.ContentCopyIcon(), func() { l.u.copyText("URL", url) })
		example := widget.NewLabelWithStyle("curl -d '{\"hello\":\"hooktray\"}' "+url, fyne.TextAlignCenter, fyne.TextStyle{Monospace: true})
		example.SizeName = theme.SizeNameCaptionText
		l.setEmpty(widget.NewLabelWithStyle("No events yet for "+ep.Name, fyne.TextAlignCenter, fyne.TextStyle{Bold: true}),
			widget.NewLabelWithStyle("Send a webhook to:", fyne.TextAlignCenter, fyne.TextStyle{}),
			urlLabel, container.NewCenter(copyURL), example)
	default:
		l.empty.Hide()
		return
	}
	l.empty.Show()
}

// counter says how many events there are and how many the list shows: "314 events · 5 shown".
func (l *eventLog) counter(endpoints []hook.Endpoint) string {
	var total int64
	for _, ep := range endpoints {
		if l.endpoint == "" || ep.ID == l.endpoint {
			total += l.u.svc.Endpoints.Activity(ep.ID).Events
		}
	}
	n := int64(len(l.events))
	total = max(total, n) // counts are loaded in the background at start
	s := plural(total, "event", "events")
	switch {
	case l.filtered():
		s += fmt.Sprintf(" · %d match", n)
		if l.next != 0 {
			s += " so far"
		}
	case n < total:
		s += fmt.Sprintf(" · %d shown", n)
	}
	return s
}

// focusSearch puts the cursor in the search field (Ctrl+F).
func (l *eventLog) focusSearch() {
	if c := fyne.CurrentApp().Driver().CanvasForObject(l.search); c != nil {
		c.Focus(l.search)
	}
}

func (l *eventLog) setEmpty(objs ...fyne.CanvasObject) {
	card := widget.NewCard("", "", container.NewVBox(objs...))
	l.empty.Objects = []fyne.CanvasObject{card}
	l.empty.Refresh()
}

// clearSelection forgets the selected event (it was deleted, say).
func (l *eventLog) clearSelection() {
	l.selected = 0
	l.list.Refresh()
}
