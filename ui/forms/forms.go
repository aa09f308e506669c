// Package forms holds the desktop app's forms as widgets: endpoint, forwarding target,
// subscription and tunnel settings. Each is filled from the domain value it edits, says next to
// a field what is wrong with it as it is typed (by hook's per-field rules), and turns what it
// holds into the domain's change with a pure method, so tests fill a form and read the change
// without a window. A form calls nothing: OnSubmit hands the change to the controller that opened
// it, which calls the service and, for an error about a field, hands it back (ShowError).
package forms

import (
	"errors"
	"strings"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/layout"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"

	"github.com/hooktray/hooktray/hook"
)

// frame is what every form has: its fields, Save and Cancel, and room for buttons of the
// controller's own (Delete, Forwarding…) and a header (an endpoint's URLs).
type frame struct {
	Form   *widget.Form
	Save   *widget.Button
	Cancel *widget.Button
	// byField finds the entry a hook.FieldError is about, by the API's field name.
	byField map[string]*Input
	// problem says, beside the buttons, what the last Save found wrong.
	problem *widget.Label
	submit  func()
	cancel  func()
}

// Input is a form's entry: Enter submits the form, Esc cancels it, and its rule's verdict shows
// only once it is wrong (no tick on every field that is right).
type Input struct {
	widget.Entry
	rule     func(string) error
	onEscape func()
}

// newInput is an entry with rule (nil: anything goes), for frame f.
func (f *frame) newInput(rule func(string) error) *Input {
	e := &Input{rule: rule, onEscape: func() { f.cancel() }}
	e.ExtendBaseWidget(e)
	e.AlwaysShowValidationError = true
	e.OnSubmitted = func(string) { f.submit() }
	e.OnChanged = func(s string) {
		if e.rule != nil {
			e.SetValidationError(e.rule(s))
		}
		f.problem.Hide()
	}
	return e
}

// TypedKey adds Esc to the entry's keys.
func (e *Input) TypedKey(k *fyne.KeyEvent) {
	if k.Name == fyne.KeyEscape {
		e.onEscape()
		return
	}
	e.Entry.TypedKey(k)
}

func newFrame(saveLabel string, onSave, onCancel func()) frame {
	f := frame{Form: widget.NewForm(), byField: map[string]*Input{}, submit: onSave, cancel: onCancel}
	f.Save = widget.NewButtonWithIcon(saveLabel, theme.ConfirmIcon(), onSave)
	f.Save.Importance = widget.HighImportance
	f.Cancel = widget.NewButtonWithIcon("Cancel", theme.CancelIcon(), onCancel)
	f.problem = widget.NewLabel("")
	f.problem.Importance = widget.DangerImportance
	f.problem.Wrapping = fyne.TextWrapWord
	f.problem.Hide()
	f.Form.SetOnValidationChanged(func(err error) {
		if err != nil {
			f.Save.Disable()
		} else {
			f.Save.Enable()
		}
	})
	return f
}

// layout is the form between top and the buttons (extra ones first, at the left).
func (f *frame) layout(top fyne.CanvasObject, extra []fyne.CanvasObject, scroll bool) fyne.CanvasObject {
	return f.layoutBody(f.Form, top, extra, scroll)
}

// layoutBody is layout with body in place of the form: the fields scroll, the buttons stay.
func (f *frame) layoutBody(body, top fyne.CanvasObject, extra []fyne.CanvasObject, scroll bool) fyne.CanvasObject {
	buttons := container.NewVBox(f.problem, container.NewHBox(append(append(extra, layout.NewSpacer()), f.Cancel, f.Save)...))
	if scroll {
		body = container.NewVScroll(body)
	}
	return container.NewBorder(top, buttons, nil, nil, body)
}

// ShowError puts an error about a field next to that field, and reports whether the form has the
// field (if not, the controller says it some other way).
func (f *frame) ShowError(fe *hook.FieldError) bool {
	e := f.byField[fe.Field]
	if e == nil {
		return false
	}
	e.SetValidationError(errors.New(fe.Message))
	f.problem.SetText(sentence(fe.Message))
	f.problem.Show()
	return true
}

// sentence is s with a capital and a full stop.
func sentence(s string) string {
	if s == "" {
		return s
	}
	s = strings.ToUpper(s[:1]) + s[1:]
	if !strings.HasSuffix(s, ".") {
		s += "."
	}
	return s
}

// SetBusy disables Save while the controller's call runs.
func (f *frame) SetBusy(busy bool) {
	if busy {
		f.Save.Disable()
	} else {
		f.Save.Enable()
	}
}

// entry is a one-line entry for the API field name (registered for ShowError), with a rule.
func (f *frame) entry(field, text, placeholder string, rule func(string) error) *Input {
	e := f.newInput(rule)
	e.SetText(text)
	e.SetPlaceHolder(placeholder)
	if field != "" {
		f.byField[field] = e
	}
	return e
}

// password is a masked entry for the API field name.
func (f *frame) password(field, placeholder string) *Input {
	e := f.entry(field, "", placeholder, nil)
	e.Password = true
	e.ActionItem = newRevealButton(e)
	return e
}

// fieldError is err as an error about field (nil stays nil).
func fieldError(field string, err error) *hook.FieldError {
	if err == nil {
		return nil
	}
	var fe *hook.FieldError
	if errors.As(err, &fe) {
		return fe
	}
	return &hook.FieldError{Field: field, Message: err.Error()}
}

// splitList is a comma separated list, trimmed, empty items left out.
func splitList(s string) []string {
	var out []string
	for _, p := range strings.Split(s, ",") {
		if p = strings.TrimSpace(p); p != "" {
			out = append(out, p)
		}
	}
	return out
}

// splitLines is one item a line, trimmed, empty lines left out.
func splitLines(s string) []string {
	var out []string
	for _, p := range strings.Split(s, "\n") {
		if p = strings.TrimSpace(p); p != "" {
			out = append(out, p)
		}
	}
	return out
}

// renderer is a form widget's renderer: the content it laid out.
func renderer(content fyne.CanvasObject) fyne.WidgetRenderer {
	return widget.NewSimpleRenderer(content)
}

// revealButton shows and hides a masked entry's text.
type revealButton struct {
	widget.Button
	e *Input
}

func newRevealButton(e *Input) *revealButton {
	b := &revealButton{e: e}
	b.Icon, b.Importance = theme.VisibilityOffIcon(), widget.LowImportance
	b.OnTapped = func() {
		e.Password = !e.Password
		b.Icon = theme.VisibilityOffIcon()
		if !e.Password {
			b.Icon = theme.VisibilityIcon()
		}
		b.Refresh()
		e.Refresh()
	}
	b.ExtendBaseWidget(b)
	return b
}
