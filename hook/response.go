package hook

import (
	"fmt"
	"strings"
)

// ResponseRule is one of an endpoint's response rules: when When (a CEL condition) is true for a
// request, it is answered with Status, Headers and Body (a CEL value rule; "" answers no body)
// after Delay milliseconds. The first rule that matches answers; none: the endpoint's response.
// The request is stored before any answer, whatever the rule says.
type ResponseRule struct {
	When    string            `json:"when"`
	Status  int               `json:"status"`
	Headers map[string]string `json:"headers,omitempty"`
	Body    string            `json:"body,omitempty"`
	DelayMS int               `json:"delay_ms,omitempty"`
}

// Limits of response rules.
const (
	MaxResponseRules = 20
	MaxResponseDelay = 30_000 // ms: a provider's timeout is rarely longer
)

// Name is how events answered by the rule at index i name it.
func (r ResponseRule) Name(i int) string {
	w := r.When
	if len(w) > 80 {
		w = w[:77] + "…"
	}
	return fmt.Sprintf("rule %d: %s", i+1, w)
}

// CheckResponseRules checks the rules' plain fields; their expressions are checked by the
// service that compiles them (app/rules).
func CheckResponseRules(rules []ResponseRule) error {
	if len(rules) > MaxResponseRules {
		return &FieldError{"response_rules", fmt.Sprintf("at most %d response rules", MaxResponseRules)}
	}
	for i, r := range rules {
		at := fmt.Sprintf("response_rules[%d]", i)
		switch {
		case strings.TrimSpace(r.When) == "":
			return &FieldError{at + ".when", "give the condition under which this rule answers (true: always)"}
		case CheckResponseStatus(r.Status) != nil:
			return field(at+".status", CheckResponseStatus(r.Status))
		case r.DelayMS < 0 || r.DelayMS > MaxResponseDelay:
			return &FieldError{at + ".delay_ms", fmt.Sprintf("a delay is between 0 and %d ms", MaxResponseDelay)}
		}
		for k, v := range r.Headers {
			if err := CheckHeader(k, v); err != nil {
				return field(at+".headers", err)
			}
		}
	}
	return nil
}
