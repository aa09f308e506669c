// Package shapes learns what an endpoint's payloads look like: per event type, the field paths
// seen, their JSON types and how often each is present. It learns off the ingest path, within
// fixed bounds, and notes when a provider changes its payload: a new event type, or a field that
// was always there going missing.
package shapes

import (
	"bytes"
	"cmp"
	"context"
	"encoding/json"
	"log/slog"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/hooktray/hooktray/clock"
	"github.com/hooktray/hooktray/hook"
)

// Bounds of what is learnt.
const (
	// MaxPaths is the most distinct field paths kept, over all endpoints and types.
	MaxPaths = 10_000
	// MaxTypes is the most event types kept per endpoint.
	MaxTypes = 100
	// maxDepth is how deep a body is walked.
	maxDepth = 8
	// maxBody is the largest body learnt from.
	maxBody = 256 << 10
	// perSecond is how many events a second are learnt from (a token bucket): a burst is
	// sampled, so learning costs ingest nothing however fast webhooks come.
	perSecond = 100
	// steady is how many events of a type must show a field before its absence is a change.
	steady = 20
	// maxDrifts is how many payload changes are kept per endpoint.
	maxDrifts = 20
)

// Kind is a JSON type.
type Kind string

const (
	Object Kind = "object"
	Array  Kind = "array"
	String Kind = "string"
	Number Kind = "number"
	Bool   Kind = "boolean"
	Null   Kind = "null"
)

// Field is one path of a type's payloads: how often each kind was seen there, and in how many
// of the events learnt from it was present.
type Field struct {
	Path    string
	Kinds   map[Kind]int64
	Present int64
}

// Shape is what one endpoint's events of one type look like.
type Shape struct {
	Type   string // "" for events without a type
	Events int64  // learnt from
	Fields []Field
}

// DriftKind is how a payload changed.
type DriftKind string

const (
	NewType      DriftKind = "new_type"
	FieldMissing DriftKind = "field_missing"
)

// Drift is a change of an endpoint's payloads.
type Drift struct {
	Kind    DriftKind
	Type    string
	Path    string // the field that went missing
	EventID int64
	At      time.Time
}

// Endpoint is what was learnt of an endpoint.
type Endpoint struct {
	Shapes []Shape
	Drifts []Drift // newest first
	// Full: the bound on paths was reached, so new paths are not learnt.
	Full bool
}

type field struct {
	kinds   map[Kind]int64
	present int64
}

type shape struct {
	events int64
	fields map[string]*field
}

type endpoint struct {
	shapes map[string]*shape
	drifts []Drift
}

// Options configure a Learner.
type Options struct {
	Clock clock.Clock
	Log   *slog.Logger
	// Changed is told when an endpoint's payloads changed (a drift), for views and notices.
	Changed func(endpointID string, d Drift)
}

// Learner learns shapes from committed events.
type Learner struct {
	opts   Options
	in     chan *hook.Event
	done   chan struct{}
	cancel context.CancelFunc
	mu     sync.Mutex
	eps    map[string]*endpoint
	paths  int
	full   bool
	// the token bucket of perSecond
	tokens float64
	last   time.Time
}

// New returns a learner; Start runs it.
func New(opts Options) *Learner {
	opts.Clock = clock.Or(opts.Clock)
	if opts.Log == nil {
		opts.Log = slog.Default()
	}
	return &Learner{opts: opts, in: make(chan *hook.Event, 1024), done: make(chan struct{}), eps: map[string]*endpoint{}, tokens: perSecond}
}

// Start learns, in its own goroutine, from what warm reads (the history's last events, no drift
// noted for them), then from what Committed hands it, until Stop.
func (l *Learner) Start(warm func(context.Context) []hook.Event) {
	ctx, cancel := context.WithCancel(context.Background())
	l.cancel = cancel
	go func() {
		defer close(l.done)
		evs := warm(ctx)
		for i := range evs {
			l.Learn(&evs[i], false)
		}
		for {
			select {
			case <-ctx.Done():
				return
			case ev := <-l.in:
				l.Learn(ev, true)
			}
		}
	}()
}

// Stop ends the learning.
func (l *Learner) Stop() {
	if l.cancel != nil {
		l.cancel()
		<-l.done
	}
}

// Committed takes the events ingest committed: one of its callbacks, so it never blocks and keeps
// nothing of theirs; what does not fit the queue, or the rate, is not learnt from.
func (l *Learner) Committed(evs []*hook.Event) {
	for _, ev := range evs {
		if ev.Status != hook.Accepted || ev.Body == nil || len(ev.Body) > maxBody || !l.take() {
			continue
		}
		// The event's memory is ingest's, reused once the callback returns: learn from a copy.
		own := &hook.Event{ID: ev.ID, EndpointID: ev.EndpointID, Type: ev.Type, Status: ev.Status,
			ReceivedAt: ev.ReceivedAt, Body: bytes.Clone(ev.Body)}
		select {
		case l.in <- own:
		default:
			return
		}
	}
}

// take spends a token of the bucket, if one is left.
func (l *Learner) take() bool {
	now := l.opts.Clock.Now()
	l.mu.Lock()
	defer l.mu.Unlock()
	if !l.last.IsZero() {
		l.tokens = min(perSecond, l.tokens+now.Sub(l.last).Seconds()*perSecond)
	}
	l.last = now
	if l.tokens < 1 {
		return false
	}
	l.tokens--
	return true
}

// Learn learns from one event; drifts are noted only when watch is set (not while warming up
// from the history).
func (l *Learner) Learn(ev *hook.Event, watch bool) {
	var body any
	if len(ev.Body) == 0 || json.Unmarshal(ev.Body, &body) != nil {
		return
	}
	seen := map[string]Kind{}
	walk(seen, "body", body, 0)
	l.mu.Lock()
	drifts := l.learn(ev, seen, watch)
	l.mu.Unlock()
	for _, d := range drifts {
		l.opts.Log.Info("an endpoint's payloads changed", "endpoint", ev.EndpointID, "kind", d.Kind, "type", d.Type, "path", d.Path)
		if l.opts.Changed != nil {
			l.opts.Changed(ev.EndpointID, d)
		}
	}
}

func (l *Learner) learn(ev *hook.Event, seen map[string]Kind, watch bool) []Drift {
	ep := l.eps[ev.EndpointID]
	if ep == nil {
		ep = &endpoint{shapes: map[string]*shape{}}
		l.eps[ev.EndpointID] = ep
	}
	var drifts []Drift
	sh := ep.shapes[ev.Type]
	if sh == nil {
		if len(ep.shapes) >= MaxTypes {
			return nil
		}
		if watch && len(ep.shapes) > 0 && ep.total() >= steady {
			drifts = append(drifts, Drift{Kind: NewType, Type: ev.Type, EventID: ev.ID, At: ev.ReceivedAt})
		}
		sh = &shape{fields: map[string]*field{}}
		ep.shapes[ev.Type] = sh
	}
	if watch && sh.events >= steady {
		for path, f := range sh.fields {
			if _, ok := seen[path]; !ok && f.present == sh.events {
				drifts = append(drifts, Drift{Kind: FieldMissing, Type: ev.Type, Path: path, EventID: ev.ID, At: ev.ReceivedAt})
			}
		}
	}
	sh.events++
	for path, kind := range seen {
		f := sh.fields[path]
		if f == nil {
			if l.paths >= MaxPaths {
				l.full = true
				continue
			}
			l.paths++
			f = &field{kinds: map[Kind]int64{}}
			sh.fields[path] = f
		}
		f.present++
		f.kinds[kind]++
	}
	if len(drifts) > 0 {
		ep.drifts = append(drifts, ep.drifts...)[:min(maxDrifts, len(drifts)+len(ep.drifts))]
	}
	return drifts
}

func (ep *endpoint) total() int64 {
	var n int64
	for _, s := range ep.shapes {
		n += s.events
	}
	return n
}

// walk records each path of v (arrays as []: body.items[].id) with its kind.
func walk(seen map[string]Kind, path string, v any, depth int) {
	seen[path] = kindOf(v)
	if depth >= maxDepth {
		return
	}
	switch x := v.(type) {
	case map[string]any:
		for k, e := range x {
			walk(seen, path+key(k), e, depth+1)
		}
	case []any:
		for _, e := range x {
			walk(seen, path+"[]", e, depth+1)
		}
	}
}

// key is how a rule reaches a member: .name, or ["odd name"].
func key(k string) string {
	plain := k != "" && !(k[0] >= '0' && k[0] <= '9')
	for _, c := range k {
		if !(c == '_' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9') {
			plain = false
			break
		}
	}
	if plain {
		return "." + k
	}
	b, _ := json.Marshal(k)
	return "[" + string(b) + "]"
}

func kindOf(v any) Kind {
	switch v.(type) {
	case map[string]any:
		return Object
	case []any:
		return Array
	case string:
		return String
	case float64:
		return Number
	case bool:
		return Bool
	}
	return Null
}

// Of is what was learnt of an endpoint: its types (most events first), each type's fields by
// path, and its drifts.
func (l *Learner) Of(endpointID string) Endpoint {
	l.mu.Lock()
	defer l.mu.Unlock()
	out := Endpoint{Full: l.full}
	ep := l.eps[endpointID]
	if ep == nil {
		return out
	}
	for typ, sh := range ep.shapes {
		s := Shape{Type: typ, Events: sh.events}
		for path, f := range sh.fields {
			kinds := make(map[Kind]int64, len(f.kinds))
			for k, n := range f.kinds {
				kinds[k] = n
			}
			s.Fields = append(s.Fields, Field{Path: path, Kinds: kinds, Present: f.present})
		}
		slices.SortFunc(s.Fields, func(a, b Field) int { return strings.Compare(a.Path, b.Path) })
		out.Shapes = append(out.Shapes, s)
	}
	slices.SortFunc(out.Shapes, func(a, b Shape) int {
		if c := cmp.Compare(b.Events, a.Events); c != 0 {
			return c
		}
		return strings.Compare(a.Type, b.Type)
	})
	out.Drifts = append([]Drift(nil), ep.drifts...)
	return out
}

// Paths are the field paths seen on an endpoint's events of any type, for completion in the
// rule editors.
func (l *Learner) Paths(endpointID string) []string {
	var out []string
	seen := map[string]bool{}
	for _, s := range l.Of(endpointID).Shapes {
		for _, f := range s.Fields {
			if !seen[f.Path] {
				seen[f.Path] = true
				out = append(out, f.Path)
			}
		}
	}
	slices.Sort(out)
	return out
}

// Forget drops what was learnt of a deleted endpoint.
func (l *Learner) Forget(endpointID string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if ep := l.eps[endpointID]; ep != nil {
		for _, s := range ep.shapes {
			l.paths -= len(s.fields)
		}
		delete(l.eps, endpointID)
		l.full = false
	}
}
