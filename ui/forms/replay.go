package forms

import (
	"bytes"
	"encoding/json"
	"fmt"
	"maps"
	"net/http"
	"slices"
	"strings"
	"unicode/utf8"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/widget"

	"github.com/hooktray/hooktray/hook"
)

// Replay is the form that sends a stored event again to its endpoint's targets (or chosen ones),
// the request edited as the user leaves it.
type Replay struct {
	widget.BaseWidget
	frame
	// OnSubmit receives the chosen targets and the edit (nil: as received).
	OnSubmit func(targets []string, edit *hook.Edit)
	OnCancel func()

	ev      hook.Event
	targets []hook.Target
	binary  bool   // the body is not text: it goes as received
	headers string // the original headers as the field shows them
	body    string // the original body as the field shows it (JSON laid out)

	// The fields, for tests to fill.
	To      []*widget.Check // one per target, in order
	Method  *Input
	Headers *Input
	Body    *Input
}

// NewReplay returns the form for ev, offering targets (all chosen).
func NewReplay(ev hook.Event, targets []hook.Target, where func(hook.Target) string) *Replay {
	f := &Replay{ev: ev, targets: targets, binary: !utf8.Valid(ev.Body)}
	f.frame = newFrame("Replay", f.submit, func() {
		if f.OnCancel != nil {
			f.OnCancel()
		}
	})
	for _, t := range targets {
		c := widget.NewCheck(where(t), nil)
		c.SetChecked(true)
		f.To = append(f.To, c)
	}
	f.Method = f.entry("method", ev.Method, "", hook.CheckMethod)
	var lines []string
	for _, k := range slices.Sorted(maps.Keys(ev.Header)) {
		if http.CanonicalHeaderKey(k) == "Content-Length" {
			continue // set from the body as it is sent
		}
		for _, v := range ev.Header[k] {
			lines = append(lines, k+": "+v)
		}
	}
	f.headers = strings.Join(lines, "\n")
	f.Headers = f.entry("headers", f.headers, "", func(s string) error { _, err := parseHeaderLines(s); return err })
	f.Headers.MultiLine = true
	f.Headers.SetMinRowsVisible(4)
	f.body = string(ev.Body)
	var laid bytes.Buffer
	if json.Indent(&laid, ev.Body, "", "  ") == nil {
		f.body = laid.String()
	}
	f.Body = f.entry("body", f.body, "", nil)
	f.Body.MultiLine, f.Body.TextStyle = true, fyne.TextStyle{Monospace: true}
	f.Body.SetMinRowsVisible(8)
	if f.binary {
		f.Body.SetText(fmt.Sprintf("(%d bytes that are not text: sent as received)", len(ev.Body)))
		f.Body.Disable()
	}
	f.ExtendBaseWidget(f)
	return f
}

// CreateRenderer lays the fields out.
func (f *Replay) CreateRenderer() fyne.WidgetRenderer {
	to := container.NewVBox()
	for _, c := range f.To {
		to.Add(c)
	}
	f.Form.Items = []*widget.FormItem{
		{Text: "To", Widget: to},
		{Text: "Method", Widget: f.Method},
		{Text: "Headers", Widget: f.Headers, HintText: "one Name: value a line; Content-Length is set from the body"},
		{Text: "Body", Widget: f.Body},
	}
	return renderer(f.frame.layout(nil, nil, true))
}

func (f *Replay) submit() {
	targets, edit, fe := f.Change()
	if fe != nil {
		f.ShowError(fe)
		return
	}
	if f.OnSubmit != nil {
		f.OnSubmit(targets, edit)
	}
}

// Change is the chosen targets and the edit the form holds (nil when the request is as received),
// or the first field that is wrong.
func (f *Replay) Change() ([]string, *hook.Edit, *hook.FieldError) {
	var chosen []string
	for i, c := range f.To {
		if c.Checked {
			chosen = append(chosen, f.targets[i].ID)
		}
	}
	if len(chosen) == 0 {
		return nil, nil, &hook.FieldError{Field: "targets", Message: "choose at least one target"}
	}
	edit, changed := &hook.Edit{}, false
	if m := strings.ToUpper(strings.TrimSpace(f.Method.Text)); m != f.ev.Method {
		if err := hook.CheckMethod(m); err != nil {
			return chosen, nil, fieldError("method", err)
		}
		edit.Method, changed = &m, true
	}
	if f.Headers.Text != f.headers {
		h, err := parseHeaderLines(f.Headers.Text)
		if err != nil {
			return chosen, nil, fieldError("headers", err)
		}
		edit.Headers, changed = h, true
	}
	if !f.binary && f.Body.Text != f.body {
		edit.Body, changed = []byte(f.Body.Text), true
	}
	if !changed {
		return chosen, nil, nil
	}
	return chosen, edit, nil
}

// parseHeaderLines reads one "Name: value" a line (a name may repeat), each checked by hook's
// rule.
func parseHeaderLines(s string) (map[string][]string, error) {
	out := map[string][]string{}
	for _, line := range splitLines(s) {
		name, value, ok := strings.Cut(line, ":")
		if !ok {
			return nil, fmt.Errorf("%q is not Name: value", line)
		}
		name, value = strings.TrimSpace(name), strings.TrimSpace(value)
		if err := hook.CheckHeader(name, value); err != nil {
			return nil, err
		}
		out[name] = append(out[name], value)
	}
	return out, nil
}
