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
	byField map[string]*widget.Entry
}

func newFrame(saveLabel string, onSave, onCancel func()) frame {
	f := frame{Form: widget.NewForm(), byField: map[string]*widget.Entry{}}
	f.Save = widget.NewButtonWithIcon(saveLabel, theme.ConfirmIcon(), onSave)
	f.Save.Importance = widget.HighImportance
	f.Cancel = widget.NewButtonWithIcon("Cancel", theme.CancelIcon(), onCancel)
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
	buttons := container.NewHBox(append(append(extra, layout.NewSpacer()), f.Cancel, f.Save)...)
	var body fyne.CanvasObject = f.Form
	if scroll {
		body = container.NewVScroll(f.Form)
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
	return true
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
func (f *frame) entry(field, text, placeholder string, rule func(string) error) *widget.Entry {
	e := widget.NewEntry()
	e.SetText(text)
	e.SetPlaceHolder(placeholder)
	e.Validator = rule
	if field != "" {
		f.byField[field] = e
	}
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
