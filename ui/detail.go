package ui

import (
	"context"
	"encoding/hex"
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
	"github.com/hooktray/hooktray/hook"
)

// eventDetail is the right pane: one event's overview, headers, query and body, with actions.
type eventDetail struct {
	u *UI
	// OnDeleted is called after the event shown was deleted; NameOf names an endpoint by id.
	OnDeleted func(id int64)
	NameOf    func(id string) string

	ev *hook.Event // the event shown (full), nil when none
	id int64       // the event being loaded or shown

	title       *widget.Label
	overview    *widget.Form
	headers     [][2]string
	query       [][2]string
	hdrTable    *widget.Table
	qryTable    *widget.Table
	body        *bodyView
	shape       *widget.TextGrid // what this type's payloads look like on the endpoint
	tabs        *container.AppTabs
	actions     *fyne.Container
	copyCurl    *widget.Button
	copyBodyBtn *widget.Button
	reveal      *widget.Check // include credentials and signatures in copies and exports
	decrypted   *codeView
	decTab      *container.TabItem
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
	d.shape = widget.NewTextGrid()
	d.hdrTable = pairTable(&d.headers)
	d.qryTable = pairTable(&d.query)
	d.body = newBodyView(u)
	d.decrypted = newCodeView()
	d.decTab = container.NewTabItem("Decrypted", d.decrypted)
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
		container.NewTabItem("Headers", d.pairsView(&d.headers, d.hdrTable)),
		container.NewTabItem("Query", d.pairsView(&d.query, d.qryTable)),
		container.NewTabItem("Body", d.body.content),
		container.NewTabItem("Deliveries", container.NewBorder(d.delNote, nil, nil, nil, d.delList)),
		container.NewTabItem("Shape", container.NewScroll(d.shape)),
	)
	d.reveal = widget.NewCheck("Copies and exports with credentials", nil)
	d.copyBodyBtn = widget.NewButtonWithIcon("Copy body", theme.ContentCopyIcon(), d.copyBody)
	copyBody := d.copyBodyBtn
	d.copyCurl = widget.NewButtonWithIcon("Copy cURL", theme.ContentCopyIcon(), d.copyCurlCommand)
	var export, replay *widget.Button
	export = widget.NewButtonWithIcon("Export", theme.DocumentSaveIcon(), func() {
		d.popMenu(export, fyne.NewMenuItem("As JSON…", func() { d.export("json") }), fyne.NewMenuItem("As HAR…", func() { d.export("har") }))
	})
	replay = widget.NewButtonWithIcon("Replay", theme.MailForwardIcon(), func() {
		d.popMenu(replay, fyne.NewMenuItem("To its targets…", d.replay), fyne.NewMenuItem("To a URL…", d.replayToURL))
	})
	compare := widget.NewButtonWithIcon("Compare", theme.ContentPasteIcon(), d.compare)
	del := widget.NewButtonWithIcon("", theme.DeleteIcon(), d.confirmDelete)
	del.Importance = widget.DangerImportance
	// Two short rows, so the pane's minimum width leaves room for the log beside it.
	d.actions = container.NewVBox(
		container.NewHBox(replay, d.copyCurl, copyBody, export),
		container.NewHBox(d.reveal, layout.NewSpacer(), compare, del))
	detail := container.NewBorder(container.NewVBox(d.title, d.actions), nil, nil, nil, d.tabs)
	d.none = container.NewCenter(widget.NewLabel("Select an event to see its headers and body."))
	d.stack = container.NewStack(detail, d.none)
	detail.Hide()
	d.content = d.stack
	return d
}

// pairTable is a two-column name/value table over *rows; a value too long to fit shows whole on
// hover.
func pairTable(rows *[][2]string) *widget.Table {
	t := widget.NewTable(
		func() (int, int) { return len(*rows), 2 },
		func() fyne.CanvasObject {
			l := newTipLabel()
			l.Truncation = fyne.TextTruncateEllipsis
			return l
		},
		func(id widget.TableCellID, o fyne.CanvasObject) {
			l := o.(*tipLabel)
			if id.Row < len(*rows) {
				l.TextStyle = fyne.TextStyle{Bold: id.Col == 0, Monospace: id.Col == 1}
				l.SetText((*rows)[id.Row][id.Col])
			}
		})
	t.SetColumnWidth(0, 190)
	t.SetColumnWidth(1, 600)
	return t
}

// pairsView is a name/value table with Copy value (of the row chosen) and Copy all.
func (d *eventDetail) pairsView(rows *[][2]string, t *widget.Table) fyne.CanvasObject {
	chosen := -1
	var copyValue *widget.Button
	copyValue = widget.NewButtonWithIcon("Copy value", theme.ContentCopyIcon(), func() {
		if chosen >= 0 && chosen < len(*rows) {
			d.u.app.Clipboard().SetContent((*rows)[chosen][1])
			d.u.flash(copyValue, "Copied "+(*rows)[chosen][0])
		}
	})
	copyValue.Disable()
	var copyAll *widget.Button
	copyAll = widget.NewButtonWithIcon("Copy all", theme.ContentCopyIcon(), func() {
		var b strings.Builder
		for _, r := range *rows {
			b.WriteString(r[0] + ": " + r[1] + "\n")
		}
		d.u.app.Clipboard().SetContent(b.String())
		d.u.flash(copyAll, "Copied")
	})
	t.OnSelected = func(id widget.TableCellID) {
		chosen = id.Row
		copyValue.Enable()
	}
	hint := widget.NewLabel("Choose a row to copy its value.")
	hint.SizeName = theme.SizeNameCaptionText
	return container.NewBorder(container.NewHBox(copyValue, copyAll, hint), nil, nil, nil, t)
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
	d.headers, d.query = nil, nil
}

func (d *eventDetail) clear() {
	d.ev, d.id = nil, 0
	d.body.clear()
	d.decrypted.SetSource(nil)
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
	d.shape.SetText(shapeText(d.u.svc.Shapes.Of(ev.EndpointID), ev))
	d.tabs.Remove(d.decTab)
	if ev.Decrypted != nil {
		d.decrypted.SetSource(jsonDoc(ev.Decrypted)) // small: a mobile_app payload
		d.tabs.Append(d.decTab)
	}
	d.body.show(d.ev)
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
	if ev.InboxSeq > 0 {
		add("Came through", fmt.Sprintf("the always-on inbox, which kept it as number %d until Hooktray took it: the time above is when it arrived there", ev.InboxSeq))
	}
	add("Endpoint", d.NameOf(ev.EndpointID))
	answered := fmt.Sprintf("%d", ev.ResponseStatus)
	if ev.AnsweredBy != "" {
		answered += " by the endpoint's response " + ev.AnsweredBy
	}
	add("Answered", answered)
	add("Client", clientText(ev))
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
		verdict = fmt.Sprintf("%s: %s%s", ev.Verification.Scheme.Title(), ev.Verification.Result, withReason(ev.Verification.Reason))
	}
	add("Verification", verdict)
	d.overview.Refresh()
}

// clientText says who sent the event, as far as is known.
func clientText(ev hook.Event) string {
	switch {
	case ev.InboxSeq > 0 && ev.ClientIP == "":
		return "not known: the inbox was not told (a local inbox never is; Cloudflare says it)"
	case ev.InboxSeq > 0:
		return ev.ClientIP + " (as Cloudflare saw it)"
	}
	return ev.ClientIP + " (connection from " + ev.RemoteAddr + ")"
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

// popMenu opens a menu under the button b.
func (d *eventDetail) popMenu(b *widget.Button, items ...*fyne.MenuItem) {
	c := fyne.CurrentApp().Driver().CanvasForObject(b)
	pos := fyne.CurrentApp().Driver().AbsolutePositionForObject(b)
	widget.ShowPopUpMenuAtPosition(fyne.NewMenu("", items...), c, pos.Add(fyne.NewPos(0, b.Size().Height)))
}

// showTab brings the tab named name to the front.
func (d *eventDetail) showTab(name string) {
	for _, t := range d.tabs.Items {
		if t.Text == name {
			d.tabs.Select(t)
		}
	}
}

// copyCurlCommand copies the shown event as a cURL command.
func (d *eventDetail) copyCurlCommand() {
	if d.ev != nil {
		d.u.app.Clipboard().SetContent(d.curl())
		d.u.flash(d.copyCurl, "Copied")
	}
}

func (d *eventDetail) copyBody() {
	if d.ev == nil || d.ev.Body == nil {
		return
	}
	text, what := string(d.ev.Body), "Copied"
	if !utf8.Valid(d.ev.Body) {
		text, what = hex.EncodeToString(d.ev.Body), "Copied as hex"
	}
	d.u.app.Clipboard().SetContent(text)
	d.u.flash(d.copyBodyBtn, what)
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
	d.u.confirm(d.u.win, "Delete event", fmt.Sprintf("Delete event %d from the history? This cannot be undone.", id), func() {
		d.u.background(func() error { return d.u.svc.History.Delete(context.Background(), id) }, func() {
			d.clear()
			d.OnDeleted(id)
		})
	})
}
