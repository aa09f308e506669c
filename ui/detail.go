package ui

import (
	"context"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"sort"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/dialog"
	"fyne.io/fyne/v2/layout"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"

	"github.com/hooktray/hooktray/app/export"
	"github.com/hooktray/hooktray/app/pretty"
	"github.com/hooktray/hooktray/hook"
)

// maxBodyView is the most of a body the detail pane draws; exports and copies carry all of it.
const maxBodyView = 256 << 10

// Body views.
const (
	viewPretty = "Pretty"
	viewRaw    = "Raw"
	viewHex    = "Hex"
)

// eventDetail is the right pane: one event's overview, headers, query and body, with actions.
type eventDetail struct {
	u *UI
	// OnDeleted is called after the event shown was deleted; NameOf names an endpoint by id.
	OnDeleted func(id int64)
	NameOf    func(id string) string

	ev *hook.Event // the event shown (full), nil when none
	id int64       // the event being loaded or shown

	title     *widget.Label
	overview  *widget.Form
	headers   [][2]string
	query     [][2]string
	hdrTable  *widget.Table
	qryTable  *widget.Table
	bodyMode  *widget.RadioGroup
	bodyNote  *widget.Label
	body      *widget.TextGrid
	tabs      *container.AppTabs
	actions   *fyne.Container
	copyCurl  *widget.Button
	reveal    *widget.Check // include credentials and signatures in copies and exports
	decrypted *widget.TextGrid
	decTab    *container.TabItem
	// deliveries of the event shown, in the Deliveries tab
	deliveries []hook.Delivery
	delList    *widget.List
	delNote    *widget.Label
	stack      *fyne.Container
	none       fyne.CanvasObject
	content    fyne.CanvasObject
}

func newEventDetail(u *UI) *eventDetail {
	d := &eventDetail{u: u}
	d.title = widget.NewLabelWithStyle("", fyne.TextAlignLeading, fyne.TextStyle{Bold: true})
	d.title.Wrapping = fyne.TextWrapWord
	d.overview = widget.NewForm()
	d.hdrTable = pairTable(&d.headers)
	d.qryTable = pairTable(&d.query)
	d.body = widget.NewTextGrid()
	d.bodyNote = widget.NewLabel("")
	d.bodyNote.SizeName = theme.SizeNameCaptionText
	d.bodyMode = widget.NewRadioGroup([]string{viewPretty, viewRaw, viewHex}, func(string) { d.renderBody() })
	d.bodyMode.Horizontal = true
	bodyTab := container.NewBorder(container.NewHBox(d.bodyMode, d.bodyNote), nil, nil, nil, container.NewScroll(d.body))
	d.decrypted = widget.NewTextGrid()
	d.decTab = container.NewTabItem("Decrypted", container.NewScroll(d.decrypted))
	d.delNote = widget.NewLabel("")
	d.delNote.Wrapping = fyne.TextWrapWord
	d.delList = widget.NewList(func() int { return len(d.deliveries) }, func() fyne.CanvasObject {
		line := widget.NewLabel("")
		line.Truncation = fyne.TextTruncateEllipsis
		sub := widget.NewLabel("")
		sub.Truncation = fyne.TextTruncateEllipsis
		sub.SizeName = theme.SizeNameCaptionText
		return container.NewBorder(nil, nil, nil, widget.NewButtonWithIcon("Retry", theme.ViewRefreshIcon(), nil), container.NewVBox(line, sub))
	}, d.updateDelivery)
	d.tabs = container.NewAppTabs(
		container.NewTabItem("Overview", container.NewVScroll(d.overview)),
		container.NewTabItem("Headers", d.hdrTable),
		container.NewTabItem("Query", d.qryTable),
		container.NewTabItem("Body", bodyTab),
		container.NewTabItem("Deliveries", container.NewBorder(d.delNote, nil, nil, nil, d.delList)),
	)
	d.reveal = widget.NewCheck("with credentials", nil)
	copyBody := widget.NewButtonWithIcon("Body", theme.ContentCopyIcon(), d.copyBody)
	d.copyCurl = widget.NewButtonWithIcon("cURL", theme.ContentCopyIcon(), func() {
		if d.ev != nil {
			d.u.copyText("cURL command", d.curl())
		}
	})
	exportJSON := widget.NewButtonWithIcon("JSON", theme.DocumentSaveIcon(), func() { d.export("json") })
	exportHAR := widget.NewButtonWithIcon("HAR", theme.DocumentSaveIcon(), func() { d.export("har") })
	replay := widget.NewButtonWithIcon("Replay…", theme.MailForwardIcon(), d.replay)
	del := widget.NewButtonWithIcon("Delete", theme.DeleteIcon(), d.confirmDelete)
	del.Importance = widget.DangerImportance
	// Two short rows, so the pane's minimum width leaves room for the log beside it.
	d.actions = container.NewVBox(
		container.NewHBox(widget.NewLabel("Copy"), copyBody, d.copyCurl, widget.NewLabel("Export"), exportJSON, exportHAR),
		container.NewHBox(d.reveal, replay, layout.NewSpacer(), del))
	detail := container.NewBorder(container.NewVBox(d.title, d.actions), nil, nil, nil, d.tabs)
	d.none = container.NewCenter(widget.NewLabel("Select an event to see its headers and body."))
	d.stack = container.NewStack(detail, d.none)
	detail.Hide()
	d.content = d.stack
	return d
}

// pairTable is a two-column name/value table over *rows.
func pairTable(rows *[][2]string) *widget.Table {
	t := widget.NewTable(
		func() (int, int) { return len(*rows), 2 },
		func() fyne.CanvasObject {
			l := widget.NewLabel("")
			l.Truncation = fyne.TextTruncateEllipsis
			return l
		},
		func(id widget.TableCellID, o fyne.CanvasObject) {
			l := o.(*widget.Label)
			if id.Row < len(*rows) {
				l.SetText((*rows)[id.Row][id.Col])
				l.TextStyle = fyne.TextStyle{Bold: id.Col == 0, Monospace: id.Col == 1}
			}
		})
	t.SetColumnWidth(0, 190)
	t.SetColumnWidth(1, 600)
	return t
}

// show loads event id in the background and displays it.
func (d *eventDetail) show(id int64) {
	d.id = id
	go func() {
		ev, err := d.u.svc.History.Event(context.Background(), id)
		d.u.do(func() {
			if d.id != id {
				return // another event was selected meanwhile
			}
			if err != nil {
				d.clear()
				return
			}
			d.display(ev)
			if d.u.trace != nil {
				// For the desktop benchmark: when a selected event's detail is on screen.
				fmt.Fprintf(d.u.trace, "ui: detail shown %d %d\n", id, time.Now().UnixNano())
			}
		})
	}()
}

// release lets go of the event shown (its body may be large) while the window is closed.
func (d *eventDetail) release() {
	d.clear()
	d.body.SetText("")
	d.headers, d.query = nil, nil
}

func (d *eventDetail) clear() {
	d.ev, d.id = nil, 0
	d.stack.Objects[0].Hide()
	d.none.Show()
}

func (d *eventDetail) display(ev hook.Event) {
	d.ev = &ev
	d.stack.Objects[0].Show()
	d.none.Hide()
	d.deliveries = nil
	d.delList.Refresh()
	d.loadDeliveries()
	d.title.SetText(fmt.Sprintf("%s %s — %s, answered %d", ev.Method, requestTarget(ev), ev.Status, ev.ResponseStatus))
	d.showOverview(ev)
	d.showHeadersAndQuery(ev)
	d.tabs.Remove(d.decTab)
	if ev.Decrypted != nil {
		if laid, err := pretty.JSON(ev.Decrypted, pretty.Limits{}); err == nil {
			d.decrypted.Rows = jsonRows(string(laid))
			d.decrypted.Refresh()
		} else {
			d.decrypted.SetText(string(ev.Decrypted))
		}
		d.tabs.Append(d.decTab)
	}
	mode := viewRaw
	switch {
	case ev.Body == nil:
	case json.Valid(ev.Body):
		mode = viewPretty
	case !utf8.Valid(ev.Body):
		mode = viewHex
	}
	if d.bodyMode.Selected == mode {
		d.renderBody()
	} else {
		d.bodyMode.SetSelected(mode) // renders
	}
}

// showOverview fills the overview tab: what the event is, a field a line.
func (d *eventDetail) showOverview(ev hook.Event) {
	d.overview.Items = nil
	add := func(name, value string) {
		v := widget.NewLabel(value)
		v.Wrapping = fyne.TextWrapWord
		d.overview.Append(name, v)
	}
	add("Status", ev.Status.String()+withReason(ev.Reason))
	add("Received", ev.ReceivedAt.Local().Format("Mon 2 Jan 2006 15:04:05.000"))
	add("Endpoint", d.NameOf(ev.EndpointID))
	add("Answered", fmt.Sprintf("%d", ev.ResponseStatus))
	add("Client", ev.ClientIP+" (connection from "+ev.RemoteAddr+")")
	add("Size", hook.Bytes(ev.Size).String())
	typ := ev.Type
	if typ == "" {
		typ = "not stated"
	}
	add("Type", typ)
	if ev.DeliveryID != "" {
		add("Delivery id", ev.DeliveryID)
	}
	if ev.DuplicateOf != 0 {
		add("Duplicate of", fmt.Sprintf("event %d", ev.DuplicateOf))
	}
	verdict := "not configured for this endpoint"
	if ev.Verification.Scheme != hook.SchemeNone {
		verdict = fmt.Sprintf("%s: %s%s", ev.Verification.Scheme, ev.Verification.Result, withReason(ev.Verification.Reason))
	}
	add("Verification", verdict)
	d.overview.Refresh()
}

// showHeadersAndQuery fills the headers and query tables, sorted by name.
func (d *eventDetail) showHeadersAndQuery(ev hook.Event) {
	d.headers = d.headers[:0]
	for _, name := range sortedKeys(ev.Header) {
		for _, v := range ev.Header[name] {
			d.headers = append(d.headers, [2]string{name, v})
		}
	}
	d.query = d.query[:0]
	if q, err := url.ParseQuery(ev.Query); err == nil {
		for _, name := range sortedKeys(q) {
			for _, v := range q[name] {
				d.query = append(d.query, [2]string{name, v})
			}
		}
	} else if ev.Query != "" {
		d.query = append(d.query, [2]string{"(raw)", ev.Query})
	}
	d.hdrTable.Refresh()
	d.qryTable.Refresh()
}

func withReason(r string) string {
	if r == "" {
		return ""
	}
	return " — " + r
}

func requestTarget(ev hook.Event) string { return hook.RequestTarget(ev.Path, ev.Query) }

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

// renderBody draws the body in the chosen view.
func (d *eventDetail) renderBody() {
	if d.ev == nil {
		return
	}
	ev := d.ev
	switch {
	case ev.Body == nil:
		d.body.SetText("")
		d.bodyNote.SetText("Not kept: the request was rejected" + withReason(ev.Reason) + ".")
		return
	case len(ev.Body) == 0:
		d.body.SetText("")
		d.bodyNote.SetText("Empty body.")
		return
	}
	b := ev.Body
	note := hook.Bytes(len(b)).String()
	if len(b) > maxBodyView {
		b = b[:maxBodyView]
		note += fmt.Sprintf(", showing the first %s (copy or export for all of it)", hook.Bytes(maxBodyView).String())
	}
	switch d.bodyMode.Selected {
	case viewPretty:
		laid, err := pretty.JSON(b, pretty.Limits{})
		var limit *pretty.LimitError
		switch {
		case err == nil:
			d.body.Rows = jsonRows(string(laid))
			d.body.Refresh()
			d.bodyNote.SetText(note + ", JSON")
			return
		case errors.As(err, &limit):
			note += fmt.Sprintf(", JSON not laid out (%v): shown as sent", limit)
		default:
			note += ", not JSON: shown as text"
		}
		d.body.SetText(string(b))
	case viewHex:
		d.body.SetText(strings.TrimRight(hex.Dump(b), "\n"))
	default:
		if utf8.Valid(b) {
			d.body.SetText(string(b))
		} else {
			d.body.SetText(strings.ToValidUTF8(string(b), "�"))
			note += ", not UTF-8 (see Hex)"
		}
	}
	d.bodyNote.SetText(note)
}

func (d *eventDetail) copyBody() {
	if d.ev == nil || d.ev.Body == nil {
		return
	}
	if !utf8.Valid(d.ev.Body) {
		d.u.copyText("body (hex)", hex.EncodeToString(d.ev.Body))
		return
	}
	d.u.copyText("body", string(d.ev.Body))
}

// curl is the shown event as a runnable cURL command aimed at its endpoint's URL.
func (d *eventDetail) curl() string {
	return export.Curl(d.shareable(), d.u.bestURL(d.ev.EndpointID))
}

// shareable is the shown event as copies and exports carry it: credential and signature headers
// masked unless "with credentials" is ticked.
func (d *eventDetail) shareable() hook.Event {
	if d.reveal.Checked {
		return *d.ev
	}
	var extra string
	if ep, err := d.u.svc.Endpoints.Get(d.ev.EndpointID); err == nil {
		extra = ep.Settings.Verify.Header
	}
	return export.Mask(*d.ev, extra)
}

func (d *eventDetail) export(kind string) {
	if d.ev == nil {
		return
	}
	ev := d.shareable()
	var data []byte
	var err error
	if kind == "har" {
		data, err = export.HAR(ev, d.u.bestURL(ev.EndpointID), d.u.svc.Info.Version)
	} else {
		data, err = export.JSON(ev)
	}
	if err != nil {
		d.u.showError(err)
		return
	}
	save := dialog.NewFileSave(func(w fyne.URIWriteCloser, err error) {
		if err != nil || w == nil {
			return
		}
		go func() {
			_, werr := w.Write(data)
			cerr := w.Close()
			d.u.do(func() {
				if werr != nil || cerr != nil {
					d.u.showError(fmt.Errorf("export event %d: %v", ev.ID, firstErr(werr, cerr)))
					return
				}
				d.u.say("Exported event " + strconv.FormatInt(ev.ID, 10))
			})
		}()
	}, d.u.win)
	save.SetFileName(fmt.Sprintf("hooktray-event-%d.%s", ev.ID, kind))
	save.Show()
}

func firstErr(errs ...error) error {
	for _, err := range errs {
		if err != nil {
			return err
		}
	}
	return nil
}

func (d *eventDetail) confirmDelete() {
	if d.ev == nil {
		return
	}
	id := d.ev.ID
	dialog.ShowConfirm("Delete event", fmt.Sprintf("Delete event %d from the history? This cannot be undone.", id), func(ok bool) {
		if !ok {
			return
		}
		d.u.background(func() error { return d.u.svc.History.Delete(context.Background(), id) }, func() {
			d.clear()
			d.OnDeleted(id)
		})
	}, d.u.win)
}
