package ui

import (
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/driver/desktop"
	"fyne.io/fyne/v2/widget"
)

// tipLabel is a label that, when its text does not fit, shows all of it after the pointer rests
// on it a moment.
type tipLabel struct {
	widget.Label
	timer *time.Timer
	tip   *widget.PopUp
}

var _ desktop.Hoverable = (*tipLabel)(nil)

func newTipLabel() *tipLabel {
	l := &tipLabel{}
	l.ExtendBaseWidget(l)
	return l
}

// truncated reports whether the text is wider than the label.
func (l *tipLabel) truncated() bool {
	full := fyne.MeasureText(l.Text, l.Theme().Size(l.SizeName), l.TextStyle)
	return full.Width > l.Size().Width-2*l.Theme().Size("innerPadding")
}

func (l *tipLabel) MouseIn(ev *desktop.MouseEvent) {
	if l.Text == "" || !l.truncated() {
		return
	}
	at := ev.AbsolutePosition
	text := l.Text
	l.timer = time.AfterFunc(500*time.Millisecond, func() { fyne.Do(func() { l.show(text, at) }) })
}

func (l *tipLabel) MouseMoved(*desktop.MouseEvent) {}

func (l *tipLabel) MouseOut() {
	if l.timer != nil {
		l.timer.Stop()
		l.timer = nil
	}
	if l.tip != nil {
		l.tip.Hide()
		l.tip = nil
	}
}

func (l *tipLabel) show(text string, at fyne.Position) {
	c := fyne.CurrentApp().Driver().CanvasForObject(l)
	if c == nil || l.timer == nil {
		return // the pointer left meanwhile
	}
	body := widget.NewLabel(text)
	body.Wrapping = fyne.TextWrapWord
	l.tip = widget.NewPopUp(body, c)
	w := min(fyne.MeasureText(text, l.Theme().Size(l.SizeName), l.TextStyle).Width+24, 520)
	l.tip.Resize(fyne.NewSize(w, body.MinSize().Height))
	pos := fyne.NewPos(at.X+12, at.Y+16)
	if size := c.Size(); pos.X+w > size.Width {
		pos.X = max(0, size.Width-w)
	}
	l.tip.ShowAtPosition(pos)
}
