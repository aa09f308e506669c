// Package deliver forwards stored events to their endpoint's targets: a durable queue in SQLite
// (a delivery row per event and target, written with the event), one worker per target that sends
// its deliveries in order of arrival, retries on a schedule, opens a circuit breaker after repeated
// failures, keeps to a rate limit, and ends what cannot be delivered as a dead letter. Every
// schedule runs on an injected clock.
package deliver

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"sync"
	"time"

	"github.com/hooktray/hooktray/app/rules"
	"github.com/hooktray/hooktray/clock"
	"github.com/hooktray/hooktray/hook"
)

// EngineStore is what the engine needs of the database.
type EngineStore interface {
	OpenDeliveries(ctx context.Context, targetID string, limit int) ([]hook.Delivery, error)
	EventsByID(ctx context.Context, ids []int64) (map[int64]hook.Event, error)
	RecordAttempts(ctx context.Context, ds []hook.Delivery, targetID string, h hook.TargetHealth, now time.Time) error
	SetTargetHealth(ctx context.Context, id string, h hook.TargetHealth, now time.Time) error
	EventTypes(ctx context.Context, endpointID string, limit int) ([]string, error)
}

// Secret purposes: what a target's sealed secrets are for.
const (
	SecretSign          = "sign"
	SecretHomeAssistant = "home-assistant"
)

// EngineOptions configure an Engine.
type EngineOptions struct {
	Store EngineStore
	Clock clock.Clock // schedules retries, the breaker and the rate limit; nil: the system clock
	// Client sends HTTP and Home Assistant deliveries; nil: a client without a global timeout
	// (each target's timeout applies per attempt).
	Client *http.Client
	// Secret opens a target's sealed secret for a purpose ("" and no error when none is set).
	Secret func(ctx context.Context, targetID, purpose string) (string, error)
	// EndpointName names an endpoint in Home Assistant events.
	EndpointName func(id string) string
	Log          *slog.Logger
	// OnChange is called after a delivery or a target's health changed, for views to follow.
	OnChange func(targetID string)
	// OnGone is called when a target answered 410 Gone and was disabled (the user should register
	// again).
	OnGone func(t hook.Target)
	// MaxRetryAfter caps a target's Retry-After (default 1 h).
	MaxRetryAfter time.Duration
	// Supervisor, when set, is the command line program targets run under: Hooktray's own binary
	// and SuperviseCommand, which ends every descendant of the program (see Supervise). Without
	// it a program is run directly and its process group is what is ended.
	Supervisor []string
	// Rules runs targets' filters and transforms (nil: none run).
	Rules *rules.Env
}

// Engine runs one worker per target.
type Engine struct {
	opts    EngineOptions
	clock   clock.Clock
	ctx     context.Context
	cancel  context.CancelFunc
	wg      sync.WaitGroup
	mu      sync.Mutex
	workers map[string]*worker
	ha      haRoutes    // the hop each Home Assistant target uses
	mqtt    mqttClients // each MQTT target's broker connection
	known   announced   // the event types each MQTT target announced to Home Assistant
}

// NewEngine returns an engine; Set gives it targets, Stop ends it.
func NewEngine(opts EngineOptions) *Engine {
	if opts.Client == nil {
		opts.Client = &http.Client{}
	}
	if opts.Log == nil {
		opts.Log = slog.Default()
	}
	if opts.MaxRetryAfter <= 0 {
		opts.MaxRetryAfter = time.Hour
	}
	if opts.Secret == nil {
		opts.Secret = func(context.Context, string, string) (string, error) { return "", nil }
	}
	if opts.EndpointName == nil {
		opts.EndpointName = func(id string) string { return id }
	}
	ctx, cancel := context.WithCancel(context.Background())
	return &Engine{opts: opts, clock: clock.Or(opts.Clock), ctx: ctx, cancel: cancel, workers: map[string]*worker{}}
}

// Set starts or updates the worker of t (a new or changed target, or one loaded at start).
func (e *Engine) Set(t hook.Target) {
	e.mu.Lock()
	defer e.mu.Unlock()
	if w, ok := e.workers[t.ID]; ok {
		w.update(t)
		return
	}
	w := &worker{e: e, kick: make(chan struct{}, 1), target: t, due: map[int64]dueTime{}, inbox: &inbox{}}
	e.workers[t.ID] = w
	e.wg.Add(1)
	go func() {
		defer e.wg.Done()
		w.run(e.ctx)
	}()
}

// Remove stops the worker of a deleted target.
func (e *Engine) Remove(id string) {
	e.mu.Lock()
	w := e.workers[id]
	delete(e.workers, id)
	e.mu.Unlock()
	if w != nil {
		w.stop()
	}
	e.mqtt.close(id)
}

// Kick tells a target's worker that its queue in SQLite changed (deliveries queued by a replay,
// or made due by hand): it reads the queue again.
func (e *Engine) Kick(id string) {
	e.mu.Lock()
	w := e.workers[id]
	e.mu.Unlock()
	if w != nil {
		w.poke()
	}
}

// Offer hands the workers the deliveries of events the importer just committed (their IDs and
// Queued set), so that a worker which has caught up sends them without reading them back from
// SQLite. It is one of ingest's committed callbacks: it copies what it keeps and never blocks.
func (e *Engine) Offer(evs []*hook.Event) {
	e.mu.Lock()
	defer e.mu.Unlock()
	for _, ev := range evs {
		if ev.Status != hook.Accepted || len(ev.Queued) != len(ev.Forward) {
			continue
		}
		at := time.Unix(0, ev.ReceivedAt.UnixNano()).UTC() // as the store keeps it
		for i, id := range ev.Forward {
			w := e.workers[id]
			if w == nil {
				continue
			}
			w.inbox.offer(hook.Delivery{ID: ev.Queued[i], EventID: ev.ID, TargetID: id, Status: hook.DeliveryPending,
				NextAt: at, CreatedAt: at, UpdatedAt: at}, ev)
			w.wake()
		}
	}
}

// Target returns a target as its worker knows it (with its current health).
func (e *Engine) Target(id string) (hook.Target, bool) {
	e.mu.Lock()
	w := e.workers[id]
	e.mu.Unlock()
	if w == nil {
		return hook.Target{}, false
	}
	return w.get(), true
}

// Resume closes a target's breaker (or re-enables one disabled by 410) and lets its deliveries
// go at once.
func (e *Engine) Resume(ctx context.Context, id string) (hook.Target, error) {
	e.mu.Lock()
	w := e.workers[id]
	e.mu.Unlock()
	if w == nil {
		return hook.Target{}, fmt.Errorf("target %s: %w", id, hook.ErrNotFound)
	}
	t := w.get()
	t.Enabled, t.State, t.StateReason, t.ConsecutiveFailures, t.PausedUntil = true, hook.TargetActive, "", 0, time.Time{}
	if err := e.opts.Store.SetTargetHealth(ctx, id, healthOf(t), e.clock.Now()); err != nil {
		return hook.Target{}, err
	}
	w.mu.Lock()
	w.target = t
	w.mu.Unlock()
	w.poke()
	e.changed(id)
	return t, nil
}

// Stop ends every worker; an attempt in flight is cut off and will be made again at next start
// (at least once, with the same delivery id). It returns once they have ended, or when ctx ends
// (false): a shutdown keeps its deadline whatever a target does.
func (e *Engine) Stop(ctx context.Context) bool {
	e.cancel()
	done := make(chan struct{})
	go func() {
		e.wg.Wait()
		close(done)
	}()
	select {
	case <-done:
		return true
	case <-ctx.Done():
		return false
	}
}

func (e *Engine) changed(id string) {
	if e.opts.OnChange != nil {
		e.opts.OnChange(id)
	}
}

func healthOf(t hook.Target) hook.TargetHealth {
	return hook.TargetHealth{State: t.State, StateReason: t.StateReason, ConsecutiveFailures: t.ConsecutiveFailures,
		LastError: t.LastError, PausedUntil: t.PausedUntil, Enabled: t.Enabled}
}

// worker delivers one target's queue.
type worker struct {
	e      *Engine
	kick   chan struct{}
	mu     sync.Mutex
	target hook.Target
	rate   bucket // the rate limit's tokens
	cancel context.CancelFunc
	done   chan struct{}

	// Waits on the monotonic clock (clock.Due), so a wall-clock step does not stretch them: the
	// retry time of each open delivery seen at the head of the queue, by id, and the breaker's
	// end (under mu). Read from the stored wall times when first seen, then kept here.
	due        map[int64]dueTime
	pausedDue  time.Duration
	pausedSeen bool

	// Straight from the commit: once a read of the queue found it empty (trusted), the worker
	// sends what the importer hands its inbox, until a delivery fails or the inbox missed one;
	// then it reads the queue from SQLite again. Only the worker's goroutine uses trusted and
	// sent.
	inbox   *inbox
	trusted bool
	sent    recent // what was recently recorded, which a late offer must not send again
}

// dueTime is a delivery's retry time on the monotonic clock, with the stored time it was read
// from: a delivery retried by hand (its next_at moved) is read again.
type dueTime struct {
	next time.Time
	at   time.Duration
}

func (w *worker) get() hook.Target {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.target
}

// update takes new settings and keeps the health the worker knows; a disabled target enabled
// again starts afresh.
func (w *worker) update(t hook.Target) {
	w.mu.Lock()
	old := w.target
	t.State, t.StateReason, t.ConsecutiveFailures, t.LastError, t.PausedUntil =
		old.State, old.StateReason, old.ConsecutiveFailures, old.LastError, old.PausedUntil
	if t.Enabled && !old.Enabled && old.State == hook.TargetDisabled {
		t.State, t.StateReason, t.ConsecutiveFailures, t.PausedUntil = hook.TargetActive, "", 0, time.Time{}
	}
	w.target = t
	w.mu.Unlock()
	w.poke()
}

// poke wakes the worker to read its queue from SQLite again: something other than the importer
// changed it (a replay, a retry by hand, a target resumed or edited).
func (w *worker) poke() {
	w.inbox.stale()
	w.wake()
}

// wake wakes the worker for what was handed to its inbox.
func (w *worker) wake() {
	select {
	case w.kick <- struct{}{}:
	default:
	}
}

func (w *worker) stop() {
	w.mu.Lock()
	cancel, done := w.cancel, w.done
	w.mu.Unlock()
	if cancel != nil {
		cancel()
		<-done
	}
}

// wait returns after d (d < 0: no deadline), a kick, or the end of ctx (false).
func (w *worker) wait(ctx context.Context, d time.Duration) bool {
	var fired chan struct{}
	if d >= 0 {
		fired = make(chan struct{})
		t := w.e.clock.AfterFunc(d, func() { close(fired) })
		defer t.Stop()
	}
	select {
	case <-ctx.Done():
		return false
	case <-w.kick:
	case <-fired:
	}
	return true
}

func (w *worker) run(parent context.Context) {
	ctx, cancel := context.WithCancel(parent)
	done := make(chan struct{})
	w.mu.Lock()
	w.cancel, w.done = cancel, done
	w.mu.Unlock()
	defer close(done)
	defer cancel()
	for ctx.Err() == nil {
		t := w.get()
		if !t.Enabled || t.State == hook.TargetDisabled {
			w.wait(ctx, -1)
			continue
		}
		halfOpen := false
		if t.State == hook.TargetPaused {
			if left := w.pauseLeft(); left > 0 {
				w.wait(ctx, left)
				continue
			}
			halfOpen = true // the breaker lets one delivery through
		}
		if w.trusted && !halfOpen {
			if !w.fromInbox(ctx, t) {
				w.trusted = false
			}
			continue
		}
		w.fromQueue(ctx, t, halfOpen)
	}
}

// fromInbox sends what the importer handed over, in order, once the rate limit allows; false
// when the inbox cannot be trusted (it missed a delivery) or a delivery did not go through, so
// the queue is to be read from SQLite.
func (w *worker) fromInbox(ctx context.Context, t hook.Target) bool {
	if wait := w.rateWait(t); wait > 0 {
		w.wait(ctx, wait)
		return true
	}
	hs, ok := w.inbox.take(min(max(t.Parallel, batch), w.rateRoom(t)))
	if !ok {
		return false
	}
	if len(hs) == 0 {
		w.wait(ctx, -1)
		return true
	}
	due := make([]hook.Delivery, 0, len(hs))
	events := make(map[int64]hook.Event, len(hs))
	for _, h := range hs {
		if w.sent.has(keyOf(h.d)) {
			continue // offered after it was read from SQLite and sent
		}
		due = append(due, h.d)
		events[h.d.EventID] = h.ev
	}
	if len(due) == 0 {
		return true
	}
	return w.send(ctx, t, due, batchOf{events: events, secrets: w.e.memoFor(t.ID)})
}

// fromQueue reads the head of the queue from SQLite and sends what is due. A queue found empty
// makes the worker trust its inbox from then on: everything committed since reaches it.
func (w *worker) fromQueue(ctx context.Context, t hook.Target, halfOpen bool) {
	log := w.e.opts.Log
	limit := max(t.Parallel, batch)
	if halfOpen {
		limit = 1
	}
	w.inbox.reset() // what is offered from here on is newer than this read, or in it
	open, err := w.e.opts.Store.OpenDeliveries(ctx, t.ID, limit)
	if err != nil {
		if ctx.Err() == nil {
			log.Error("read a target's queue", "target", t.ID, "err", err)
			w.wait(ctx, 5*time.Second)
		}
		return
	}
	if len(open) == 0 {
		w.trusted = !halfOpen
		if halfOpen {
			w.wait(ctx, -1)
		}
		return
	}
	// In order of arrival: the head waits for its time, and nothing overtakes it.
	w.forgetAllBut(open)
	var due []hook.Delivery
	for _, d := range open {
		if w.dueIn(d) > 0 {
			break
		}
		due = append(due, d)
	}
	if len(due) == 0 {
		w.wait(ctx, w.dueIn(open[0]))
		return
	}
	if wait := w.rateWait(t); wait > 0 {
		w.wait(ctx, wait)
		return
	}
	due = due[:min(len(due), w.rateRoom(t))]
	w.deliver(ctx, t, due)
}

// dueIn is how long until d may be sent, on the monotonic clock: its stored retry time is read
// once, no later than what was asked when it was recorded (next_at − updated_at), and kept.
func (w *worker) dueIn(d hook.Delivery) time.Duration {
	t, ok := w.due[d.ID]
	if !ok || !t.next.Equal(d.NextAt) {
		t = dueTime{next: d.NextAt, at: clock.Due(w.e.clock, d.NextAt, max(d.NextAt.Sub(d.UpdatedAt), 0))}
		w.due[d.ID] = t
	}
	return clock.Left(w.e.clock, t.at)
}

// forgetAllBut keeps the retry times of the open deliveries only.
func (w *worker) forgetAllBut(open []hook.Delivery) {
	if len(w.due) <= len(open) {
		return
	}
	keep := make(map[int64]dueTime, len(open))
	for _, d := range open {
		if at, ok := w.due[d.ID]; ok {
			keep[d.ID] = at
		}
	}
	w.due = keep
}

// pauseLeft is how long the open breaker still holds the target, on the monotonic clock: a
// stored PausedUntil is read once, no later than BreakerCooldown from then.
func (w *worker) pauseLeft() time.Duration {
	w.mu.Lock()
	defer w.mu.Unlock()
	if !w.pausedSeen {
		w.pausedDue, w.pausedSeen = clock.Due(w.e.clock, w.target.PausedUntil, hook.BreakerCooldown), true
	}
	return clock.Left(w.e.clock, w.pausedDue)
}

// rateWait is how long to wait before another send keeps to the target's rate per minute.
func (w *worker) rateWait(t hook.Target) time.Duration {
	if t.RateLimitPerMinute == 0 {
		return 0
	}
	w.rate.refill(t.RateLimitPerMinute, w.e.clock.Monotonic())
	return w.rate.wait()
}

// noteSent counts a send against the target's rate limit, when it has one.
func (w *worker) noteSent(t hook.Target) {
	if t.RateLimitPerMinute > 0 {
		w.rate.take()
	}
}

// rateRoom is how many may be sent now.
func (w *worker) rateRoom(t hook.Target) int {
	if t.RateLimitPerMinute == 0 {
		return batch
	}
	return max(1, w.rate.room())
}

// batch is how many due deliveries a worker takes at once: sent in order, their outcomes
// recorded in one transaction.
const batch = 64

// recordTimeout bounds the recording of outcomes once the worker is stopping.
const recordTimeout = 2 * time.Second

// deliver makes one attempt of due deliveries read from the queue, with their events read at once.
func (w *worker) deliver(ctx context.Context, t hook.Target, due []hook.Delivery) {
	ids := make([]int64, len(due))
	for i, d := range due {
		ids[i] = d.EventID
	}
	events, err := w.e.opts.Store.EventsByID(ctx, ids)
	if err != nil {
		if ctx.Err() == nil {
			w.e.opts.Log.Error("read events to deliver", "target", t.ID, "err", err)
			w.wait(ctx, 5*time.Second)
		}
		return
	}
	w.send(ctx, t, due, batchOf{events: events, secrets: w.e.memoFor(t.ID)})
}

// send makes one attempt of due deliveries and reports whether every one went through and was
// recorded. One at a time (Parallel 1), it goes in order, stops at the first failure (which then
// holds the queue) and records the outcomes together; with Parallel > 1, that many are in flight
// at once, order is not kept, and each outcome is recorded as it comes, so the breaker stops the
// batch at its threshold. Stopping records what succeeded, so that no success is sent again;
// what was cut off is made again at the next start.
func (w *worker) send(ctx context.Context, t hook.Target, due []hook.Delivery, b batchOf) bool {
	if t.Parallel > 1 {
		return w.deliverParallel(ctx, t, due, b)
	}
	var done []hook.Delivery
	var outcomes []Outcome
	for _, d := range due {
		w.noteSent(t)
		o := w.attempt(ctx, t, d, b)
		if ctx.Err() != nil && !o.OK() {
			break // stopping: this attempt was cut off and is made again at next start
		}
		done, outcomes = append(done, d), append(outcomes, o)
		if !o.OK() || ctx.Err() != nil {
			break
		}
	}
	return w.record(ctx, done, outcomes) && len(done) == len(due) && allOK(outcomes)
}

func allOK(os []Outcome) bool {
	for _, o := range os {
		if !o.OK() {
			return false
		}
	}
	return true
}

// deliverParallel keeps up to t.Parallel attempts in flight and records each outcome as it comes.
// It launches no more once the breaker opens or the worker stops; it reports whether every one
// went through and was recorded.
func (w *worker) deliverParallel(ctx context.Context, t hook.Target, due []hook.Delivery, b batchOf) bool {
	type result struct {
		d hook.Delivery
		o Outcome
	}
	results := make(chan result, len(due))
	next, inFlight, ok := 0, 0, true
	for next < len(due) || inFlight > 0 {
		if next < len(due) && inFlight < t.Parallel && ctx.Err() == nil && !w.breakerOpen() {
			d := due[next]
			next++
			inFlight++
			w.noteSent(t)
			go func() { results <- result{d, w.attempt(ctx, t, d, b)} }()
			continue
		}
		if inFlight == 0 {
			return false // nothing more may be launched now
		}
		// Record every outcome that has come, in one transaction.
		var ds []hook.Delivery
		var outs []Outcome
		for r := range drain(results, &inFlight) {
			ok = ok && r.o.OK()
			if ctx.Err() != nil && !r.o.OK() {
				continue // cut off by the stop: made again at next start
			}
			ds, outs = append(ds, r.d), append(outs, r.o)
		}
		ok = w.record(ctx, ds, outs) && ok
	}
	return ok
}

// drain yields one value from ch, waiting for it, then every other value already there,
// counting them off *n.
func drain[T any](ch chan T, n *int) func(func(T) bool) {
	return func(yield func(T) bool) {
		v := <-ch
		*n--
		if !yield(v) {
			return
		}
		for *n > 0 {
			select {
			case v := <-ch:
				*n--
				if !yield(v) {
					return
				}
			default:
				return
			}
		}
	}
}

// breakerOpen reports whether the target's breaker has opened since the batch began.
func (w *worker) breakerOpen() bool {
	t := w.get()
	return t.State != hook.TargetActive || !t.Enabled
}

// batchOf is what a batch's attempts share: its events, read at once, and the target's secrets,
// opened once.
type batchOf struct {
	events  map[int64]hook.Event
	secrets *secretMemo
}

// attempt sends one delivery of the batch.
func (w *worker) attempt(ctx context.Context, t hook.Target, d hook.Delivery, b batchOf) Outcome {
	ev, ok := b.events[d.EventID]
	if !ok {
		return Outcome{Err: errors.New("the event was deleted before it could be delivered"), Final: true}
	}
	ev = d.Edit.Apply(ev)
	if err := applyRules(w.e.opts.Rules, t, &ev, w.e.opts.EndpointName(ev.EndpointID)); err != nil {
		return ruleFailed(err)
	}
	req := Request{Target: t, Event: ev, Delivery: d, Attempt: d.Attempt + 1, Now: w.e.clock.Now(), secrets: b.secrets}
	if t.Kind == hook.TargetHomeAssistant {
		return w.e.sendHomeAssistant(ctx, req) // the timeout is per hop of its chain
	}
	ctx, cancel := context.WithTimeout(ctx, t.Timeout)
	defer cancel()
	switch t.Kind {
	case hook.TargetHTTP:
		return w.e.sendHTTP(ctx, req)
	case hook.TargetCommand:
		return w.e.runCommand(ctx, req)
	case hook.TargetMQTT:
		return w.e.sendMQTT(ctx, req)
	}
	return Outcome{Err: fmt.Errorf("unknown target kind %q", t.Kind), Final: true}
}

// record applies outcomes in order: success, a retry on the schedule (or after Retry-After), a
// dead letter after the last attempt, 410 Gone; and the breaker. The deliveries and the target's
// health are saved in one transaction, which a stop does not cut short: a success recorded is one
// that is never sent again.
func (w *worker) record(ctx context.Context, ds []hook.Delivery, outcomes []Outcome) bool {
	if len(ds) == 0 {
		return true
	}
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), recordTimeout)
	defer cancel()
	now := w.e.clock.Now()
	w.mu.Lock()
	t := w.target
	gone := false
	for i := range ds {
		d, o := &ds[i], outcomes[i]
		d.Attempt++
		d.ResponseStatus, d.Latency, d.URL, d.Response, d.Error, d.Route = o.Status, o.Latency, o.URL, o.Response, "", o.Route
		delete(w.due, d.ID)
		if o.OK() {
			d.Status, d.NextAt = hook.DeliverySuccess, time.Time{}
			t.ConsecutiveFailures, t.LastError = 0, ""
			if t.State == hook.TargetPaused {
				t.State, t.StateReason, t.PausedUntil = hook.TargetActive, "", time.Time{}
			}
			continue
		}
		d.Error = o.describe()
		if o.Rule { // the event's failure, not the target's: its health stays as it is
			d.Status, d.NextAt = hook.DeliveryFailed, time.Time{}
			continue
		}
		t.ConsecutiveFailures++
		t.LastError = d.Error
		switch {
		case o.Status == http.StatusGone:
			d.Status, d.NextAt = hook.DeliveryFailed, time.Time{}
			t.Enabled, t.State, gone = false, hook.TargetDisabled, true
			t.StateReason = "the target answered 410 Gone: it no longer accepts these webhooks (a deleted Home Assistant integration must be registered again)"
		case o.Final:
			d.Status, d.NextAt = hook.DeliveryFailed, time.Time{}
		case d.Attempt >= t.MaxRetries+1:
			d.Status, d.NextAt = hook.DeliveryDeadLetter, time.Time{}
		default:
			wait := t.Delay(d.Attempt)
			if o.RetryAfter > wait {
				wait = min(o.RetryAfter, w.e.opts.MaxRetryAfter)
			}
			d.Status, d.NextAt = hook.DeliveryRetrying, now.Add(wait)
			w.due[d.ID] = dueTime{next: d.NextAt, at: w.e.clock.Monotonic() + wait}
		}
		if t.State != hook.TargetDisabled && t.ConsecutiveFailures >= hook.BreakerThreshold {
			t.State, t.PausedUntil = hook.TargetPaused, now.Add(hook.BreakerCooldown)
			w.pausedDue, w.pausedSeen = w.e.clock.Monotonic()+hook.BreakerCooldown, true
			t.StateReason = fmt.Sprintf("%d deliveries in a row failed (last: %s); the next one is let through at %s",
				t.ConsecutiveFailures, d.Error, t.PausedUntil.Local().Format("15:04:05"))
		}
	}
	w.target.State, w.target.StateReason, w.target.ConsecutiveFailures = t.State, t.StateReason, t.ConsecutiveFailures
	w.target.LastError, w.target.PausedUntil, w.target.Enabled = t.LastError, t.PausedUntil, t.Enabled
	w.mu.Unlock()
	err := w.e.opts.Store.RecordAttempts(ctx, ds, t.ID, healthOf(t), now)
	if err != nil {
		// The attempts are made again (same delivery ids): at least once, never lost.
		w.e.opts.Log.Error("record deliveries", "target", t.ID, "err", err)
	} else {
		for _, d := range ds {
			w.sent.add(keyOf(d))
		}
	}
	if gone && w.e.opts.OnGone != nil {
		w.e.opts.OnGone(t)
	}
	w.e.changed(t.ID)
	return err == nil
}
