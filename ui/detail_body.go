package ui

import (
	"bytes"
	"fmt"
	"mime"
	"net/url"
	"os"
	"path/filepath"
	"runtime/debug"
	"strings"
	"time"
	"unicode/utf8"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/dialog"
	"fyne.io/fyne/v2/storage"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"

	"github.com/hooktray/hooktray/hook"
)

// bodyPreview is how much of a body the view lays out at first; "Show all" lays out the rest.
// Laying out is off the UI goroutine either way, and only the rows on screen are drawn.
const bodyPreview = 64 << 10

// Body views.
const (
	viewPretty = "Pretty"
	viewRaw    = "Raw"
	viewHex    = "Hex"
	viewForm   = "Form"
)

// bodyView is the Body tab: the body as laid-out JSON, text, a hex dump or a form's fields, with
// wrap, find, show all, save and open.
type bodyView struct {
	u    *UI
	ev   *hook.Event
	all  bool // lay out all of it, not only the preview
	gen  int  // bumped by every layout, so a late one never replaces a newer
	held int  // the size of the body laid out now, to let memory go when it leaves

	mode    *widget.RadioGroup
	wrap    *widget.Check
	find    *widget.Entry
	found   *widget.Label
	note    *widget.Label
	showAll *widget.Button
	code    *codeView
	form    [][2]string
	formTab *widget.Table
	view    *fyne.Container // code or formTab
	content fyne.CanvasObject
}

func newBodyView(u *UI) *bodyView {
	b := &bodyView{u: u, code: newCodeView()}
	b.mode = widget.NewRadioGroup([]string{viewPretty, viewRaw, viewHex}, func(string) { b.render() })
	b.mode.Horizontal = true
	b.wrap = widget.NewCheck("Wrap", func(on bool) { b.code.SetWrap(on) })
	b.wrap.SetChecked(true)
	b.find = widget.NewEntry()
	b.find.SetPlaceHolder("Find in body")
	b.find.OnSubmitted = func(string) { b.findNext() }
	b.find.OnChanged = func(string) { b.found.SetText("") }
	b.found = widget.NewLabel("")
	b.found.SizeName = theme.SizeNameCaptionText
	b.note = widget.NewLabel("")
	b.note.SizeName = theme.SizeNameCaptionText
	b.note.Truncation = fyne.TextTruncateEllipsis
	b.showAll = widget.NewButton("Show all", func() { b.all = true; b.render() })
	b.showAll.Hide()
	save := widget.NewButtonWithIcon("Save…", theme.DocumentSaveIcon(), b.save)
	open := widget.NewButtonWithIcon("Open", theme.FileTextIcon(), b.openInEditor) // with the system's editor
	b.formTab = pairTable(&b.form)
	b.view = container.NewStack(b.code)
	// Two short rows, so the pane's minimum width leaves room for the log beside it.
	views := container.NewHBox(b.mode, b.wrap)
	tools := container.NewBorder(nil, nil, nil, container.NewHBox(b.found, b.showAll, save, open), b.find)
	b.content = container.NewBorder(container.NewVBox(views, tools, b.note), nil, nil, nil, b.view)
	return b
}

// show lays out ev's body in the view its content suggests.
func (b *bodyView) show(ev *hook.Event) {
	b.ev, b.all = ev, false
	modes := []string{viewPretty, viewRaw, viewHex}
	if isForm(ev) {
		modes = append([]string{viewForm}, modes...)
	}
	b.mode.Options = modes
	mode := viewRaw
	switch {
	case isForm(ev):
		mode = viewForm
	case looksJSON(ev.Body):
		mode = viewPretty
	case !utf8.Valid(ev.Body[:min(len(ev.Body), 4096)]):
		mode = viewHex
	}
	if b.mode.Selected == mode {
		b.render()
	} else {
		b.mode.SetSelected(mode) // renders
	}
}

// clear empties the view (the event left), letting a large body's memory go.
func (b *bodyView) clear() {
	b.ev = nil
	b.gen++
	b.code.SetSource(nil)
	b.form = nil
	b.formTab.Refresh()
	b.release()
}

// release hands memory a large body held back to the system, once it is no longer shown.
func (b *bodyView) release() {
	if b.held > 4<<20 {
		go debug.FreeOSMemory()
	}
	b.held = 0
}

// render lays the body out in the chosen view, off the UI goroutine.
func (b *bodyView) render() {
	ev := b.ev
	if ev == nil {
		return
	}
	b.gen++
	gen, mode, all := b.gen, b.mode.Selected, b.all
	switch {
	case ev.Body == nil:
		b.setSource(nil, "Not kept: the request was rejected"+withReason(ev.Reason)+".", false)
		return
	case len(ev.Body) == 0:
		b.setSource(nil, "Empty body.", false)
		return
	case mode == viewForm:
		b.showForm(ev)
		return
	}
	go func() {
		src, note, cut := layBody(ev.Body, mode, all)
		b.u.do(func() {
			if gen != b.gen {
				return // another event, view or size was asked for meanwhile
			}
			b.release()
			b.held = len(ev.Body)
			b.setSource(src, note, cut)
			if b.u.trace != nil {
				// For the desktop benchmark: when a body's beginning is on screen.
				fmt.Fprintf(b.u.trace, "ui: body shown %d %d\n", ev.ID, time.Now().UnixNano())
			}
		})
	}()
}

func (b *bodyView) setSource(src lineSource, note string, cut bool) {
	b.view.Objects = []fyne.CanvasObject{b.code}
	b.view.Refresh()
	b.code.SetSource(src)
	b.note.SetText(note)
	b.found.SetText("")
	b.showAll.Hidden = !cut
	b.showAll.Refresh()
}

// layBody lays body out for mode; unless all, only its first bodyPreview bytes (cut says so).
func layBody(body []byte, mode string, all bool) (src lineSource, note string, cut bool) {
	part := body
	note = hook.Bytes(len(body)).String()
	if !all && len(body) > bodyPreview {
		part, cut = body[:bodyPreview], true
		note += ", showing the first " + hook.Bytes(bodyPreview).String()
	}
	switch mode {
	case viewPretty:
		if looksJSON(part) {
			return jsonDoc(part), note + ", JSON laid out", cut
		}
		return plainDoc(part), note + ", not JSON: shown as text", cut
	case viewHex:
		return hexDoc{part}, note, cut
	}
	if !utf8.Valid(part) {
		note += ", not UTF-8 (see Hex)"
	}
	return plainDoc(part), note, cut
}

// looksJSON reports whether a body starts as a JSON object or array does.
func looksJSON(b []byte) bool {
	t := bytes.TrimLeft(b[:min(len(b), 1024)], " \t\r\n")
	return len(t) > 0 && (t[0] == '{' || t[0] == '[')
}

// isForm reports whether an event's body is an HTML form's fields.
func isForm(ev *hook.Event) bool {
	mt, _, err := mime.ParseMediaType(ev.Header.Get("Content-Type"))
	return err == nil && mt == "application/x-www-form-urlencoded" && len(ev.Body) > 0
}

// showForm shows a form body's fields as a table, in their order.
func (b *bodyView) showForm(ev *hook.Event) {
	b.form = b.form[:0]
	for _, pair := range strings.Split(string(ev.Body), "&") {
		k, v, _ := strings.Cut(pair, "=")
		name, err1 := url.QueryUnescape(k)
		value, err2 := url.QueryUnescape(v)
		if err1 != nil || err2 != nil {
			name, value = k, v
		}
		b.form = append(b.form, [2]string{name, value})
	}
	b.view.Objects = []fyne.CanvasObject{b.formTab}
	b.view.Refresh()
	b.formTab.Refresh()
	b.note.SetText(fmt.Sprintf("%s, %s of a form", hook.Bytes(len(ev.Body)), plural(int64(len(b.form)), "field", "fields")))
	b.showAll.Hide()
}

func (b *bodyView) findNext() {
	if b.mode.Selected == viewForm {
		return
	}
	if row := b.code.Find(b.find.Text); row < 0 {
		b.found.SetText("not found")
	} else {
		b.found.SetText(fmt.Sprintf("row %d", row+1))
	}
}

// save writes the whole body to a file the user chooses.
func (b *bodyView) save() {
	if b.ev == nil || b.ev.Body == nil {
		return
	}
	ev := b.ev
	d := dialog.NewFileSave(func(w fyne.URIWriteCloser, err error) {
		if err != nil || w == nil {
			return
		}
		go func() {
			_, werr := w.Write(ev.Body)
			cerr := w.Close()
			b.u.do(func() {
				if err := firstErr(werr, cerr); err != nil {
					b.u.showProblem("The body could not be saved.", err)
					return
				}
				b.note.SetText("Saved " + hook.Bytes(len(ev.Body)).String() + " to " + w.URI().Name())
			})
		}()
	}, b.u.win)
	d.SetFileName(fmt.Sprintf("hooktray-event-%d-body%s", ev.ID, bodyExt(ev)))
	d.Show()
}

// openInEditor writes the body to a private temporary file and opens it with the system's
// editor for its type.
func (b *bodyView) openInEditor() {
	if b.ev == nil || b.ev.Body == nil {
		return
	}
	ev := b.ev
	go func() {
		f, err := os.CreateTemp("", fmt.Sprintf("hooktray-event-%d-*%s", ev.ID, bodyExt(ev)))
		if err == nil {
			_, err = f.Write(ev.Body)
			err = firstErr(err, f.Close())
		}
		b.u.do(func() {
			if err != nil {
				b.u.showProblem("The body could not be written to a file to open.", err)
				return
			}
			path, _ := filepath.Abs(f.Name())
			if err := b.u.app.OpenURL(storageURL(path)); err != nil {
				b.u.showProblem("No program opened the body.", err)
			}
		})
	}()
}

func storageURL(path string) *url.URL {
	u, _ := url.Parse(storage.NewFileURI(path).String())
	return u
}

// bodyExt is the file extension that suits a body.
func bodyExt(ev *hook.Event) string {
	switch {
	case looksJSON(ev.Body):
		return ".json"
	case utf8.Valid(ev.Body):
		return ".txt"
	}
	return ".bin"
}
