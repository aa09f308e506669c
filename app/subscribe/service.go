package subscribe

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"net/http"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/hooktray/hooktray/app/live"
	"github.com/hooktray/hooktray/app/secrets"
	"github.com/hooktray/hooktray/app/useragent"
	"github.com/hooktray/hooktray/app/verify"
	"github.com/hooktray/hooktray/clock"
	"github.com/hooktray/hooktray/hook"
)

// Store keeps subscriptions and their sealed settings: *storage.Store.
type Store interface {
	secrets.NamedStore
	Subscriptions(ctx context.Context) ([]hook.Subscription, error)
	CreateSubscription(ctx context.Context, sub *hook.Subscription) error
	UpdateSubscription(ctx context.Context, sub *hook.Subscription) error
	DeleteSubscription(ctx context.Context, id string) error
}

// Endpoints is what subscriptions need of the endpoints: that one exists, its name, and its
// public URL.
type Endpoints interface {
	Get(id string) (hook.Endpoint, error)
	Name(id string) string
	PublicURL(id string) string
}

// EndpointSecrets keeps a secret a provider returned (or Hooktray made for it) as an endpoint's
// verification secret (endpoints.Service.KeepProviderSecret).
type EndpointSecrets interface {
	KeepProviderSecret(ctx context.Context, endpointID, secret string, scheme hook.Scheme, header string) error
}

// Recorded is where a provider's test delivery is found once stored: the history.
type Recorded interface {
	Follow(size int) *live.Subscription[hook.Event]
	Event(ctx context.Context, id int64) (hook.Event, error)
}

// Reporter hears storage errors.
type Reporter interface{ NoteStorage(err error) }

// Options configure the Service; Clock, Log, Client, CheckEvery and Version may be left out.
type Options struct {
	Store     Store
	Box       *secrets.Box
	Endpoints Endpoints
	Secrets   EndpointSecrets
	Recorded  Recorded
	// PublicURL is the public base URL; every subscription follows it when it changes.
	PublicURL func() string
	Clock     clock.Clock
	Log       *slog.Logger
	Health    Reporter
	Changes   *live.Feed[hook.Change] // SubscriptionsChanged is published there; TunnelChanged is heard
	// Client talks to providers' APIs (default: Hooktray's User-Agent and DefaultTimeout).
	Client     *http.Client
	CheckEvery time.Duration // how often registrations are read back (default DefaultCheckEvery)
	Version    string
}

// Service keeps subscriptions: endpoints' public URLs registered at providers, kept registered
// by the Manager's workers.
type Service struct {
	opts    Options
	secrets secrets.Named
	m       *Manager

	cancel     context.CancelFunc
	background sync.WaitGroup
}

// New returns the service; Start loads the subscriptions and starts keeping them registered.
func New(opts Options) *Service {
	opts.Clock = clock.Or(opts.Clock)
	if opts.Log == nil {
		opts.Log = slog.Default()
	}
	if opts.Client == nil {
		opts.Client = useragent.Client(opts.Version, DefaultTimeout)
	}
	s := &Service{opts: opts, secrets: secrets.Named{Box: opts.Box, Store: opts.Store}}
	s.m = NewManager(ManagerOptions{
		Clock:        opts.Clock,
		Log:          opts.Log,
		Open:         s.open,
		PublicURL:    opts.Endpoints.PublicURL,
		EndpointName: opts.Endpoints.Name,
		Save: func(ctx context.Context, sub hook.Subscription) error {
			err := opts.Store.UpdateSubscription(ctx, &sub)
			opts.Health.NoteStorage(err)
			opts.Changes.Publish(hook.SubscriptionsChanged)
			return err
		},
		Secret: func(ctx context.Context, sub hook.Subscription, res Result) error {
			return opts.Secrets.KeepProviderSecret(ctx, sub.EndpointID, res.Secret, hook.Scheme(res.Scheme), res.Header)
		},
		NewSecret:  func(scheme string) string { return verify.NewSecret(hook.Scheme(scheme)) },
		CheckEvery: opts.CheckEvery,
		Client:     opts.Client,
	})
	return s
}

// Start loads the subscriptions, starts their workers, and follows the public URL.
func (s *Service) Start(ctx context.Context) error {
	all, err := s.opts.Store.Subscriptions(ctx)
	if err != nil {
		return err
	}
	for _, sub := range all {
		s.m.Set(sub)
	}
	changes := s.opts.Changes.Follow(16) // before Start returns: no change is missed
	var loop context.Context
	loop, s.cancel = context.WithCancel(context.Background())
	s.background.Add(1)
	go s.followPublicURL(loop, changes)
	return nil
}

// Stop ends the workers and the URL follower.
func (s *Service) Stop() {
	s.m.Stop()
	if s.cancel != nil {
		s.cancel()
	}
	s.background.Wait()
}

// followPublicURL brings every subscription to the new public URL when it changes.
func (s *Service) followPublicURL(ctx context.Context, changes *live.Subscription[hook.Change]) {
	defer s.background.Done()
	defer changes.Close()
	last := s.opts.PublicURL()
	for {
		m, err := changes.Next(ctx)
		if err != nil {
			return
		}
		if m.Event != hook.TunnelChanged {
			continue
		}
		if now := s.opts.PublicURL(); now != last {
			last = now
			s.m.Refresh()
		}
	}
}

func secretName(id, key string) string { return "subscription:" + id + ":" + key }

// open is a subscription's settings with its sealed secrets opened.
func (s *Service) open(ctx context.Context, sub hook.Subscription) (Settings, error) {
	p, ok := s.m.Provider(sub.Provider)
	if !ok {
		return nil, fmt.Errorf("unknown provider %q", sub.Provider)
	}
	out := Settings{}
	for k, v := range sub.Settings {
		out[k] = v
	}
	for _, f := range p.Fields() {
		if !f.Secret {
			continue
		}
		v, found, err := s.secrets.Get(ctx, secretName(sub.ID, f.Key))
		switch {
		case !found && err != nil:
			return nil, err
		case err != nil:
			return nil, fmt.Errorf("the stored %s cannot be read (the master key that sealed it is missing): enter it again", f.Label)
		case found:
			out[f.Key] = v
		}
	}
	return out, nil
}

// List lists subscriptions, of one endpoint when endpointID is set, oldest first. They are kept
// in memory: this never waits on the database.
func (s *Service) List(endpointID string) []hook.Subscription {
	var out []hook.Subscription
	for _, sub := range s.m.All() {
		if endpointID == "" || sub.EndpointID == endpointID {
			out = append(out, sub)
		}
	}
	return out
}

// Get returns one subscription.
func (s *Service) Get(id string) (hook.Subscription, error) {
	if sub, ok := s.m.Get(id); ok {
		return sub, nil
	}
	return hook.Subscription{}, fmt.Errorf("subscription %s: %w", id, hook.ErrNotFound)
}

// Fields describes a provider's settings, for forms, and its default API address.
func (s *Service) Fields(provider string) ([]Field, string, error) {
	p, ok := s.m.Provider(provider)
	if !ok {
		return nil, "", unknownProvider(provider)
	}
	return p.Fields(), p.DefaultBaseURL(), nil
}

// providerTitles name the providers as people know them.
var providerTitles = map[string]string{
	"device-platform-v2": "Device platform (v2)", "diagral": "Diagral", "homecast": "Homecast",
	"github": "GitHub", "stripe": "Stripe", "http": "Any REST API (request templates)",
}

// ProviderTitle is a provider's name as people know it ("GitHub" for github).
func ProviderTitle(name string) string {
	if t, ok := providerTitles[name]; ok {
		return t
	}
	return name
}

// ProviderNames lists the providers, sorted.
func ProviderNames() []string {
	var names []string
	for n := range Providers() {
		names = append(names, n)
	}
	slices.Sort(names)
	return names
}

func unknownProvider(name string) error {
	return &hook.FieldError{Field: "provider", Message: fmt.Sprintf("unknown provider %q (want %s)", name, strings.Join(ProviderNames(), ", "))}
}

// secretKeys are the keys of a provider's secret settings.
func (s *Service) secretKeys(provider string) []string {
	p, ok := s.m.Provider(provider)
	if !ok {
		return nil
	}
	var keys []string
	for _, f := range p.Fields() {
		if f.Secret {
			keys = append(keys, f.Key)
		}
	}
	return keys
}

// forget removes a subscription's sealed settings.
func (s *Service) forget(ctx context.Context, sub hook.Subscription) {
	for _, k := range s.secretKeys(sub.Provider) {
		s.secrets.Delete(ctx, secretName(sub.ID, k))
	}
}

// SecretsSet names the secret settings of a subscription that are stored.
func (s *Service) SecretsSet(ctx context.Context, sub hook.Subscription) []string {
	var out []string
	for _, k := range s.secretKeys(sub.Provider) {
		if s.secrets.Has(ctx, secretName(sub.ID, k)) {
			out = append(out, k)
		}
	}
	return out
}

// apply merges a change into sub's settings, seals the secret ones, and checks them.
func (s *Service) apply(ctx context.Context, sub *hook.Subscription, c hook.SubscriptionChange) error {
	p, ok := s.m.Provider(sub.Provider)
	if !ok {
		return unknownProvider(sub.Provider)
	}
	if c.Enabled != nil {
		sub.Enabled = *c.Enabled
	}
	norm, err := s.merged(ctx, p, *sub, c)
	if err != nil {
		return err
	}
	secret := map[string]bool{}
	for _, f := range p.Fields() {
		secret[f.Key] = f.Secret
	}
	plain := map[string]any{}
	for k, v := range norm {
		if !secret[k] {
			plain[k] = v
			continue
		}
		value, _ := v.(string)
		if err := s.secrets.Put(ctx, secretName(sub.ID, k), value); err != nil {
			s.opts.Health.NoteStorage(err)
			return err
		}
	}
	// Round-trip through JSON so the settings look the same as after a restart.
	b, _ := json.Marshal(plain)
	sub.Settings = nil
	return json.Unmarshal(b, &sub.Settings)
}

// merged is sub's settings (its secrets opened) with c's on top, normalized and checked.
func (s *Service) merged(ctx context.Context, p Provider, sub hook.Subscription, c hook.SubscriptionChange) (Settings, error) {
	merged, err := s.open(ctx, sub)
	if err != nil {
		merged = Settings{}
		for k, v := range sub.Settings {
			merged[k] = v
		}
	}
	for k, v := range c.Settings {
		if v == nil {
			delete(merged, k)
			continue
		}
		merged[k] = v
	}
	norm, field, err := Normalize(p, merged)
	if err != nil {
		return nil, &hook.FieldError{Field: "settings." + field, Message: err.Error()}
	}
	if b := norm.String("base_url"); b != "" {
		if err := (&hook.Target{Kind: hook.TargetHTTP, URL: b}).Validate(); err != nil && strings.Contains(err.Error(), "not an absolute") {
			return nil, &hook.FieldError{Field: "settings.base_url", Message: fmt.Sprintf("%q is not an absolute http(s) URL", b)}
		}
	} else if p.DefaultBaseURL() == "" {
		return nil, &hook.FieldError{Field: "settings.base_url", Message: p.Name() + " needs the address of its API (base_url)"}
	}
	return norm, nil
}
