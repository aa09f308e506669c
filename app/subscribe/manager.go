package subscribe

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/hooktray/hooktray/clock"
	"github.com/hooktray/hooktray/hook"
)

// Defaults of the manager.
const (
	DefaultCheckEvery = time.Hour        // read each registration back this often
	DefaultTimeout    = 15 * time.Second // per request to a provider
	firstRetry        = 5 * time.Second  // after a failure, then doubling
	maxRetry          = 30 * time.Minute // the longest wait between tries
)

// ManagerOptions configure a Manager.
type ManagerOptions struct {
	Clock clock.Clock
	// Client talks to providers; nil: a client with DefaultTimeout.
	Client *http.Client
	Log    *slog.Logger
	// Open returns a subscription's settings with its secrets opened.
	Open func(ctx context.Context, sub hook.Subscription) (Settings, error)
	// PublicURL is an endpoint's current public URL, "" when there is none.
	PublicURL func(endpointID string) string
	// EndpointName names an endpoint in logs and provider labels.
	EndpointName func(endpointID string) string
	// Save keeps a subscription's new state.
	Save func(ctx context.Context, sub hook.Subscription) error
	// Secret receives a secret a provider returned (or Hooktray made for it), for the endpoint to
	// verify the provider's webhooks with.
	Secret func(ctx context.Context, sub hook.Subscription, res Result) error
	// NewSecret makes a secret for providers that take one from Hooktray.
	NewSecret  func(scheme string) string
	CheckEvery time.Duration
}

// Manager keeps every subscription registered at the current public URL: one worker each, woken
// at start, on every URL change (Refresh), on demand (Register), and on its periodic check.
type Manager struct {
	opts      ManagerOptions
	clock     clock.Clock
	providers map[string]Provider
	ctx       context.Context
	cancel    context.CancelFunc
	wg        sync.WaitGroup
	mu        sync.Mutex
	workers   map[string]*subWorker
}

// NewManager returns a manager; Set gives it subscriptions, Stop ends it.
func NewManager(opts ManagerOptions) *Manager {
	if opts.Client == nil {
		opts.Client = &http.Client{Timeout: DefaultTimeout}
	}
	if opts.Log == nil {
		opts.Log = slog.Default()
	}
	if opts.CheckEvery <= 0 {
		opts.CheckEvery = DefaultCheckEvery
	}
	ctx, cancel := context.WithCancel(context.Background())
	return &Manager{opts: opts, clock: clock.Or(opts.Clock), providers: Providers(), ctx: ctx, cancel: cancel, workers: map[string]*subWorker{}}
}

// Provider returns a provider by name.
func (m *Manager) Provider(name string) (Provider, bool) {
	p, ok := m.providers[name]
	return p, ok
}

// Set starts or updates a subscription's worker; it tries at once.
func (m *Manager) Set(sub hook.Subscription) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if w, ok := m.workers[sub.ID]; ok {
		w.set(sub, true)
		return
	}
	w := &subWorker{m: m, kick: make(chan struct{}, 1), sub: sub, force: true}
	m.workers[sub.ID] = w
	ctx, cancel := context.WithCancel(m.ctx)
	w.cancel, w.done = cancel, make(chan struct{})
	m.wg.Add(1)
	go func() {
		defer m.wg.Done()
		defer close(w.done)
		w.run(ctx)
	}()
}

// Get returns a subscription as its worker knows it.
func (m *Manager) Get(id string) (hook.Subscription, bool) {
	m.mu.Lock()
	w := m.workers[id]
	m.mu.Unlock()
	if w == nil {
		return hook.Subscription{}, false
	}
	return w.get(), true
}

// All returns every subscription as the workers know them, oldest first.
func (m *Manager) All() []hook.Subscription {
	m.mu.Lock()
	out := make([]hook.Subscription, 0, len(m.workers))
	for _, w := range m.workers {
		out = append(out, w.get())
	}
	m.mu.Unlock()
	slices.SortFunc(out, func(a, b hook.Subscription) int {
		if c := a.CreatedAt.Compare(b.CreatedAt); c != 0 {
			return c
		}
		return strings.Compare(a.ID, b.ID)
	})
	return out
}

// Remove stops a subscription's worker (after Unregister, or when it is deleted).
func (m *Manager) Remove(id string) {
	m.mu.Lock()
	w := m.workers[id]
	delete(m.workers, id)
	m.mu.Unlock()
	if w != nil {
		w.cancel()
		<-w.done
	}
}

// Refresh wakes every worker: the public URL changed.
func (m *Manager) Refresh() {
	m.mu.Lock()
	defer m.mu.Unlock()
	for _, w := range m.workers {
		w.poke(false)
	}
}

// Register brings a subscription to the current URL now, reading the provider's registration back.
func (m *Manager) Register(id string) error {
	m.mu.Lock()
	w := m.workers[id]
	m.mu.Unlock()
	if w == nil {
		return fmt.Errorf("subscription %s: %w", id, hook.ErrNotFound)
	}
	w.poke(true)
	return nil
}

// Unregister removes the registration at the provider and marks the subscription unregistered
// and disabled (register enables it again). It waits for the provider's answer.
func (m *Manager) Unregister(ctx context.Context, id string) (hook.Subscription, error) {
	m.mu.Lock()
	w := m.workers[id]
	m.mu.Unlock()
	if w == nil {
		return hook.Subscription{}, fmt.Errorf("subscription %s: %w", id, hook.ErrNotFound)
	}
	w.busy.Lock() // not while the worker talks to the provider
	defer w.busy.Unlock()
	sub := w.get()
	p := m.providers[sub.Provider]
	if sub.RemoteID != "" || sub.Status == hook.SubscriptionRegistered {
		call, err := m.call(ctx, sub, p)
		if err != nil {
			return sub, err
		}
		if err := p.Delete(ctx, call, Registration{RemoteID: sub.RemoteID, URL: sub.RegisteredURL}); err != nil {
			return sub, fmt.Errorf("unregister at %s: %w", p.Name(), err)
		}
		m.opts.Log.Info("Webhook unregistered for "+m.opts.EndpointName(sub.EndpointID), "provider", sub.Provider, "remote_id", sub.RemoteID)
	}
	sub.Enabled, sub.Status, sub.RemoteID, sub.RegisteredURL, sub.LastError = false, hook.SubscriptionUnregistered, "", "", ""
	sub.LastCheckedAt = m.clock.Now()
	if err := m.opts.Save(ctx, sub); err != nil {
		return sub, err
	}
	w.set(sub, false)
	return sub, nil
}

// Stop ends every worker.
func (m *Manager) Stop() {
	m.cancel()
	m.wg.Wait()
}

func (m *Manager) call(ctx context.Context, sub hook.Subscription, p Provider) (Call, error) {
	settings, err := m.opts.Open(ctx, sub)
	if err != nil {
		return Call{}, err
	}
	base := settings.String("base_url")
	if base == "" {
		base = p.DefaultBaseURL()
	}
	return Call{Client: m.opts.Client, BaseURL: strings.TrimRight(base, "/"), Settings: settings, RemoteID: sub.RemoteID,
		RegisteredAt: sub.RegisteredURL, EndpointName: m.opts.EndpointName(sub.EndpointID), Now: m.clock.Now(),
		NewSecret: func() string { return m.opts.NewSecret(p.Name()) }}, nil
}

// subWorker keeps one subscription registered.
type subWorker struct {
	m        *Manager
	kick     chan struct{}
	mu       sync.Mutex
	sub      hook.Subscription
	force    bool // read the registration back on the next pass, even if it was checked lately
	failures int
	busy     sync.Mutex // held while talking to the provider
	cancel   context.CancelFunc
	done     chan struct{}
}

func (w *subWorker) get() hook.Subscription {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.sub
}

func (w *subWorker) set(sub hook.Subscription, force bool) {
	w.mu.Lock()
	w.sub, w.force = sub, w.force || force
	w.failures = 0
	w.mu.Unlock()
	w.poke(force)
}

func (w *subWorker) poke(force bool) {
	if force {
		w.mu.Lock()
		w.force = true
		w.mu.Unlock()
	}
	select {
	case w.kick <- struct{}{}:
	default:
	}
}

func (w *subWorker) wait(ctx context.Context, d time.Duration) {
	var fired chan struct{}
	if d >= 0 {
		fired = make(chan struct{})
		t := w.m.clock.AfterFunc(d, func() { close(fired) })
		defer t.Stop()
	}
	select {
	case <-ctx.Done():
	case <-w.kick:
	case <-fired:
	}
}

func (w *subWorker) run(ctx context.Context) {
	for ctx.Err() == nil {
		w.wait(ctx, w.pass(ctx))
	}
}

// pass brings the subscription to the current URL if it needs it, and returns how long to wait
// before the next pass (-1: until woken).
func (w *subWorker) pass(ctx context.Context) time.Duration {
	w.busy.Lock()
	defer w.busy.Unlock()
	m := w.m
	w.mu.Lock()
	sub, force := w.sub, w.force
	w.mu.Unlock()
	p, ok := m.providers[sub.Provider]
	if !ok || !sub.Enabled {
		return -1
	}
	now := m.clock.Now()
	url := m.opts.PublicURL(sub.EndpointID)
	switch {
	case url == "":
		w.save(ctx, sub, hook.SubscriptionPending, "waiting for a public URL: start the tunnel or set an external HTTPS URL", false)
		return -1
	case p.HTTPSOnly() && !strings.HasPrefix(url, "https://"):
		w.save(ctx, sub, hook.SubscriptionPending, fmt.Sprintf("%s accepts only https:// URLs and the public URL is %s: start the tunnel or set an external HTTPS URL", p.Name(), url), false)
		return -1
	}
	due := sub.LastCheckedAt.Add(m.opts.CheckEvery)
	if !force && sub.Status == hook.SubscriptionRegistered && sub.RegisteredURL == url && now.Before(due) {
		return due.Sub(now)
	}
	w.mu.Lock()
	w.force = false
	w.mu.Unlock()
	sub, err := w.sync(ctx, sub, p, url)
	if ctx.Err() != nil {
		return -1
	}
	if err != nil {
		w.failures++
		wait := min(firstRetry<<min(w.failures-1, 20), maxRetry)
		m.opts.Log.Warn("Webhook registration failed for "+m.opts.EndpointName(sub.EndpointID), "provider", p.Name(), "err", err, "retry_in", wait)
		w.save(ctx, sub, hook.SubscriptionFailed, fmt.Sprintf("%v (trying again at %s)", err, m.clock.Now().Add(wait).Local().Format("15:04:05")), true)
		return wait
	}
	w.failures = 0
	return m.opts.CheckEvery
}

// sync reads the registration back and creates or updates it to url.
func (w *subWorker) sync(ctx context.Context, sub hook.Subscription, p Provider, url string) (hook.Subscription, error) {
	m := w.m
	call, err := m.call(ctx, sub, p)
	if err != nil {
		return sub, err
	}
	reg, found, err := p.Find(ctx, call)
	if err != nil {
		return sub, err
	}
	name := m.opts.EndpointName(sub.EndpointID)
	var res Result
	forced := false
	switch {
	case found && reg.URL == url:
		sub.RemoteID = reg.RemoteID
		w.save(ctx, sub, hook.SubscriptionRegistered, "", true)
		return w.get(), nil
	case found:
		res, err = w.forceTo(ctx, call, p, reg, url, name)
		forced = true
	default:
		res, err = p.Create(ctx, call, url)
		if errors.Is(err, ErrExists) {
			// The read said none, the provider says there is one: it exists. Update it.
			reg = Registration{RemoteID: call.RemoteID}
			res, err = w.forceTo(ctx, call, p, reg, url, name)
			forced = true
		}
	}
	if err != nil {
		return sub, err
	}
	if forced {
		sub.Forced = &hook.ForcedUpdate{From: reg.URL, To: url, At: m.clock.Now()}
	}
	if res.Secret != "" && m.opts.Secret != nil {
		if err := m.opts.Secret(ctx, sub, res); err != nil {
			return sub, fmt.Errorf("keep the secret %s returned: %w", p.Name(), err)
		}
	}
	sub.RemoteID, sub.RegisteredURL = res.RemoteID, url
	m.opts.Log.Info(fmt.Sprintf("Webhook successfully registered for %s (%s) on %s", name, res.RemoteID, url), "provider", p.Name())
	w.save(ctx, sub, hook.SubscriptionRegistered, "", true)
	return w.get(), nil
}

// forceTo points a registration that holds another URL (or one the provider would not show) at
// url, warning as seed 000 says the integration does.
func (w *subWorker) forceTo(ctx context.Context, call Call, p Provider, reg Registration, url, name string) (Result, error) {
	was := reg.URL
	if was == "" {
		was = "(not shown by the provider)"
	}
	w.m.opts.Log.Warn("the provider held another URL for "+name+"; forcing it to this one", "provider", p.Name(),
		"remote_id", reg.RemoteID, "was", was, "now", url)
	return p.Update(ctx, call, reg, url)
}

// save records a new status (and the time of a check) when something changed.
func (w *subWorker) save(ctx context.Context, sub hook.Subscription, status hook.SubscriptionStatus, lastErr string, checked bool) {
	w.mu.Lock()
	cur := w.sub
	w.mu.Unlock()
	changed := cur.Status != status || cur.LastError != lastErr || cur.RemoteID != sub.RemoteID || cur.RegisteredURL != sub.RegisteredURL ||
		cur.Forced != sub.Forced
	sub.Status, sub.LastError = status, lastErr
	if checked {
		sub.LastCheckedAt = w.m.clock.Now()
	}
	if !changed && !checked {
		return
	}
	w.mu.Lock()
	// Settings may have changed meanwhile (the user edited it): keep those, take the state. This
	// comes first, so whoever Save tells of the change reads the new state.
	w.sub.Status, w.sub.LastError, w.sub.RemoteID, w.sub.RegisteredURL, w.sub.LastCheckedAt, w.sub.Forced =
		sub.Status, sub.LastError, sub.RemoteID, sub.RegisteredURL, sub.LastCheckedAt, sub.Forced
	sub = w.sub
	w.mu.Unlock()
	if err := w.m.opts.Save(ctx, sub); err != nil && !errors.Is(ctx.Err(), context.Canceled) {
		w.m.opts.Log.Error("save a subscription", "id", sub.ID, "err", err)
	}
}

// Rotate asks the provider of a registered subscription for a new signing secret and hands it to
// Options.Secret; ok is false when the provider does not rotate secrets.
func (m *Manager) Rotate(ctx context.Context, id string) (res Result, ok bool, err error) {
	sub, p, call, err := m.registered(ctx, id)
	if err != nil {
		return Result{}, false, err
	}
	r, can := p.(Rotator)
	if !can {
		return Result{}, false, nil
	}
	if res, err = r.Rotate(ctx, call, Registration{RemoteID: sub.RemoteID, URL: sub.RegisteredURL}); err != nil {
		return Result{}, true, err
	}
	if m.opts.Secret != nil {
		err = m.opts.Secret(ctx, sub, res)
	}
	return res, true, err
}

// Test asks the provider of a registered subscription to send a test delivery; ok is false when
// the provider has no such call.
func (m *Manager) Test(ctx context.Context, id string) (ok bool, err error) {
	sub, p, call, err := m.registered(ctx, id)
	if err != nil {
		return false, err
	}
	t, can := p.(Tester)
	if !can {
		return false, nil
	}
	return true, t.Test(ctx, call, Registration{RemoteID: sub.RemoteID, URL: sub.RegisteredURL})
}

func (m *Manager) registered(ctx context.Context, id string) (hook.Subscription, Provider, Call, error) {
	sub, ok := m.Get(id)
	if !ok {
		return sub, nil, Call{}, fmt.Errorf("subscription %s: %w", id, hook.ErrNotFound)
	}
	if sub.Status != hook.SubscriptionRegistered || sub.RemoteID == "" {
		return sub, nil, Call{}, fmt.Errorf("the subscription is not registered yet (%s)", sub.Status)
	}
	p := m.providers[sub.Provider]
	call, err := m.call(ctx, sub, p)
	return sub, p, call, err
}
