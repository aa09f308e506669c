// Package endpoints is the endpoints service: the in-memory directory the receiver reads on every
// request, their changes (kept in SQLite), their signing secrets, and their activity counts.
package endpoints

import (
	"context"
	"fmt"
	"log/slog"
	"maps"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/hooktray/hooktray/app/keypath"
	"github.com/hooktray/hooktray/app/live"
	"github.com/hooktray/hooktray/app/receiver"
	"github.com/hooktray/hooktray/app/rules"
	"github.com/hooktray/hooktray/app/secrets"
	"github.com/hooktray/hooktray/clock"
	"github.com/hooktray/hooktray/hook"
)

// Store keeps endpoints, their sealed secrets and the event counts activity starts from:
// *storage.Store.
type Store interface {
	AllEndpoints(ctx context.Context) ([]hook.Endpoint, error)
	Endpoint(ctx context.Context, id string) (hook.Endpoint, error)
	CreateEndpoint(ctx context.Context, e *hook.Endpoint) error
	UpdateEndpoint(ctx context.Context, e *hook.Endpoint) error
	DeleteEndpoint(ctx context.Context, id string) error

	AddSecret(ctx context.Context, sec *hook.SealedSecret) error
	ExpireSecrets(ctx context.Context, endpointID, purpose string, at time.Time) error
	Secrets(ctx context.Context, endpointID, purpose string, now time.Time) ([]hook.SealedSecret, error)
	DeleteExpiredSecrets(ctx context.Context, now time.Time) (int64, error)
	ExpiringSecrets(ctx context.Context) (map[int64]time.Time, error)
	DeleteSecrets(ctx context.Context, ids []int64) error

	NewestEventID(ctx context.Context) (int64, error)
	CountByEndpoint(ctx context.Context, upTo int64) (map[string]hook.EndpointStats, error)
	ArrivalsSince(ctx context.Context, t time.Time, upTo int64) ([]hook.Arrival, error)
}

// Providers is what the endpoints need of the subscriptions: an endpoint being deleted is
// unregistered first, and a provider that owns the signing secret rotates it.
type Providers interface {
	UnregisterEndpoint(ctx context.Context, endpointID string)
	RotateAtProvider(ctx context.Context, endpointID string) (secret string, ok bool, err error)
}

// Peers are the services made after this one that it calls: the subscriptions (Providers), and
// for a test webhook the history (Recorded) and the public URL known to work.
type Peers struct {
	Providers Providers
	Recorded  Recorded
	// Reachable is the public base URL when a probe found it leads here, else "".
	Reachable func() string
	// PublicURL is the public base URL ("" when there is none).
	PublicURL func() string
	// Deleted is told of an endpoint deleted, for what is kept of it elsewhere (its shapes).
	Deleted func(id string)
}

// Options configure the service. Store, Box, Changes and Health are required.
type Options struct {
	Store   Store
	Box     *secrets.Box // seals the secrets; the master key is in the keychain or a file
	Clock   clock.Clock
	Log     *slog.Logger
	Changes *live.Feed[hook.Change] // EndpointsChanged is published there
	Version string                  // in the test webhook's User-Agent
	// ReceiverURL is the receiver's local base URL.
	ReceiverURL string
	// Rules compiles the response rules.
	Rules *rules.Env
}

// Service keeps the endpoints. Create it with New, fill it with Start.
type Service struct {
	opts     Options
	peers    Peers
	dir      directory
	activity activity

	ctx        context.Context // ends with Stop: activity counts in the background end with it
	cancel     context.CancelFunc
	background sync.WaitGroup

	// mu serialises changes, so that the directory follows the database; it also guards grace.
	mu sync.Mutex
	// grace is when each secret in a rotation's grace period stops being valid, on the
	// monotonic clock.
	grace map[int64]time.Duration
}

// New returns the service, empty until Load.
func New(opts Options) *Service {
	opts.Clock = clock.Or(opts.Clock)
	if opts.Log == nil {
		opts.Log = slog.Default()
	}
	s := &Service{opts: opts, grace: map[int64]time.Duration{}}
	s.ctx, s.cancel = context.WithCancel(context.Background())
	return s
}

// Connect gives the service its peers, which are made after it (they need it too).
func (s *Service) Connect(p Peers) { s.peers = p }

// Start reads every endpoint into the directory and starts counting their events.
func (s *Service) Start(ctx context.Context) error {
	if err := s.load(ctx); err != nil {
		return err
	}
	s.ReloadActivity()
	return nil
}

// Stop waits for the background counts to end.
func (s *Service) Stop() {
	s.cancel()
	s.background.Wait()
}

// Directory is the endpoint table the receiver reads on every request.
func (s *Service) Directory() receiver.Directory { return &s.dir }

// load reads every endpoint, with its secrets, into the directory.
func (s *Service) load(ctx context.Context) error {
	all, err := s.opts.Store.AllEndpoints(ctx)
	if err != nil {
		return err
	}
	var locked []string
	for _, ep := range all {
		t, err := s.receiverEndpoint(ctx, ep)
		if err != nil {
			return err
		}
		locked = s.dir.put(t)
	}
	s.noteUnreadableSecrets(locked)
	return nil
}

// refresh reads one endpoint, with its secrets, into the directory after it changed. Callers
// hold s.mu.
func (s *Service) refresh(ctx context.Context, id string) error {
	ep, err := s.opts.Store.Endpoint(ctx, id)
	if err != nil {
		return err
	}
	t, err := s.receiverEndpoint(ctx, ep)
	if err != nil {
		return err
	}
	s.noteUnreadableSecrets(s.dir.put(t))
	s.opts.Changes.Publish(hook.EndpointsChanged)
	return nil
}

// receiverEndpoint is an endpoint as the receiver needs it: its key paths parsed and its secrets
// open.
func (s *Service) receiverEndpoint(ctx context.Context, ep hook.Endpoint) (*receiver.Endpoint, error) {
	t := &receiver.Endpoint{Endpoint: ep}
	if kp := ep.Settings.Route.KeyPath; kp != "" {
		if parsed, err := keypath.Parse(kp); err == nil {
			t.KeyPath = &parsed
		}
	}
	if tp := ep.Settings.TypePath; tp != "" {
		if parsed, err := keypath.Parse(tp); err == nil {
			t.TypePath = &parsed
		}
	}
	t.Responses = s.compileResponseRules(ep.Settings.Responses)
	if ep.VerifyScheme != hook.SchemeNone && !ep.Deleted() {
		open, unreadable, err := s.openSecrets(ctx, ep.ID, s.opts.Clock.Now())
		if err != nil {
			return nil, err
		}
		t.Secrets = open
		t.SecretsUnreadable = unreadable > 0 && len(open) == 0
	}
	return t, nil
}

// List returns the endpoints that exist (not deleted), oldest first.
func (s *Service) List() []hook.Endpoint {
	var out []hook.Endpoint
	s.dir.each(func(t *receiver.Endpoint) {
		if !t.Deleted() {
			out = append(out, t.Endpoint)
		}
	})
	slices.SortFunc(out, func(a, b hook.Endpoint) int {
		if c := a.CreatedAt.Compare(b.CreatedAt); c != 0 {
			return c
		}
		return strings.Compare(a.ID, b.ID)
	})
	return out
}

// Inventory is every endpoint, deleted ones included, in no order: what the always-on inbox
// must know to answer as the receiver does (410 for a deleted one).
func (s *Service) Inventory() []hook.Endpoint {
	var out []hook.Endpoint
	s.dir.each(func(t *receiver.Endpoint) { out = append(out, t.Endpoint) })
	return out
}

// Get returns one existing endpoint; hook.ErrNotFound (wrapped) if unknown or deleted.
func (s *Service) Get(id string) (hook.Endpoint, error) {
	t, _ := s.dir.Lookup(id)
	if t == nil {
		return hook.Endpoint{}, fmt.Errorf("endpoint %s: %w", id, hook.ErrNotFound)
	}
	return t.Endpoint, nil
}

// Name is an endpoint's name, or its id when there is none by that id.
func (s *Service) Name(id string) string {
	if ep, err := s.Get(id); err == nil {
		return ep.Name
	}
	return id
}

// Create creates an endpoint from c (Name required). Invalid fields give *hook.FieldError.
func (s *Service) Create(ctx context.Context, c hook.EndpointChange) (hook.Endpoint, error) {
	if c.Name == nil {
		return hook.Endpoint{}, &hook.FieldError{Field: "name", Message: "a name is required"}
	}
	ep := hook.NewEndpoint("")
	if err := s.apply(c, &ep); err != nil {
		return hook.Endpoint{}, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if err := s.opts.Store.CreateEndpoint(ctx, &ep); err != nil {
		return hook.Endpoint{}, err
	}
	if err := s.applySecret(ctx, ep, c.Secret); err != nil {
		return hook.Endpoint{}, err
	}
	if err := s.refresh(ctx, ep.ID); err != nil {
		return hook.Endpoint{}, err
	}
	s.opts.Log.Info("endpoint created", "id", ep.ID, "name", ep.Name)
	return ep, nil
}

// Update applies c to an existing endpoint. Pausing (Enabled=false) takes effect for the next
// request that arrives.
func (s *Service) Update(ctx context.Context, id string, c hook.EndpointChange) (hook.Endpoint, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	ep, err := s.Get(id)
	if err != nil {
		return hook.Endpoint{}, err
	}
	if err := s.apply(c, &ep); err != nil {
		return hook.Endpoint{}, err
	}
	if err := s.opts.Store.UpdateEndpoint(ctx, &ep); err != nil {
		return hook.Endpoint{}, err
	}
	if err := s.applySecret(ctx, ep, c.Secret); err != nil {
		return hook.Endpoint{}, err
	}
	if err := s.refresh(ctx, ep.ID); err != nil {
		return hook.Endpoint{}, err
	}
	return ep, nil
}

// SetEnabled pauses or resumes an endpoint.
func (s *Service) SetEnabled(ctx context.Context, id string, enabled bool) (hook.Endpoint, error) {
	return s.Update(ctx, id, hook.EndpointChange{Enabled: &enabled})
}

// Delete deletes an endpoint: its URL answers 410 from now on; its history stays. Its
// subscriptions are unregistered at their providers first.
func (s *Service) Delete(ctx context.Context, id string) error {
	if _, err := s.Get(id); err != nil {
		return err
	}
	if s.peers.Providers != nil {
		s.peers.Providers.UnregisterEndpoint(ctx, id) // before it goes: providers stop sending to it
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if err := s.opts.Store.DeleteEndpoint(ctx, id); err != nil {
		return err
	}
	s.opts.Log.Info("endpoint deleted", "id", id)
	if s.peers.Deleted != nil {
		s.peers.Deleted(id)
	}
	return s.refresh(ctx, id)
}

// URL is the local receiver URL of an endpoint.
func (s *Service) URL(id string) string { return s.opts.ReceiverURL + receiver.Prefix + id }

// PublicURL is the public URL of an endpoint, or "" when there is no public base URL.
func (s *Service) PublicURL(id string) string {
	if s.peers.PublicURL == nil {
		return ""
	}
	base := s.peers.PublicURL()
	if base == "" {
		return ""
	}
	return strings.TrimRight(base, "/") + receiver.Prefix + id
}

// apply applies c and checks what hook cannot: the key paths and the response rules.
func (s *Service) apply(c hook.EndpointChange, ep *hook.Endpoint) error {
	if err := c.Apply(ep); err != nil {
		return err
	}
	if err := s.checkResponseRules(ep.Settings.Responses); err != nil {
		return err
	}
	if kp := ep.Settings.Route.KeyPath; kp != "" {
		if _, err := keypath.Parse(kp); err != nil {
			return &hook.FieldError{Field: "route.key_path", Message: err.Error()}
		}
	}
	if tp := ep.Settings.TypePath; tp != "" {
		if _, err := keypath.Parse(tp); err != nil {
			return &hook.FieldError{Field: "type_path", Message: err.Error()}
		}
	}
	return nil
}

// directory is the in-memory endpoint table the receiver reads on every request. A change updates
// the one endpoint it is about, so a change costs the same with 10 endpoints or 10,000; lookups
// take no lock.
type directory struct {
	m sync.Map // endpoint id → *receiver.Endpoint

	mu     sync.Mutex
	locked map[string]string // id → name of the endpoints none of whose secrets can be opened
	logged []string          // their names as last logged
}

// Lookup implements receiver.Directory.
func (d *directory) Lookup(id string) (*receiver.Endpoint, bool) {
	v, ok := d.m.Load(id)
	if !ok {
		return nil, false
	}
	ep := v.(*receiver.Endpoint)
	if ep.Deleted() {
		return nil, true
	}
	return ep, false
}

// Routed implements receiver.Directory: the enabled or paused endpoints whose keys include value.
func (d *directory) Routed(value string) []*receiver.Endpoint {
	if value == "" {
		return nil
	}
	var out []*receiver.Endpoint
	d.each(func(t *receiver.Endpoint) {
		if !t.Deleted() && slices.Contains(t.Settings.Keys, value) {
			out = append(out, t)
		}
	})
	return out
}

// put sets one endpoint and reports the names of the endpoints whose secrets cannot be opened.
func (d *directory) put(t *receiver.Endpoint) []string {
	d.m.Store(t.ID, t)
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.locked == nil {
		d.locked = map[string]string{}
	}
	delete(d.locked, t.ID)
	if t.SecretsUnreadable {
		d.locked[t.ID] = t.Name
	}
	return slices.Sorted(maps.Values(d.locked))
}

// each calls f for every endpoint, deleted ones included.
func (d *directory) each(f func(*receiver.Endpoint)) {
	d.m.Range(func(_, v any) bool { f(v.(*receiver.Endpoint)); return true })
}

var _ receiver.Directory = (*directory)(nil)
