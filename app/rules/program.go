package rules

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"net/url"
	"reflect"
	"strings"
	"unicode/utf8"

	"github.com/google/cel-go/cel"
	"github.com/google/cel-go/common/types"
	"github.com/google/cel-go/common/types/ref"
	"github.com/google/cel-go/common/types/traits"
	"github.com/google/cel-go/interpreter"

	"github.com/hooktray/hooktray/hook"
)

// Program is a compiled rule.
type Program struct {
	kind Kind
	prg  cel.Program
	src  string
	uses uses
}

// UsesBody reports whether the rule reads the body (as body or text).
func (p *Program) UsesBody() bool { return p.uses.body || p.uses.text }

// Input is what a rule sees of one webhook. Count and Random matter to response rules: the
// endpoint's request counter (this request included) and its seeded draw in [0, 1).
type Input struct {
	Event    *hook.Event
	Endpoint string // the endpoint's name
	Count    int64
	Random   float64

	body     any // parsed once, for every rule that reads it
	bodyDone bool
}

// activation resolves the variables of one evaluation, the costly ones only when asked.
type activation struct{ in *Input }

func (a activation) ResolveName(name string) (any, bool) {
	ev := a.in.Event
	switch name {
	case "method":
		return ev.Method, true
	case "path":
		return ev.Path, true
	case "query":
		return a.in.parsedQuery(), true
	case "headers":
		h := make(map[string]string, len(ev.Header))
		for k, v := range ev.Header {
			h[strings.ToLower(k)] = strings.Join(v, ", ")
		}
		return h, true
	case "body":
		return a.in.parsedBody(), true
	case "text":
		if utf8.Valid(ev.Body) {
			return string(ev.Body), true
		}
		return "", true
	case "type":
		return ev.Type, true
	case "endpoint":
		return a.in.Endpoint, true
	case "endpoint_id":
		return ev.EndpointID, true
	case "verification":
		return string(ev.Verification.Result), true
	case "received":
		return ev.ReceivedAt, true
	case "count":
		return a.in.Count, true
	case randomVar:
		return a.in.Random, true
	}
	return nil, false
}

func (activation) Parent() interpreter.Activation { return nil }

// parsedQuery is the query string as a map; a repeated parameter's values are joined by commas.
func (in *Input) parsedQuery() map[string]string {
	q, _ := url.ParseQuery(in.Event.Query)
	out := make(map[string]string, len(q))
	for k, v := range q {
		out[k] = strings.Join(v, ",")
	}
	return out
}

// parsedBody is the body as JSON, or nil (null) when it is not JSON. A whole number is an int
// (as people count zones and ids: `body.zone + 1`), any other a double; as in JavaScript, a
// whole number beyond 2^53 is only as exact as a double.
func (in *Input) parsedBody() any {
	if !in.bodyDone {
		in.bodyDone = true
		if v, err := parseJSON(in.Event.Body); err == nil {
			in.body = v
		}
	}
	return in.body
}

// maxExact is the largest whole number a double holds exactly.
const maxExact = 1 << 53

// numbers turns whole doubles into int64, in place.
func numbers(v any) any {
	switch x := v.(type) {
	case float64:
		if x == math.Trunc(x) && x >= -maxExact && x <= maxExact {
			return int64(x)
		}
	case map[string]any:
		for k, e := range x {
			x[k] = numbers(e)
		}
	case []any:
		for i, e := range x {
			x[i] = numbers(e)
		}
	}
	return v
}

// RunError is a rule that failed on one event: it ran out of cost, or met a missing field or a
// wrong type. It is that event's failure alone.
type RunError struct {
	Rule   string
	Reason string
}

func (e *RunError) Error() string { return "the rule " + quoteRule(e.Rule) + " failed: " + e.Reason }

func quoteRule(s string) string {
	if len(s) > 60 {
		s = s[:57] + "…"
	}
	return "«" + s + "»"
}

func (p *Program) eval(in *Input) (ref.Val, error) {
	out, _, err := p.prg.Eval(activation{in: in})
	if err != nil {
		reason := err.Error()
		switch {
		case strings.Contains(reason, "cost limit exceeded"):
			reason = fmt.Sprintf("it costs more than its limit (%d) on this event", CostLimit)
		case strings.Contains(reason, "no such overload"):
			reason += " (values of different types: a number with a fraction is a double, so write 1.0 beside it, or convert with int() or double())"
		}
		return nil, &RunError{Rule: p.src, Reason: reason}
	}
	return out, nil
}

// Match runs a condition.
func (p *Program) Match(in *Input) (bool, error) {
	out, err := p.eval(in)
	if err != nil {
		return false, err
	}
	b, ok := out.(types.Bool)
	if !ok {
		return false, &RunError{Rule: p.src, Reason: fmt.Sprintf("it gave %s, not true or false", out.Type().TypeName())}
	}
	return bool(b), nil
}

// Output is what a value rule made: bytes and what they are.
type Output struct {
	Body        []byte
	ContentType string // application/json, or text/plain; charset=utf-8 for a string
}

// Produce runs a value rule: a string is sent as text, bytes as they are, anything else as JSON.
func (p *Program) Produce(in *Input) (Output, error) {
	out, err := p.eval(in)
	if err != nil {
		return Output{}, err
	}
	var o Output
	switch v := out.(type) {
	case types.String:
		o = Output{Body: []byte(v), ContentType: "text/plain; charset=utf-8"}
	case types.Bytes:
		o = Output{Body: []byte(v), ContentType: "application/octet-stream"}
	default:
		b, err := toJSON(out)
		if err != nil {
			return Output{}, &RunError{Rule: p.src, Reason: err.Error()}
		}
		o = Output{Body: b, ContentType: "application/json"}
	}
	if len(o.Body) > MaxOutput {
		return Output{}, &RunError{Rule: p.src, Reason: fmt.Sprintf("it made %d bytes; at most %d", len(o.Body), MaxOutput)}
	}
	return o, nil
}

// toJSON encodes a CEL value as JSON, as encoding/json would (sorted keys, no spaces).
func toJSON(v ref.Val) ([]byte, error) {
	native, err := plain(v, 0)
	if err != nil {
		return nil, err
	}
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(native); err != nil {
		return nil, errors.New("its value cannot be sent as JSON")
	}
	return bytes.TrimSuffix(buf.Bytes(), []byte("\n")), nil
}

// plain is v as Go's JSON values: maps, slices, strings, numbers, booleans and nil.
func plain(v ref.Val, depth int) (any, error) {
	if depth > 64 {
		return nil, errors.New("its value is nested too deep to send")
	}
	switch x := v.(type) {
	case types.String:
		return string(x), nil
	case types.Int:
		return int64(x), nil
	case types.Uint:
		return uint64(x), nil
	case types.Double:
		return float64(x), nil
	case types.Bool:
		return bool(x), nil
	case types.Null:
		return nil, nil
	case types.Bytes:
		return []byte(x), nil // base64, as encoding/json writes bytes
	case types.Timestamp:
		return x.Time, nil
	case traits.Mapper:
		out := map[string]any{}
		for it := x.Iterator(); it.HasNext() == types.True; {
			k := it.Next()
			ks, ok := k.(types.String)
			if !ok {
				return nil, fmt.Errorf("a map key of its value is a %s: JSON keys are strings", k.Type().TypeName())
			}
			e, err := plain(x.Get(k), depth+1)
			if err != nil {
				return nil, err
			}
			out[string(ks)] = e
		}
		return out, nil
	case traits.Lister:
		out := []any{}
		for it := x.Iterator(); it.HasNext() == types.True; {
			e, err := plain(it.Next(), depth+1)
			if err != nil {
				return nil, err
			}
			out = append(out, e)
		}
		return out, nil
	}
	if n, err := v.ConvertToNative(reflect.TypeOf((*any)(nil)).Elem()); err == nil {
		return n, nil
	}
	return nil, fmt.Errorf("its %s cannot be sent as JSON", v.Type().TypeName())
}
