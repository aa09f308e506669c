package endpoints

import (
	"github.com/hooktray/hooktray/app/receiver"
	"github.com/hooktray/hooktray/app/rules"
	"github.com/hooktray/hooktray/hook"
)

// checkResponseRules compiles each rule's condition and body, refusing a wrong one with where.
func (s *Service) checkResponseRules(rs []hook.ResponseRule) error {
	if s.opts.Rules == nil {
		return nil
	}
	return s.opts.Rules.CheckResponses(rs)
}

// compileResponseRules is the rules as the receiver runs them (a rule that no longer compiles,
// which checkResponseRules refused when saved, is left out).
func (s *Service) compileResponseRules(rs []hook.ResponseRule) []receiver.ResponseRule {
	if s.opts.Rules == nil || len(rs) == 0 {
		return nil
	}
	out := make([]receiver.ResponseRule, 0, len(rs))
	for i, r := range rs {
		when, err := s.opts.Rules.Compile(rules.Filter, r.When)
		if err != nil {
			s.opts.Log.Warn("a response rule does not compile and is skipped", "rule", r.Name(i), "err", err)
			continue
		}
		c := receiver.ResponseRule{ResponseRule: r, Name: r.Name(i), When: when}
		if r.Body != "" {
			if c.Body, err = s.opts.Rules.Compile(rules.Value, r.Body); err != nil {
				continue
			}
		}
		out = append(out, c)
	}
	return out
}
