package deliver

import (
	"fmt"
	"net/http"
	"os"

	"github.com/hooktray/hooktray/app/rules"
	"github.com/hooktray/hooktray/hook"
)

// checkRules compiles a target's filter and transform, refusing a wrong one with its position.
func checkRules(env *rules.Env, t *hook.Target) error {
	if env == nil {
		return nil
	}
	if t.When != "" {
		if err := env.CheckField("when", rules.Filter, t.When); err != nil {
			return err
		}
	}
	if tr := t.Transform; !tr.Empty() {
		if tr.Body != "" {
			if err := env.CheckField("transform.body", rules.Value, tr.Body); err != nil {
				return err
			}
		}
		for name, src := range tr.Headers {
			if err := hook.CheckHeader(name, "-"); err != nil {
				return &hook.FieldError{Field: "transform.headers", Message: err.Error()}
			}
			if err := env.CheckField("transform.headers", rules.Value, src); err != nil {
				return err
			}
		}
	}
	return nil
}

// wants reports whether t's filter lets ev through. A rule that fails on ev lets it through: the
// delivery then fails with the rule's error, where the user sees it.
func wants(env *rules.Env, t *hook.Target, in *rules.Input) bool {
	if t.When == "" || env == nil {
		return true
	}
	p, err := env.Compile(rules.Filter, t.When)
	if err != nil {
		return true
	}
	if p.UsesBody() && in.Event.Body == nil && in.Event.BodyFile != "" {
		// A large body is spooled to a file until it is journaled: the rule reads it there.
		if b, err := os.ReadFile(in.Event.BodyFile); err == nil {
			ev := *in.Event
			ev.Body = b
			in.Event = &ev
		}
	}
	ok, err := p.Match(in)
	return ok || err != nil
}

// ruleFailed is the outcome of a rule that failed on an event: final (it would fail again), and
// no failure of the target's.
func ruleFailed(err error) Outcome { return Outcome{Err: err, Final: true, Rule: true} }

// applyRules runs t's filter (for its errors: a false one was not queued) and its transform on
// ev, which then is what is sent.
func applyRules(env *rules.Env, t hook.Target, ev *hook.Event, endpointName string) error {
	if env == nil || t.When == "" && t.Transform.Empty() {
		return nil
	}
	in := &rules.Input{Event: ev, Endpoint: endpointName}
	if t.When != "" {
		p, err := env.Compile(rules.Filter, t.When)
		if err != nil {
			return fmt.Errorf("the target's rule is wrong: %w", err)
		}
		if _, err := p.Match(in); err != nil {
			return err
		}
	}
	tr := t.Transform
	if tr.Empty() {
		return nil
	}
	header := ev.Header.Clone()
	if header == nil {
		header = http.Header{}
	}
	for name, src := range tr.Headers {
		p, err := env.Compile(rules.Value, src)
		if err != nil {
			return fmt.Errorf("the target's header rule is wrong: %w", err)
		}
		out, err := p.Produce(in)
		if err != nil {
			return err
		}
		header.Set(name, string(out.Body))
	}
	if tr.Body != "" {
		p, err := env.Compile(rules.Value, tr.Body)
		if err != nil {
			return fmt.Errorf("the target's transform is wrong: %w", err)
		}
		out, err := p.Produce(in)
		if err != nil {
			return err
		}
		ev.Body, ev.Size = out.Body, int64(len(out.Body))
		header.Set("Content-Type", out.ContentType)
		header.Del("Content-Length")
		header.Del("Content-Encoding")
	}
	ev.Header = header
	return nil
}
