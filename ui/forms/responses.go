package forms

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strings"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"
	"github.com/hooktray/hooktray/app/rules"
	"github.com/hooktray/hooktray/hook"
)

// responseRulesText is the rules one JSON object a line, as the API writes them.
func responseRulesText(rs []hook.ResponseRule) string {
	lines := make([]string, 0, len(rs))
	for _, r := range rs {
		var buf bytes.Buffer
		enc := json.NewEncoder(&buf)
		enc.SetEscapeHTML(false)
		enc.Encode(r)
		lines = append(lines, strings.TrimSpace(buf.String()))
	}
	return strings.Join(lines, "\n")
}

// parseResponseRules reads one rule a line (blank lines skipped), each checked by hook's rules
// and, with a checker, compiled as the endpoints service will.
func parseResponseRules(s string, check RuleChecker) ([]hook.ResponseRule, error) {
	out := []hook.ResponseRule{}
	for i, line := range splitLines(s) {
		dec := json.NewDecoder(strings.NewReader(line))
		dec.DisallowUnknownFields()
		var r hook.ResponseRule
		if err := dec.Decode(&r); err != nil {
			return nil, fmt.Errorf("rule %d is not {\"when\": …, \"status\": …}: %v", i+1, err)
		}
		out = append(out, r)
	}
	if err := hook.CheckResponseRules(out); err != nil {
		return nil, err
	}
	if check == nil {
		return out, nil
	}
	for i, r := range out {
		at := fmt.Sprintf("response_rules[%d]", i)
		if err := check(at+".when", rules.Filter, r.When); err != nil {
			return nil, fmt.Errorf("rule %d: %w", i+1, err)
		}
		if r.Body != "" {
			if err := check(at+".body", rules.Value, r.Body); err != nil {
				return nil, fmt.Errorf("rule %d's body: %w", i+1, err)
			}
		}
	}
	return out, nil
}

// responseTrial is the endpoint editor's Try for its response rules.
type responseTrial struct {
	TryResponses  *widget.Button
	ResponseTrial *widget.Label
	// OnTryResponses runs the rules over the endpoint's last events off the UI goroutine and
	// hands the results to ShowResponseTrial.
	OnTryResponses func(rs []hook.ResponseRule)
}

func (t *responseTrial) make(f *Endpoint) {
	t.ResponseTrial = widget.NewLabel("")
	t.ResponseTrial.Wrapping = fyne.TextWrapWord
	t.TryResponses = widget.NewButtonWithIcon("Try on the last 50 events", theme.MediaPlayIcon(), func() {
		rs, err := parseResponseRules(f.Responses.Text, f.check)
		if err != nil {
			f.ShowError(fieldError("response_rules", err))
			return
		}
		if len(rs) == 0 {
			t.ResponseTrial.SetText("Write a rule to try, one a line.")
			return
		}
		if t.OnTryResponses != nil {
			t.TryResponses.Disable()
			t.ResponseTrial.SetText("Trying…")
			t.OnTryResponses(rs)
		}
	})
}

// ShowResponseTrial says which rule would have answered the endpoint's last events.
func (t *responseTrial) ShowResponseTrial(results []rules.TrialResult, err error) {
	t.TryResponses.Enable()
	if err != nil {
		t.ResponseTrial.SetText(err.Error())
		return
	}
	t.ResponseTrial.SetText(responseTrialText(results))
}

// responseTrialText counts the answers by rule, the endpoint's own response last.
func responseTrialText(results []rules.TrialResult) string {
	if len(results) == 0 {
		return "This endpoint has no events yet to try the rules on."
	}
	counts := map[string]int{}
	var order []string
	own, failed := 0, 0
	var problems []string
	for _, r := range results {
		if r.Error != "" {
			failed++
			if len(problems) < 3 {
				problems = append(problems, when(r)+": "+r.Error)
			}
		}
		a := r.Answer
		if a == nil || a.Rule == "" {
			own++
			continue
		}
		name := fmt.Sprintf("%s (%d)", a.Rule, a.Status)
		if counts[name] == 0 {
			order = append(order, name)
		}
		counts[name]++
	}
	lines := []string{fmt.Sprintf("Of the last %d events, as if they came again in their order:", len(results))}
	for _, name := range order {
		lines = append(lines, fmt.Sprintf("%d answered by %s", counts[name], name))
	}
	lines = append(lines, fmt.Sprintf("%d by the endpoint's own response", own))
	if failed > 0 {
		lines = append(lines, fmt.Sprintf("a rule failed on %d:", failed))
		lines = append(lines, problems...)
	}
	return strings.Join(lines, "\n")
}
