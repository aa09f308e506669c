package ui

import (
	"fmt"
	"image/color"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/canvas"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"

	"github.com/hooktray/hooktray/assets/palette"
)

// Colours with meaning: the same in light and dark themes, readable on both.
var (
	colorOK     = palette.Online
	colorPaused = color.NRGBA{0x9c, 0xa3, 0xaf, 0xff}
)

// sparkline draws events per minute over the last hour as 60 thin bars, with canvas rectangles
// only (no images), so it costs nothing to redraw.
type sparkline struct {
	widget.BaseWidget
	values [60]int
}

func newSparkline() *sparkline {
	s := &sparkline{}
	s.ExtendBaseWidget(s)
	return s
}

func (s *sparkline) set(v [60]int) {
	if v == s.values {
		return
	}
	s.values = v
	s.Refresh()
}

func (s *sparkline) CreateRenderer() fyne.WidgetRenderer {
	r := &sparklineRenderer{s: s, base: canvas.NewRectangle(theme.Color(theme.ColorNameSeparator))}
	for i := range r.bars {
		r.bars[i] = canvas.NewRectangle(theme.Color(theme.ColorNamePrimary))
	}
	return r
}

type sparklineRenderer struct {
	s    *sparkline
	base *canvas.Rectangle
	bars [60]*canvas.Rectangle
	size fyne.Size
}

func (r *sparklineRenderer) Layout(size fyne.Size) {
	r.size = size
	r.base.Resize(fyne.NewSize(size.Width, 1)) // the baseline: an hour with no events
	r.base.Move(fyne.NewPos(0, size.Height-1))
	peak := 1
	for _, v := range r.s.values {
		peak = max(peak, v)
	}
	w := size.Width / 60
	for i, b := range r.bars {
		h := float32(0)
		if v := r.s.values[i]; v > 0 {
			h = max(2, size.Height*float32(v)/float32(peak)) // a single event stays visible
		}
		b.Resize(fyne.NewSize(max(1, w-1), h))
		b.Move(fyne.NewPos(float32(i)*w, size.Height-h))
	}
}

func (r *sparklineRenderer) MinSize() fyne.Size { return fyne.NewSize(60, 16) }

func (r *sparklineRenderer) Refresh() {
	c := theme.Color(theme.ColorNamePrimary)
	r.base.FillColor = theme.Color(theme.ColorNameSeparator)
	for _, b := range r.bars {
		b.FillColor = c
	}
	r.Layout(r.size)
	canvas.Refresh(r.s)
}

func (r *sparklineRenderer) Objects() []fyne.CanvasObject {
	objs := []fyne.CanvasObject{r.base}
	for _, b := range r.bars {
		objs = append(objs, b)
	}
	return objs
}

func (r *sparklineRenderer) Destroy() {}

// dotLayout centres a fixed-size dot.
type dotLayout struct{ size float32 }

func (l dotLayout) Layout(objs []fyne.CanvasObject, size fyne.Size) {
	for _, o := range objs {
		o.Resize(fyne.NewSize(l.size, l.size))
		o.Move(fyne.NewPos((size.Width-l.size)/2, (size.Height-l.size)/2))
	}
}

func (l dotLayout) MinSize([]fyne.CanvasObject) fyne.Size {
	return fyne.NewSize(l.size+4, l.size+4)
}

// columns lays out a row's cells at fixed widths; the column marked flexible (-1) takes what is
// left. The log's header and rows share one, so they line up.
type columns struct{ widths []float32 }

func (c *columns) Layout(objs []fyne.CanvasObject, size fyne.Size) {
	pad := theme.Padding()
	fixed := float32(0)
	for _, w := range c.widths {
		if w > 0 {
			fixed += w
		}
	}
	shown := 0
	for _, w := range c.widths {
		if w != 0 {
			shown++
		}
	}
	flex := max(40, size.Width-fixed-pad*float32(shown-1))
	x := float32(0)
	for i, o := range objs {
		if i >= len(c.widths) {
			break
		}
		w := c.widths[i]
		if w < 0 {
			w = flex
		}
		if w == 0 { // a column left out
			o.Move(fyne.NewPos(-1e5, 0))
			continue
		}
		o.Resize(fyne.NewSize(w, size.Height))
		o.Move(fyne.NewPos(x, 0))
		x += w + pad
	}
}

func (c *columns) MinSize(objs []fyne.CanvasObject) fyne.Size {
	h := float32(0)
	for _, o := range objs {
		h = max(h, o.MinSize().Height)
	}
	w := float32(40)
	for _, cw := range c.widths {
		if cw > 0 {
			w += cw
		}
	}
	return fyne.NewSize(w, h)
}

// relativeTime says how long ago t was, the way the endpoint list shows it.
func relativeTime(t, now time.Time) string {
	if t.IsZero() {
		return "no events yet"
	}
	d := now.Sub(t)
	switch {
	case d < 10*time.Second:
		return "just now"
	case d < time.Minute:
		return fmt.Sprintf("%d s ago", int(d.Seconds()))
	case d < time.Hour:
		return fmt.Sprintf("%d min ago", int(d.Minutes()))
	case d < 24*time.Hour:
		return fmt.Sprintf("%d h ago", int(d.Hours()))
	}
	return t.Local().Format("2 Jan 15:04")
}

func plural(n int64, one, many string) string {
	if n == 1 {
		return "1 " + one
	}
	return fmt.Sprintf("%d %s", n, many)
}

// twoLines is a list row: a bold title over a caption line.
func twoLines() fyne.CanvasObject {
	title := widget.NewLabelWithStyle("", fyne.TextAlignLeading, fyne.TextStyle{Bold: true})
	title.Truncation = fyne.TextTruncateEllipsis
	caption := widget.NewLabel("")
	caption.Truncation = fyne.TextTruncateEllipsis
	caption.SizeName = theme.SizeNameCaptionText
	return container.NewVBox(title, caption)
}

// setTwoLines fills a twoLines row; the caption is drawn with importance (warnings, failures).
func setTwoLines(o fyne.CanvasObject, title, caption string, importance widget.Importance) {
	box := o.(*fyne.Container)
	box.Objects[0].(*widget.Label).SetText(title)
	c := box.Objects[1].(*widget.Label)
	c.Text, c.Importance = caption, importance
	c.Refresh()
}
