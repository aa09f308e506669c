package ui

import (
	"bytes"
	"image/color"
	"strings"
	"unicode/utf8"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/canvas"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"
)

// codeView shows a lineSource in a monospace font as a virtualised list: only the rows on screen
// exist as canvas objects. With wrap, a long line is cut into rows as wide as the view; without,
// the view scrolls sideways.
type codeView struct {
	widget.BaseWidget
	src     lineSource
	rows    []rowRef
	wrap    bool
	cols    int // characters a row holds when wrapping
	list    *widget.List
	side    *container.Scroll // the list, scrolling sideways when lines do not wrap
	content *fyne.Container
	mark    rowMark // a find result to highlight
}

// rowRef is a display row: part of a line, in bytes.
type rowRef struct {
	line       int32
	start, end int32
}

// rowMark is a range of a row to highlight.
type rowMark struct {
	row        int
	start, end int32
}

func newCodeView() *codeView {
	v := &codeView{wrap: true, mark: rowMark{row: -1}}
	v.list = widget.NewList(func() int { return len(v.rows) }, func() fyne.CanvasObject { return newCodeRow(v) }, v.updateRow)
	v.list.HideSeparators = true
	v.side = container.NewHScroll(v.list)
	v.content = container.NewStack(v.list)
	v.ExtendBaseWidget(v)
	return v
}

func (v *codeView) CreateRenderer() fyne.WidgetRenderer { return &codeViewRenderer{v: v} }

// MinSize is small whatever the document: the view never widens the window.
func (v *codeView) MinSize() fyne.Size { return fyne.NewSize(100, 60) }

// SetSource shows src from its start.
func (v *codeView) SetSource(src lineSource) {
	v.src, v.mark = src, rowMark{row: -1}
	v.layoutRows()
	v.list.ScrollToTop()
}

// SetWrap turns wrapping of long lines on or off.
func (v *codeView) SetWrap(wrap bool) {
	if v.wrap == wrap {
		return
	}
	v.wrap = wrap
	if wrap {
		v.content.Objects = []fyne.CanvasObject{v.list}
	} else {
		v.content.Objects = []fyne.CanvasObject{v.side}
	}
	v.content.Refresh()
	v.layoutRows()
}

// layoutRows cuts the lines into rows for the current width.
func (v *codeView) layoutRows() {
	v.rows = v.rows[:0]
	if v.src == nil {
		v.list.Refresh()
		return
	}
	text, ok := v.src.(*textDoc)
	for i := range v.src.Lines() {
		if !v.wrap || !ok || v.cols <= 0 {
			v.rows = append(v.rows, rowRef{int32(i), 0, int32(len(v.src.Line(i)))})
			continue
		}
		v.rows = appendWrapped(v.rows, int32(i), text.Line(i), v.cols)
	}
	v.list.Refresh()
}

// appendWrapped appends line's rows of at most cols runes each.
func appendWrapped(rows []rowRef, i int32, line []byte, cols int) []rowRef {
	if len(line) <= cols { // at most cols bytes: at most cols runes
		return append(rows, rowRef{i, 0, int32(len(line))})
	}
	start, n := 0, 0
	for k := 0; k < len(line); {
		_, size := utf8.DecodeRune(line[k:])
		if n == cols {
			rows = append(rows, rowRef{i, int32(start), int32(k)})
			start, n = k, 0
		}
		k += size
		n++
	}
	return append(rows, rowRef{i, int32(start), int32(len(line))})
}

// resized recuts the rows when the view's width changes the columns a row holds.
func (v *codeView) resized(width float32) {
	cols := max(20, int((width-theme.Padding()*4-theme.ScrollBarSize())/charWidth()))
	if cols != v.cols {
		v.cols = cols
		if v.wrap {
			v.layoutRows()
		}
	}
}

// Find looks for text from the row after the highlighted one (wrapping round) and highlights and
// shows what it finds; it reports the row, or -1.
func (v *codeView) Find(text string) int {
	if v.src == nil || text == "" || len(v.rows) == 0 {
		return -1
	}
	needle := bytes.ToLower([]byte(text))
	first := v.mark.row + 1
	for n := range len(v.rows) {
		r := (first + n) % len(v.rows)
		ref := v.rows[r]
		hay := bytes.ToLower(v.src.Line(int(ref.line))[ref.start:ref.end])
		if k := bytes.Index(hay, needle); k >= 0 {
			v.mark = rowMark{r, ref.start + int32(k), ref.start + int32(k+len(needle))}
			v.list.ScrollTo(r)
			v.list.Refresh()
			return r
		}
	}
	return -1
}

func (v *codeView) updateRow(id widget.ListItemID, o fyne.CanvasObject) {
	if id >= len(v.rows) {
		return
	}
	ref := v.rows[id]
	line := v.src.Line(int(ref.line))
	var mark *rowMark
	if v.mark.row == id {
		mark = &v.mark
	}
	o.(*codeRow).set(line, v.src.Spans(int(ref.line)), ref.start, ref.end, mark)
}

type codeViewRenderer struct{ v *codeView }

func (r *codeViewRenderer) Layout(size fyne.Size) {
	r.v.content.Resize(size)
	r.v.resized(size.Width)
}

func (r *codeViewRenderer) MinSize() fyne.Size           { return r.v.MinSize() }
func (r *codeViewRenderer) Refresh()                     { r.v.content.Refresh() }
func (r *codeViewRenderer) Objects() []fyne.CanvasObject { return []fyne.CanvasObject{r.v.content} }
func (r *codeViewRenderer) Destroy()                     {}

// charWidth is the width of one character of the monospace font.
func charWidth() float32 {
	return fyne.MeasureText("0", theme.TextSize(), fyne.TextStyle{Monospace: true}).Width
}

// codeRow is one row of a code view: a run of text per colour, side by side.
type codeRow struct {
	widget.BaseWidget
	v    *codeView
	runs []*canvas.Text
	used int
	mark *canvas.Rectangle
}

func newCodeRow(v *codeView) *codeRow {
	r := &codeRow{v: v, mark: canvas.NewRectangle(color.Transparent)}
	r.mark.Hide()
	r.ExtendBaseWidget(r)
	return r
}

// set draws line[start:end] with its runs, and the marked range if any.
func (r *codeRow) set(line []byte, spans []span, start, end int32, mark *rowMark) {
	r.used = 0
	x := 0 // in characters
	add := func(text []byte, kind tokenKind) {
		if len(text) == 0 {
			return
		}
		if r.used == len(r.runs) {
			t := canvas.NewText("", nil)
			t.TextStyle = fyne.TextStyle{Monospace: true}
			r.runs = append(r.runs, t)
		}
		t := r.runs[r.used]
		t.Text, t.Color, t.TextSize = string(text), tokenColor(kind), theme.TextSize()
		t.Move(fyne.NewPos(theme.Padding()+float32(x)*charWidth(), 0))
		r.used++
		x += utf8.RuneCount(text)
	}
	at := start
	for _, s := range spans {
		s.start, s.end = max(s.start, start), min(s.end, end)
		if s.start >= s.end {
			continue
		}
		add(line[at:s.start], tokenPlain)
		add(line[s.start:s.end], s.kind)
		at = s.end
	}
	add(line[at:end], tokenPlain)
	r.mark.Hidden = mark == nil
	if mark != nil {
		cw := charWidth()
		r.mark.FillColor = theme.Color(theme.ColorNameSelection)
		r.mark.Move(fyne.NewPos(theme.Padding()+float32(utf8.RuneCount(line[start:mark.start]))*cw, 0))
		r.mark.Resize(fyne.NewSize(float32(utf8.RuneCount(line[mark.start:mark.end]))*cw, rowHeight()))
	}
	r.Refresh()
}

func (r *codeRow) CreateRenderer() fyne.WidgetRenderer { return &codeRowRenderer{r: r} }

// rowHeight is the height of a code row.
func rowHeight() float32 {
	return fyne.MeasureText("0", theme.TextSize(), fyne.TextStyle{Monospace: true}).Height + 2
}

type codeRowRenderer struct{ r *codeRow }

func (rr *codeRowRenderer) Layout(fyne.Size) {
	for _, t := range rr.r.runs[:rr.r.used] {
		t.Resize(t.MinSize())
	}
}

func (rr *codeRowRenderer) MinSize() fyne.Size {
	w := float32(100)
	if v := rr.r.v; !v.wrap && v.src != nil {
		w = float32(min(v.src.MaxRunes(), 20000))*charWidth() + theme.Padding()*2
	}
	return fyne.NewSize(w, rowHeight())
}

func (rr *codeRowRenderer) Refresh() {
	rr.Layout(fyne.Size{})
	for _, t := range rr.r.runs[:rr.r.used] {
		t.Refresh()
	}
	rr.r.mark.Refresh()
}

func (rr *codeRowRenderer) Objects() []fyne.CanvasObject {
	objs := make([]fyne.CanvasObject, 0, rr.r.used+1)
	objs = append(objs, rr.r.mark)
	for _, t := range rr.r.runs[:rr.r.used] {
		objs = append(objs, t)
	}
	return objs
}

func (rr *codeRowRenderer) Destroy() {}

// tokenColor is the colour a run is drawn in, for the theme in use.
func tokenColor(kind tokenKind) color.Color {
	dark := fyne.CurrentApp().Settings().ThemeVariant() == theme.VariantDark
	if c, ok := codeColors[dark][kind]; ok {
		return c
	}
	return theme.Color(theme.ColorNameForeground)
}

// Text is what the view shows, its lines joined by newlines.
func (v *codeView) Text() string {
	if v.src == nil {
		return ""
	}
	lines := make([]string, v.src.Lines())
	for i := range lines {
		lines[i] = string(v.src.Line(i))
	}
	return strings.Join(lines, "\n")
}
