package deliver

import (
	"context"
	"fmt"
	"log/slog"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/hooktray/hooktray/app/live"
	"github.com/hooktray/hooktray/app/rules"
	"github.com/hooktray/hooktray/app/secrets"
	"github.com/hooktray/hooktray/app/useragent"
	"github.com/hooktray/hooktray/app/verify"
	"github.com/hooktray/hooktray/clock"
	"github.com/hooktray/hooktray/hook"
)

// Store keeps targets, their sealed secrets and the delivery queue: *storage.Store.
type Store interface {
	EngineStore
	secrets.NamedStore
	Targets(ctx context.Context) ([]hook.Target, error)
	CreateTarget(ctx context.Context, t *hook.Target) error
	UpdateTarget(ctx context.Context, t *hook.Target) error
	DeleteTarget(ctx context.Context, id string, now time.Time) error
	Event(ctx context.Context, id int64) (hook.Event, error)
	AddDeliveries(ctx context.Context, eventID int64, targetIDs []string, edit *hook.Edit, now time.Time) ([]hook.Delivery, error)
	RetryDelivery(ctx context.Context, id int64, now time.Time) (hook.Delivery, error)
	RetryDeliveries(ctx context.Context, targetID string, status hook.DeliveryStatus, now time.Time) (int64, error)
}

// Endpoints is what forwarding needs of the endpoints: that one exists, and its name.
type Endpoints interface {
	Get(id string) (hook.Endpoint, error)
	Name(id string) string
}

// Reporter hears storage errors.
type Reporter interface{ NoteStorage(err error) }

// Options configure the Service; all but Clock, Log, Version and Supervisor are required.
type Options struct {
	Store      Store
	Box        *secrets.Box
	Endpoints  Endpoints
	Clock      clock.Clock
	Log        *slog.Logger
	Health     Reporter
	Changes    *live.Feed[hook.Change] // TargetsChanged and DeliveriesChanged are published there
	Version    string                  // in forwarded requests' User-Agent
	Supervisor []string                // see EngineOptions.Supervisor
	Rules      *rules.Env              // targets' filters and transforms
}

// Service is forwarding: the targets (kept in memory, for ingest's decision where each event
// goes), the delivery engine, retries and replays. Reading deliveries is the history's.
type Service struct {
	opts    Options
	secrets secrets.Named
	engine  *Engine

	mu      sync.RWMutex
	targets map[string][]hook.Target // by endpoint id
	// announcing is set while a change announcement is scheduled: attempts in a burst are told
	// to views once per changeEvery, not once each.
	announcing atomic.Bool
}

// changeEvery is how often, at most, views are told that deliveries changed.
const changeEvery = 250 * time.Millisecond

// New returns the service; Start loads the targets and starts delivering.
func New(opts Options) *Service {
	opts.Clock = clock.Or(opts.Clock)
	if opts.Log == nil {
		opts.Log = slog.Default()
	}
	s := &Service{opts: opts, secrets: secrets.Named{Box: opts.Box, Store: opts.Store}, targets: map[string][]hook.Target{}}
	s.engine = NewEngine(EngineOptions{
		Store:        opts.Store,
		Clock:        opts.Clock,
		Client:       useragent.Client(opts.Version, 0),
		Secret:       s.targetSecret,
		EndpointName: opts.Endpoints.Name,
		Log:          opts.Log,
		Supervisor:   opts.Supervisor,
		Rules:        opts.Rules,
		OnChange:     func(string) { s.announce() },
		OnGone: func(t hook.Target) {
			opts.Log.Warn("a forwarding target answered 410 Gone and was disabled", "target", t.ID, "endpoint", t.EndpointID, "url", t.URL)
		},
	})
	return s
}

// Start loads the targets and starts the engine: deliveries left open by the last run resume at
// their stored time. It comes after the ingest journal a crash left was imported, with its
// deliveries.
func (s *Service) Start(ctx context.Context) error {
	all, err := s.opts.Store.Targets(ctx)
	if err != nil {
		return err
	}
	s.mu.Lock()
	for _, t := range all {
		s.targets[t.EndpointID] = append(s.targets[t.EndpointID], t)
	}
	s.mu.Unlock()
	for _, t := range all {
		s.engine.Set(t)
	}
	return nil
}

// Stop ends the workers, letting attempts in flight finish until ctx ends; false means some were
// cut off (they are made again at next start, with the same delivery id).
func (s *Service) Stop(ctx context.Context) bool { return s.engine.Stop(ctx) }

// announce tells views that deliveries and targets' health changed, at most once per changeEvery.
func (s *Service) announce() {
	if !s.announcing.CompareAndSwap(false, true) {
		return
	}
	s.opts.Clock.AfterFunc(changeEvery, func() {
		s.announcing.Store(false)
		s.opts.Changes.Publish(hook.DeliveriesChanged, hook.TargetsChanged)
	})
}

// ForwardTo lists the targets an accepted event goes to: ingest's routing decision, made before
// the event is journaled so that its deliveries are stored with it.
func (s *Service) ForwardTo(ev *hook.Event) []string {
	s.mu.RLock()
	defer s.mu.RUnlock()
	var out []string
	var in *rules.Input
	for i := range s.targets[ev.EndpointID] {
		t := &s.targets[ev.EndpointID][i]
		if !t.Enabled || !t.Matches(ev.Type) {
			continue
		}
		if t.When != "" && in == nil { // one input for every filter: the body is parsed once
			in = &rules.Input{Event: ev, Endpoint: s.opts.Endpoints.Name(ev.EndpointID)}
		}
		if wants(s.opts.Rules, t, in) {
			out = append(out, t.ID)
		}
	}
	return out
}

// Committed hands the workers of targets that just got deliveries what to send: one of ingest's
// committed callbacks, so it must not block.
func (s *Service) Committed(evs []*hook.Event) { s.engine.Offer(evs) }

// withHealth is t with the health its worker knows now.
func (s *Service) withHealth(t hook.Target) hook.Target {
	if live, ok := s.engine.Target(t.ID); ok {
		t.State, t.StateReason, t.ConsecutiveFailures, t.LastError, t.PausedUntil, t.Enabled =
			live.State, live.StateReason, live.ConsecutiveFailures, live.LastError, live.PausedUntil, live.Enabled
	}
	return t
}

// Targets lists an endpoint's targets, oldest first, with their health.
func (s *Service) Targets(endpointID string) ([]hook.Target, error) {
	if _, err := s.opts.Endpoints.Get(endpointID); err != nil {
		return nil, err
	}
	s.mu.RLock()
	list := slices.Clone(s.targets[endpointID])
	s.mu.RUnlock()
	for i := range list {
		list[i] = s.withHealth(list[i])
	}
	return list, nil
}

// AllTargets lists every target, with its health.
func (s *Service) AllTargets() []hook.Target {
	s.mu.RLock()
	var list []hook.Target
	for _, ts := range s.targets {
		list = append(list, ts...)
	}
	s.mu.RUnlock()
	slices.SortFunc(list, func(a, b hook.Target) int { return a.CreatedAt.Compare(b.CreatedAt) })
	for i := range list {
		list[i] = s.withHealth(list[i])
	}
	return list
}

// Target returns one target with its health.
func (s *Service) Target(id string) (hook.Target, error) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	for _, ts := range s.targets {
		for _, t := range ts {
			if t.ID == id {
				return s.withHealth(t), nil
			}
		}
	}
	return hook.Target{}, fmt.Errorf("target %s: %w", id, hook.ErrNotFound)
}

func (s *Service) put(t hook.Target) {
	s.mu.Lock()
	list := s.targets[t.EndpointID]
	if i := slices.IndexFunc(list, func(x hook.Target) bool { return x.ID == t.ID }); i >= 0 {
		list[i] = t
	} else {
		list = append(list, t)
	}
	s.targets[t.EndpointID] = list
	s.mu.Unlock()
	s.engine.Set(t)
	s.opts.Changes.Publish(hook.TargetsChanged)
}

// RetryDelivery makes a failed or dead-lettered delivery due now, keeping its id.
func (s *Service) RetryDelivery(ctx context.Context, id int64) (hook.Delivery, error) {
	d, err := s.opts.Store.RetryDelivery(ctx, id, s.opts.Clock.Now())
	if err != nil {
		return d, err
	}
	s.engine.Kick(d.TargetID)
	s.opts.Changes.Publish(hook.DeliveriesChanged)
	return d, nil
}

// RetryDeliveries makes every delivery of a target in status due again, in their order.
func (s *Service) RetryDeliveries(ctx context.Context, targetID string, status hook.DeliveryStatus) (int64, error) {
	if _, err := s.Target(targetID); err != nil {
		return 0, err
	}
	if status != hook.DeliveryDeadLetter && status != hook.DeliveryFailed {
		return 0, &hook.FieldError{Field: "status", Message: "retry all works on dead_letter or failed deliveries"}
	}
	n, err := s.opts.Store.RetryDeliveries(ctx, targetID, status, s.opts.Clock.Now())
	if err != nil {
		return 0, err
	}
	s.engine.Kick(targetID)
	s.opts.Changes.Publish(hook.DeliveriesChanged)
	return n, nil
}

// ReplayToTargets queues a stored event again for the given targets of its endpoint (all of them
// when none are given), edited first when edit is set. Each gets a new delivery.
func (s *Service) ReplayToTargets(ctx context.Context, eventID int64, targetIDs []string, edit *hook.Edit) ([]hook.Delivery, error) {
	ev, err := s.opts.Store.Event(ctx, eventID)
	if err != nil {
		return nil, err
	}
	if !ev.BodyKept() && ev.Status == hook.Rejected && (edit == nil || edit.Body == nil) {
		return nil, fmt.Errorf("%w: event %d was rejected, so its body was not kept", ErrNothingToSend, ev.ID)
	}
	if targetIDs, err = s.replayTargets(ev.EndpointID, targetIDs); err != nil {
		return nil, err
	}
	ds, err := s.opts.Store.AddDeliveries(ctx, eventID, targetIDs, edit, s.opts.Clock.Now())
	if err != nil {
		s.opts.Health.NoteStorage(err)
		return nil, err
	}
	for _, id := range targetIDs {
		s.engine.Kick(id)
	}
	s.opts.Changes.Publish(hook.DeliveriesChanged)
	return ds, nil
}

// replayTargets checks that ids are targets of the endpoint; none means all of them.
func (s *Service) replayTargets(endpointID string, ids []string) ([]string, error) {
	own, err := s.Targets(endpointID)
	if err != nil {
		return nil, err
	}
	if len(ids) == 0 {
		for _, t := range own {
			ids = append(ids, t.ID)
		}
		if len(ids) == 0 {
			return nil, &hook.FieldError{Field: "targets", Message: "the endpoint has no forwarding targets; add one, or give a URL to send the event to"}
		}
	}
	for _, id := range ids {
		if !slices.ContainsFunc(own, func(t hook.Target) bool { return t.ID == id }) {
			return nil, &hook.FieldError{Field: "targets", Message: fmt.Sprintf("%s is not a target of the event's endpoint", id)}
		}
	}
	return ids, nil
}

// ReplayTo sends a stored event (edited first when edit is set) to a URL the user typed, once,
// and returns the answer.
func (s *Service) ReplayTo(ctx context.Context, eventID int64, to string, edit *hook.Edit) (ReplayResult, error) {
	ev, err := s.opts.Store.Event(ctx, eventID)
	if err != nil {
		return ReplayResult{}, err
	}
	return SendOnce(ctx, useragent.Client(s.opts.Version, hook.DefaultTargetTimeout), edit.Apply(ev), to)
}

// checkSigning checks what cannot be checked without the secrets: that a signing scheme can sign
// and has its secret.
func checkSigning(t *hook.Target, had hook.Scheme, c hook.TargetChange) error {
	if t.SignScheme == hook.SchemeNone {
		return nil
	}
	if !verify.CanSign(t.SignScheme) {
		return &hook.FieldError{Field: "sign.scheme", Message: fmt.Sprintf("%s cannot sign a forwarded request", t.SignScheme)}
	}
	newSecret := c.Sign != nil && c.Sign.Secret != nil && *c.Sign.Secret != ""
	if !newSecret && had == hook.SchemeNone {
		return &hook.FieldError{Field: "sign.secret", Message: "give the secret the target checks signatures with"}
	}
	if newSecret && t.SignScheme == hook.SchemeStandardWebhooks {
		if _, err := verify.Sign(t.SignScheme, *c.Sign.Secret, nil, "x", time.Now()); err != nil {
			return &hook.FieldError{Field: "sign.secret", Message: err.Error()}
		}
	}
	return nil
}
