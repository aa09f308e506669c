// Package rules compiles and runs the expressions users attach to targets (a filter, a
// transform) and to endpoints (response rules). They are CEL: typed, checked when saved, unable
// to loop, and run within a cost limit, so a rule can neither hang nor crash anything.
package rules

import (
	"errors"
	"fmt"
	"strings"
	"sync"

	"github.com/google/cel-go/cel"
	"github.com/google/cel-go/common"
	"github.com/google/cel-go/common/ast"
	"github.com/google/cel-go/ext"
	"github.com/google/cel-go/parser"

	"github.com/hooktray/hooktray/hook"
)

// Kind is what an expression must give.
type Kind int

const (
	// Filter is a target's `when` and a response rule's `when`: a bool.
	Filter Kind = iota
	// Value is a transform's body or header, or a response rule's body: a map, a list, a string
	// or any JSON value.
	Value
)

// Limits bound one evaluation.
const (
	// CostLimit is CEL's runtime cost a rule may spend on one event: far above what a filter or
	// a reshaping costs (tens), far below what walks a hostile body.
	CostLimit = 200_000
	// MaxOutput is the most bytes a rule's output may take.
	MaxOutput = 1 << 20
	// MaxSource is the longest expression accepted.
	MaxSource = 8 << 10
)

// Env compiles rules and keeps what it compiled, so a rule is compiled once however often it runs.
type Env struct {
	env   *cel.Env
	mu    sync.Mutex
	cache map[cacheKey]*Program
}

type cacheKey struct {
	kind Kind
	src  string
}

// maxCached bounds the compiled programs kept; past it the cache starts over.
const maxCached = 1024

// New makes the environment: the variables of a webhook and the functions of CEL's string,
// encoder and math extensions.
func New() (*Env, error) {
	env, err := cel.NewEnv(
		cel.Variable("method", cel.StringType),
		cel.Variable("path", cel.StringType),
		cel.Variable("query", cel.MapType(cel.StringType, cel.StringType)),
		cel.Variable("headers", cel.MapType(cel.StringType, cel.StringType)),
		cel.Variable("body", cel.DynType),
		cel.Variable("text", cel.StringType),
		cel.Variable("type", cel.StringType),
		cel.Variable("endpoint", cel.StringType),
		cel.Variable("endpoint_id", cel.StringType),
		cel.Variable("verification", cel.StringType),
		cel.Variable("received", cel.TimestampType),
		cel.Variable("count", cel.IntType),
		cel.Variable(randomVar, cel.DoubleType),
		// rand() is the request's one seeded draw in [0, 1): the same in every call of a rule.
		cel.Macros(cel.GlobalMacro("rand", 0, func(eh parser.ExprHelper, _ ast.Expr, _ []ast.Expr) (ast.Expr, *common.Error) {
			return eh.NewIdent(randomVar), nil
		})),
		cel.CrossTypeNumericComparisons(true),
		ext.Strings(),
		ext.Encoders(),
		ext.Math(),
	)
	if err != nil {
		return nil, fmt.Errorf("rules: %w", err)
	}
	return &Env{env: env, cache: map[cacheKey]*Program{}}, nil
}

// randomVar holds the draw rand() stands for; users cannot name it (it starts with an underscore).
const randomVar = "_random"

// Error is a rule refused when saved: where in the expression, and why.
type Error struct {
	Line, Column int // 1-based; 0 when the rule as a whole is wrong
	Reason       string
}

func (e *Error) Error() string {
	if e.Line == 0 {
		return e.Reason
	}
	return fmt.Sprintf("at %d:%d: %s", e.Line, e.Column, e.Reason)
}

// Compile checks src as a rule of kind and returns its program (an *Error when it is wrong).
func (e *Env) Compile(kind Kind, src string) (*Program, error) {
	key := cacheKey{kind, src}
	e.mu.Lock()
	p, ok := e.cache[key]
	e.mu.Unlock()
	if ok {
		return p, nil
	}
	p, err := e.compile(kind, src)
	if err != nil {
		return nil, err
	}
	e.mu.Lock()
	if len(e.cache) >= maxCached {
		e.cache = map[cacheKey]*Program{}
	}
	e.cache[key] = p
	e.mu.Unlock()
	return p, nil
}

func (e *Env) compile(kind Kind, src string) (*Program, error) {
	if strings.TrimSpace(src) == "" {
		return nil, &Error{Reason: "the rule is empty"}
	}
	if len(src) > MaxSource {
		return nil, &Error{Reason: fmt.Sprintf("the rule is %d bytes long; at most %d", len(src), MaxSource)}
	}
	if strings.Contains(src, randomVar) {
		return nil, &Error{Reason: "use rand() for the request's random draw"}
	}
	checked, iss := e.env.Compile(src)
	if iss != nil && iss.Err() != nil {
		return nil, firstIssue(iss)
	}
	out := checked.OutputType()
	if kind == Filter && !out.IsExactType(cel.BoolType) && !out.IsExactType(cel.DynType) {
		return nil, &Error{Reason: fmt.Sprintf("a condition must be true or false, and this gives a %s", out)}
	}
	prg, err := e.env.Program(checked, cel.CostLimit(CostLimit), cel.InterruptCheckFrequency(100))
	if err != nil {
		return nil, &Error{Reason: err.Error()}
	}
	return &Program{kind: kind, prg: prg, src: src, uses: usesOf(checked)}, nil
}

// firstIssue is CEL's first complaint, with its position.
func firstIssue(iss *cel.Issues) error {
	errs := iss.Errors()
	if len(errs) == 0 {
		return &Error{Reason: iss.String()}
	}
	first := errs[0]
	loc := first.Location
	return &Error{Line: loc.Line(), Column: loc.Column() + 1, Reason: first.Message}
}

// uses says which costly inputs a rule reads, so that an event's body is parsed only for the
// rules that look at it.
type uses struct{ body, text bool }

func usesOf(a *cel.Ast) uses {
	var u uses
	for _, ref := range a.NativeRep().ReferenceMap() {
		switch ref.Name {
		case "body":
			u.body = true
		case "text":
			u.text = true
		}
	}
	return u
}

// CheckField is Compile as a field error of the domain, for the forms and the API.
func (e *Env) CheckField(field string, kind Kind, src string) error {
	if _, err := e.Compile(kind, src); err != nil {
		var re *Error
		if errors.As(err, &re) {
			return &hook.FieldError{Field: field, Message: "this rule " + re.Error()}
		}
		return &hook.FieldError{Field: field, Message: err.Error()}
	}
	return nil
}
