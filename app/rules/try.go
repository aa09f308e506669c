package rules

import (
	"fmt"
	"math/rand/v2"
	"time"

	"github.com/hooktray/hooktray/hook"
)

// Trial is a rule tried on stored events before it is saved: a condition, a transform, or both.
type Trial struct {
	When      string
	Transform *hook.Transform
}

// TrialResult is what the rules made of one event.
type TrialResult struct {
	EventID    int64
	Matched    bool
	Output     *Output           // the transform's body, when there is one and it matched
	Headers    map[string]string // the transform's headers
	Error      string            // the rule failed on this event
	EventType  string
	ReceivedAt time.Time
	// Answer is set by a response rules trial: the rule that would answer, or the endpoint's.
	Answer *Answer
}

// Check compiles the trial's rules, naming the field of the first wrong one.
func (e *Env) Check(tr Trial) error {
	if tr.When == "" && tr.Transform.Empty() {
		return &hook.FieldError{Field: "when", Message: "give a condition (when), a transform, or both"}
	}
	if tr.When != "" {
		if err := e.CheckField("when", Filter, tr.When); err != nil {
			return err
		}
	}
	if t := tr.Transform; !t.Empty() {
		if t.Body != "" {
			if err := e.CheckField("transform.body", Value, t.Body); err != nil {
				return err
			}
		}
		for _, src := range t.Headers {
			if err := e.CheckField("transform.headers", Value, src); err != nil {
				return err
			}
		}
	}
	return nil
}

// Try runs the trial on each event (oldest or newest first, as given), as a target would.
func (e *Env) Try(tr Trial, events []hook.Event, endpointName string) ([]TrialResult, error) {
	if err := e.Check(tr); err != nil {
		return nil, err
	}
	out := make([]TrialResult, 0, len(events))
	for i := range events {
		out = append(out, e.tryOne(tr, &events[i], endpointName))
	}
	return out, nil
}

func (e *Env) tryOne(tr Trial, ev *hook.Event, endpointName string) TrialResult {
	res := TrialResult{EventID: ev.ID, Matched: true, EventType: ev.Type, ReceivedAt: ev.ReceivedAt}
	in := &Input{Event: ev, Endpoint: endpointName}
	if tr.When != "" {
		p, _ := e.Compile(Filter, tr.When)
		ok, err := p.Match(in)
		if err != nil {
			res.Matched, res.Error = false, err.Error()
			return res
		}
		res.Matched = ok
	}
	t := tr.Transform
	if !res.Matched || t.Empty() {
		return res
	}
	for name, src := range t.Headers {
		p, _ := e.Compile(Value, src)
		o, err := p.Produce(in)
		if err != nil {
			res.Error = err.Error()
			return res
		}
		if res.Headers == nil {
			res.Headers = map[string]string{}
		}
		res.Headers[name] = string(o.Body)
	}
	if t.Body != "" {
		p, _ := e.Compile(Value, t.Body)
		o, err := p.Produce(in)
		if err != nil {
			res.Error = err.Error()
			return res
		}
		res.Output = &o
	}
	return res
}

// Answer is what a response rule trial says a request was answered with.
type Answer struct {
	Rule   string // the rule's name; "" for the endpoint's own response
	Status int    // 0 for the endpoint's own response
	Body   *Output
}

// Draws is an endpoint's seeded source of rand(): the receiver's and a trial's are the same, so
// a trial with the endpoint's seed shows what it will draw.
func Draws(seed int64) *rand.Rand {
	s := uint64(seed)
	if seed == 0 {
		s = rand.Uint64()
	}
	return rand.New(rand.NewPCG(s, s^0x9e3779b97f4a7c15))
}

// CheckResponses compiles response rules, naming the first wrong one's field.
func (e *Env) CheckResponses(rs []hook.ResponseRule) error {
	if err := hook.CheckResponseRules(rs); err != nil {
		return err
	}
	for i, r := range rs {
		at := fmt.Sprintf("response_rules[%d]", i)
		if err := e.CheckField(at+".when", Filter, r.When); err != nil {
			return err
		}
		if r.Body != "" {
			if err := e.CheckField(at+".body", Value, r.Body); err != nil {
				return err
			}
		}
	}
	return nil
}

// TryResponses runs response rules over events (newest first, as the history gives them) as
// if they arrived again in their order: count is each one's place, rand() the seed's draws.
// The results are newest first.
func (e *Env) TryResponses(rs []hook.ResponseRule, seed int64, events []hook.Event, endpointName string) ([]TrialResult, error) {
	if err := e.CheckResponses(rs); err != nil {
		return nil, err
	}
	draws := Draws(seed)
	out := make([]TrialResult, len(events))
	for n := range events {
		i := len(events) - 1 - n // oldest first
		ev := &events[i]
		in := &Input{Event: ev, Endpoint: endpointName, Count: int64(n + 1), Random: draws.Float64()}
		out[i] = e.answer(rs, in)
	}
	return out, nil
}

// answer is the first rule that holds for in, as the receiver picks it.
func (e *Env) answer(rs []hook.ResponseRule, in *Input) TrialResult {
	ev := in.Event
	res := TrialResult{EventID: ev.ID, EventType: ev.Type, ReceivedAt: ev.ReceivedAt, Answer: &Answer{}}
	for i, r := range rs {
		when, _ := e.Compile(Filter, r.When)
		ok, err := when.Match(in)
		if err != nil {
			res.Error = r.Name(i) + ": " + err.Error()
			continue
		}
		if !ok {
			continue
		}
		res.Matched, res.Answer = true, &Answer{Rule: r.Name(i), Status: r.Status}
		if r.Body != "" {
			body, _ := e.Compile(Value, r.Body)
			o, err := body.Produce(in)
			if err != nil {
				res.Matched, res.Answer, res.Error = false, &Answer{}, r.Name(i)+": "+err.Error()
				continue
			}
			res.Answer.Body = &o
		}
		return res
	}
	return res
}
