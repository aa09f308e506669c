package ui

import (
	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/theme"
)

// pane holds one of the window's panes at whatever size the splits give it: its own minimum
// never reaches the split or the window, so the splitter moves only when dragged and the window
// never grows by itself. What does not fit scrolls.
func pane(o fyne.CanvasObject) fyne.CanvasObject { return container.NewScroll(o) }

// collapseBelow is the window width under which the endpoints pane folds away by itself, so the
// event list keeps room for its columns (the pane comes back with the toggle).
const collapseBelow = 1100

// responsive lays the main split out, folding the endpoints pane away when the window is narrow
// unless the user asked for it.
type responsive struct{ u *UI }

func (r *responsive) Layout(objs []fyne.CanvasObject, size fyne.Size) {
	r.u.fitEndpoints(size.Width)
	for _, o := range objs {
		o.Resize(size)
		o.Move(fyne.NewPos(0, 0))
	}
}

func (r *responsive) MinSize([]fyne.CanvasObject) fyne.Size { return fyne.NewSize(320, 200) }

// fitRow lays its objects out left to right at their minimum widths and leaves out, from the
// right, those that do not fit: a status bar that never widens the window.
type fitRow struct{}

func (fitRow) Layout(objs []fyne.CanvasObject, size fyne.Size) {
	x, pad := float32(0), theme.Padding()
	for _, o := range objs {
		if !o.Visible() {
			continue
		}
		w := o.MinSize().Width
		if x+w > size.Width {
			o.Move(fyne.NewPos(-1e5, 0)) // off the window: no room for it now
			continue
		}
		o.Resize(fyne.NewSize(w, size.Height))
		o.Move(fyne.NewPos(x, 0))
		x += w + pad
	}
}

func (fitRow) MinSize(objs []fyne.CanvasObject) fyne.Size {
	h := float32(0)
	for _, o := range objs {
		if o.Visible() {
			h = max(h, o.MinSize().Height)
		}
	}
	return fyne.NewSize(40, h)
}
