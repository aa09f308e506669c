package ui

import (
	"fmt"
	"strings"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/dialog"
	"fyne.io/fyne/v2/widget"

	"github.com/hooktray/hooktray/app/diff"
	"github.com/hooktray/hooktray/hook"
)

// compare is the Compare button's two steps: the first press marks the event shown, a press on
// another event compares the two.
func (d *eventDetail) compare() {
	if d.ev == nil {
		return
	}
	marked := d.u.marked
	if marked == nil || marked.ID == d.ev.ID {
		ev := *d.ev
		d.u.marked = &ev
		d.u.say(fmt.Sprintf("Event #%d marked: select another event and press Compare", ev.ID))
		return
	}
	a, b := *marked, *d.ev
	d.u.marked = nil
	go func() { // two large bodies take a while to compare: off the UI goroutine
		r := diff.Events(a.Body, b.Body, a.Header, b.Header)
		text := diffText(a, b, r)
		d.u.do(func() { d.u.showDiff(a.ID, b.ID, text) })
	}()
}

// diffText is a comparison as people read it: what was added, removed and changed.
func diffText(a, b hook.Event, r diff.Result) string {
	var sb strings.Builder
	fmt.Fprintf(&sb, "#%d  %s %s  %s\n#%d  %s %s  %s\n\n", a.ID, a.Method, a.Type, a.ReceivedAt.Local().Format("15:04:05.000"),
		b.ID, b.Method, b.Type, b.ReceivedAt.Local().Format("15:04:05.000"))
	section(&sb, "Body", r.Body, r.JSON)
	section(&sb, "Headers", r.Headers, true)
	return sb.String()
}

func section(sb *strings.Builder, title string, es []diff.Entry, paths bool) {
	if len(es) == 0 {
		fmt.Fprintf(sb, "%s: the same\n\n", title)
		return
	}
	fmt.Fprintf(sb, "%s: %d differences\n", title, len(es))
	for _, e := range es {
		name := e.Path
		if !paths || name == "" {
			name = "the whole body"
		}
		switch e.Change {
		case diff.Added:
			fmt.Fprintf(sb, "  + %s: %s\n", name, clipLine(e.B))
		case diff.Removed:
			fmt.Fprintf(sb, "  - %s: %s\n", name, clipLine(e.A))
		default:
			fmt.Fprintf(sb, "  ~ %s: %s  →  %s\n", name, clipLine(e.A), clipLine(e.B))
		}
	}
	sb.WriteString("\n")
}

// clipLine is s on one line, at most 200 characters.
func clipLine(s string) string {
	s = strings.ReplaceAll(s, "\n", " ")
	if r := []rune(s); len(r) > 200 {
		return string(r[:200]) + "…"
	}
	return s
}

// showDiff shows a comparison in a dialog, with a button that copies it.
func (u *UI) showDiff(a, b int64, text string) {
	grid := widget.NewTextGridFromString(text)
	grid.Scroll = fyne.ScrollBoth
	cp := widget.NewButton("Copy", func() { u.app.Clipboard().SetContent(text); u.say("Comparison copied") })
	d := dialog.NewCustom(fmt.Sprintf("Event #%d compared with #%d", a, b), "Close",
		container.NewBorder(nil, container.NewHBox(cp), nil, nil, grid), u.win)
	d.Resize(fyne.NewSize(min(900, u.win.Canvas().Size().Width-40), min(560, u.win.Canvas().Size().Height-40)))
	d.Show()
}
