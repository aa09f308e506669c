// Command minimalwindow is the desktop benchmark's baseline: the smallest Fyne app, one window with
// one label, built with the same Fyne and tags as Hooktray.
package main

import (
	"fyne.io/fyne/v2/app"
	"fyne.io/fyne/v2/widget"
)

func main() {
	a := app.NewWithID("io.hooktray.bench.minimal")
	w := a.NewWindow("Minimal")
	w.SetContent(widget.NewLabel("A minimal Fyne window"))
	w.ShowAndRun()
}
