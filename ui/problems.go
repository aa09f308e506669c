package ui

import (
	"context"
	"errors"
	"strings"
	"time"
	"unicode"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/dialog"
	"fyne.io/fyne/v2/layout"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"

	"github.com/hooktray/hooktray/app/netmsg"
	"github.com/hooktray/hooktray/hook"
)

// action is a button a problem offers: what to do about it.
type action struct {
	label string
	do    func()
}

// showError says what went wrong in a dialog: one sentence, what to do, and Go's chain of errors
// only under Details. Call it on the UI goroutine.
func (u *UI) showError(err error) {
	u.showProblemIn(u.win, describe(err), err, u.actionsFor(err)...)
}

// showProblem says what went wrong in one sentence of the caller's, with the error under Details.
func (u *UI) showProblem(sentence string, err error, actions ...action) {
	u.showProblemIn(u.win, sentence, err, actions...)
}

func (u *UI) showProblemIn(parent fyne.Window, sentence string, err error, actions ...action) {
	text := widget.NewLabel(sentence)
	text.Wrapping = fyne.TextWrapWord
	var d dialog.Dialog
	buttons := []fyne.CanvasObject{layout.NewSpacer()}
	for _, a := range actions {
		do := a.do
		b := widget.NewButton(a.label, func() { d.Hide(); do() })
		b.Importance = widget.HighImportance
		buttons = append(buttons, b)
	}
	buttons = append(buttons, widget.NewButton("Close", func() { d.Hide() }))
	body := []fyne.CanvasObject{text}
	if err != nil && err.Error() != sentence {
		chain := widget.NewLabelWithStyle(err.Error(), fyne.TextAlignLeading, fyne.TextStyle{Monospace: true})
		chain.Wrapping = fyne.TextWrapBreak
		copyDetails := widget.NewButtonWithIcon("Copy details", theme.ContentCopyIcon(), nil)
		copyDetails.OnTapped = func() { u.app.Clipboard().SetContent(err.Error()); u.flash(copyDetails, "Copied") }
		details := widget.NewAccordion(widget.NewAccordionItem("Details", container.NewBorder(nil, container.NewHBox(copyDetails), nil, nil, chain)))
		body = append(body, details)
	}
	content := container.NewBorder(nil, container.NewHBox(buttons...), nil, nil, container.NewVBox(body...))
	d = dialog.NewCustomWithoutButtons("Something needs attention", content, parent)
	d.Resize(fyne.NewSize(min(560, parent.Canvas().Size().Width-40), 0))
	d.Show()
}

// describe is what an error means for the user, in one sentence.
func describe(err error) string {
	var fe *hook.FieldError
	var ne *netmsg.Error
	switch {
	case err == nil:
		return ""
	case errors.As(err, &fe):
		return sentence(fe.Message)
	case errors.Is(err, hook.ErrDamaged):
		return "The history database is damaged. Quit Hooktray and run 'hooktray db recover' to copy what can be read into a new file."
	case errors.Is(err, hook.ErrStorageFull):
		return "The disk is full. Free some space, then try again: nothing already stored is lost."
	case errors.Is(err, hook.ErrNotFound):
		return "It is gone: it was deleted meanwhile."
	case errors.Is(err, context.DeadlineExceeded):
		return "It took too long and was stopped. Try again in a moment."
	case errors.As(err, &ne):
		return sentence(ne.Sentence)
	}
	if s := netmsg.Sentence(err); s != err.Error() {
		return sentence(s)
	}
	msg := err.Error()
	if i := strings.LastIndex(msg, ": "); i > 0 && len(msg) > 120 {
		msg = msg[i+2:] // the chain's last link says what happened; all of it is under Details
	}
	return sentence(msg)
}

// sentence is s starting with a capital and ending with a full stop.
func sentence(s string) string {
	s = strings.TrimSpace(s)
	if s == "" {
		return s
	}
	r := []rune(s)
	r[0] = unicode.ToUpper(r[0])
	s = string(r)
	if !strings.HasSuffix(s, ".") && !strings.HasSuffix(s, "?") && !strings.HasSuffix(s, "!") {
		s += "."
	}
	return s
}

// actionsFor is what the window can offer to do about err.
func (u *UI) actionsFor(err error) []action {
	var ne *netmsg.Error
	if errors.As(err, &ne) && strings.Contains(ne.Sentence, "is it online") {
		return []action{{"Tunnel settings…", u.editTunnel}}
	}
	return nil
}

// flash shows text on a button for a moment, beside what the user pressed, then its label again.
func (u *UI) flash(b *widget.Button, text string) {
	label := b.Text
	if strings.HasPrefix(label, "✓ ") {
		return // flashing already
	}
	b.SetText("✓ " + text)
	time.AfterFunc(1500*time.Millisecond, func() { u.do(func() { b.SetText(label) }) })
}
