package forms

import (
	"fmt"
	"strings"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"

	"github.com/hooktray/hooktray/app/rules"
	"github.com/hooktray/hooktray/hook"
)

// RuleChecker compiles a rule as the service will when it is saved (rules.Env.CheckField).
type RuleChecker func(field string, kind rules.Kind, src string) error

// ruleFields are a target's filter and transform, and the panel that tries them on the
// endpoint's last events before they are saved.
type ruleFields struct {
	When, Transform, TransformHeaders *Input
	Try                               *widget.Button
	Trial                             *widget.Label
	// OnTry runs the trial off the UI goroutine and hands the results to ShowTrial.
	OnTry func(endpointID string, t rules.Trial)
	// Paths are the field paths seen on the endpoint's events (its payloads' shape), offered by
	// the Fields buttons.
	Paths                  func(endpointID string) []string
	WhenFields, BodyFields *widget.Button
	check                  RuleChecker
	endpointID             func() string
}

// maxOffered is how many field paths a Fields menu offers.
const maxOffered = 150

// fieldsButton offers the paths seen on the endpoint's events; one chosen is added to e.
func (r *ruleFields) fieldsButton(e *Input) *widget.Button {
	var b *widget.Button
	b = widget.NewButton("Fields…", func() {
		var paths []string
		if r.Paths != nil {
			paths = r.Paths(r.endpointID())
		}
		items := []*fyne.MenuItem{}
		for _, p := range paths[:min(len(paths), maxOffered)] {
			items = append(items, fyne.NewMenuItem(p, func() { r.insert(e, p) }))
		}
		if len(items) == 0 {
			items = append(items, fyne.NewMenuItem("No JSON events seen on this endpoint yet", nil))
			items[0].Disabled = true
		}
		c := fyne.CurrentApp().Driver().CanvasForObject(b)
		pos := fyne.CurrentApp().Driver().AbsolutePositionForObject(b)
		widget.ShowPopUpMenuAtPosition(fyne.NewMenu("", items...), c, pos.Add(fyne.NewPos(0, b.Size().Height)))
	})
	return b
}

// insert adds a path to a rule field, after a space when the field is not empty.
func (r *ruleFields) insert(e *Input, path string) {
	text := strings.TrimRight(e.Text, " ")
	if text != "" {
		text += " "
	}
	e.SetText(text + path)
}

// ruleRule is a field's live check by the checker (none without one).
func (r *ruleFields) ruleRule(field string, kind rules.Kind) func(string) error {
	return func(s string) error {
		if r.check == nil || strings.TrimSpace(s) == "" {
			return nil
		}
		return r.check(field, kind, s)
	}
}

func (r *ruleFields) make(f *frame, cur hook.Target, endpointID func() string) {
	r.endpointID = endpointID
	r.When = f.entry("when", cur.When, `body.ref == "refs/heads/main"`, r.ruleRule("when", rules.Filter))
	r.When.MultiLine, r.When.Wrapping = true, fyne.TextWrapWord
	r.When.SetMinRowsVisible(2)
	tr := cur.Transform
	if tr == nil {
		tr = &hook.Transform{}
	}
	r.Transform = f.entry("transform.body", tr.Body, `{"type": "fire_event", "data": {"event_type": type, "event_data": body}}`, r.ruleRule("transform.body", rules.Value))
	r.Transform.MultiLine, r.Transform.Wrapping = true, fyne.TextWrapWord
	r.Transform.SetMinRowsVisible(3)
	var hdr []string
	for k, v := range tr.Headers {
		hdr = append(hdr, k+": "+v)
	}
	r.TransformHeaders = f.entry("transform.headers", strings.Join(hdr, "\n"), `X-Repo: body.repository.full_name`,
		func(s string) error { _, err := parseRuleHeaders(s); return err })
	r.TransformHeaders.MultiLine = true
	r.WhenFields, r.BodyFields = r.fieldsButton(r.When), r.fieldsButton(r.Transform)
	r.Trial = widget.NewLabel("")
	r.Trial.Wrapping = fyne.TextWrapWord
	r.Try = widget.NewButtonWithIcon("Try on the last 50 events", theme.MediaPlayIcon(), func() {
		t, fe := r.trial()
		if fe != nil {
			f.ShowError(fe)
			return
		}
		if r.OnTry != nil {
			r.Try.Disable()
			r.Trial.SetText("Trying…")
			r.OnTry(endpointID(), t)
		}
	})
}

// trial is what the fields hold, to try.
func (r *ruleFields) trial() (rules.Trial, *hook.FieldError) {
	t := rules.Trial{When: strings.TrimSpace(r.When.Text)}
	tr, fe := r.transform()
	if fe != nil {
		return t, fe
	}
	t.Transform = tr
	if t.When == "" && tr.Empty() {
		return t, &hook.FieldError{Field: "when", Message: "write a condition, a transform or both to try"}
	}
	return t, nil
}

func (r *ruleFields) transform() (*hook.Transform, *hook.FieldError) {
	headers, err := parseRuleHeaders(r.TransformHeaders.Text)
	if err != nil {
		return nil, fieldError("transform.headers", err)
	}
	return &hook.Transform{Body: strings.TrimSpace(r.Transform.Text), Headers: headers}, nil
}

// apply puts the fields into c (an empty field removes its rule) and checks them as the service
// will.
func (r *ruleFields) apply(c *hook.TargetChange) *hook.FieldError {
	when := strings.TrimSpace(r.When.Text)
	tr, fe := r.transform()
	if fe != nil {
		return fe
	}
	c.When, c.Transform = &when, tr
	if r.check == nil {
		return nil
	}
	checks := []ruleCheck{{"when", when, rules.Filter}, {"transform.body", tr.Body, rules.Value}}
	for _, src := range tr.Headers {
		checks = append(checks, ruleCheck{"transform.headers", src, rules.Value})
	}
	for _, ch := range checks {
		if ch.src != "" {
			if err := r.check(ch.field, ch.kind, ch.src); err != nil {
				return fieldError(ch.field, err)
			}
		}
	}
	return nil
}

// ruleCheck is one rule of the form to compile.
type ruleCheck struct {
	field, src string
	kind       rules.Kind
}

// SetRuleChecker makes the form check its rules as they are typed and before they are saved.
func (r *ruleFields) SetRuleChecker(c RuleChecker) { r.check = c }

// items are the rules' rows of the form.
func (r *ruleFields) items() []*widget.FormItem {
	return []*widget.FormItem{
		{Text: "Only when", Widget: container.NewBorder(nil, nil, nil, r.WhenFields, r.When), HintText: "a rule (CEL) over method, path, query, headers, body, type…: only events for which it is true are sent; empty: all"},
		{Text: "Send instead", Widget: container.NewBorder(nil, nil, nil, r.BodyFields, r.Transform), HintText: "a rule whose value is sent as the body: a map or a list as JSON, a string as text; empty: the body as it came"},
		{Text: "Add headers", Widget: r.TransformHeaders, HintText: "one Name: rule a line, the rule's string the value"},
		{Text: "", Widget: container.NewBorder(nil, nil, container.NewVBox(r.Try), nil, r.Trial)},
	}
}

// ShowTrial shows what the rules made of the endpoint's last events (or why they could not run).
func (r *ruleFields) ShowTrial(results []rules.TrialResult, err error) {
	r.Try.Enable()
	if err != nil {
		r.Trial.SetText(err.Error())
		return
	}
	r.Trial.SetText(trialText(results))
}

// trialText sums a trial up: how many matched and failed, and the first few outputs or errors.
func trialText(results []rules.TrialResult) string {
	if len(results) == 0 {
		return "This endpoint has no events yet to try the rules on."
	}
	matched, failed := 0, 0
	var lines []string
	for _, res := range results {
		switch {
		case res.Error != "":
			failed++
			if len(lines) < 4 {
				lines = append(lines, fmt.Sprintf("%s: the rules fail: %s", when(res), res.Error))
			}
		case res.Matched:
			matched++
			if len(lines) < 4 && res.Output != nil {
				lines = append(lines, fmt.Sprintf("%s sends %s", when(res), clip(string(res.Output.Body), 160)))
			}
		}
	}
	head := fmt.Sprintf("Of the last %d events, %d would be sent, %d not", len(results), matched, len(results)-matched-failed)
	if failed > 0 {
		head += fmt.Sprintf(", and the rules fail on %d", failed)
	}
	return strings.Join(append([]string{head + "."}, lines...), "\n")
}

// when names a trial's event as the log shows it: its time.
func when(r rules.TrialResult) string {
	if r.ReceivedAt.IsZero() {
		return fmt.Sprintf("#%d", r.EventID)
	}
	return r.ReceivedAt.Local().Format("15:04:05.000")
}

func clip(s string, n int) string {
	if len(s) > n {
		return s[:n] + "…"
	}
	return s
}

// parseRuleHeaders reads one "Name: rule" a line; the names are checked by hook's rule.
func parseRuleHeaders(s string) (map[string]string, error) {
	out := map[string]string{}
	for _, line := range splitLines(s) {
		name, src, ok := strings.Cut(line, ":")
		if !ok {
			return nil, fmt.Errorf("%q is not Name: rule", line)
		}
		name = strings.TrimSpace(name)
		if err := hook.CheckHeader(name, "-"); err != nil {
			return nil, err
		}
		out[name] = strings.TrimSpace(src)
	}
	return out, nil
}
