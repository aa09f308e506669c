package app

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/hooktray/hooktray/app/subscribe"
	"github.com/hooktray/hooktray/app/useragent"
	"github.com/hooktray/hooktray/app/verify"
	"github.com/hooktray/hooktray/hook"
)

// startSubscriptions loads the subscriptions and starts keeping them registered.
func (h *Hub) startSubscriptions(ctx context.Context) error {
	all, err := h.store.Subscriptions(ctx)
	if err != nil {
		return err
	}
	h.subs = subscribe.New(subscribe.Options{
		Clock: h.opts.Clock,
		Log:   h.log,
		Open:  h.openSubscription,
		PublicURL: func(id string) string {
			return h.PublicEndpointURL(id)
		},
		EndpointName: func(id string) string {
			if ep, err := h.Endpoint(id); err == nil {
				return ep.Name
			}
			return id
		},
		Save: func(ctx context.Context, sub hook.Subscription) error {
			err := h.store.UpdateSubscription(ctx, &sub)
			h.noteStorageError(err)
			h.changes.Publish(hook.SubscriptionsChanged)
			return err
		},
		Secret:     h.keepProviderSecret,
		NewSecret:  func(scheme string) string { return verify.NewSecret(hook.Scheme(scheme)) },
		CheckEvery: h.opts.SubscriptionCheckEvery,
		Client:     h.providerClient(),
	})
	for _, sub := range all {
		h.subs.Set(sub)
	}
	h.background.Add(1)
	go h.followPublicURL()
	return nil
}

// followPublicURL re-registers every subscription when the public URL changes.
func (h *Hub) followPublicURL() {
	defer h.background.Done()
	sub := h.SubscribeChanges()
	defer sub.Close()
	last := h.PublicURL()
	for {
		m, err := sub.Next(h.ctx)
		if err != nil {
			return
		}
		if m.Event != hook.TunnelChanged {
			continue
		}
		if now := h.PublicURL(); now != last {
			last = now
			h.subs.Refresh()
		}
	}
}

func subscriptionSecretName(id, key string) string { return "subscription:" + id + ":" + key }

// openSubscription is a subscription's settings with its sealed secrets opened.
func (h *Hub) openSubscription(ctx context.Context, sub hook.Subscription) (subscribe.Settings, error) {
	p, ok := h.subs.Provider(sub.Provider)
	if !ok {
		return nil, fmt.Errorf("unknown provider %q", sub.Provider)
	}
	out := subscribe.Settings{}
	for k, v := range sub.Settings {
		out[k] = v
	}
	for _, f := range p.Fields() {
		if !f.Secret {
			continue
		}
		name := subscriptionSecretName(sub.ID, f.Key)
		nonce, ct, err := h.store.AppSecret(ctx, name)
		if err != nil {
			return nil, err
		}
		if nonce == nil {
			continue
		}
		v, err := h.box.Unseal(nonce, ct, name)
		if err != nil {
			return nil, fmt.Errorf("the stored %s cannot be read (the master key that sealed it is missing): enter it again", f.Label)
		}
		out[f.Key] = v
	}
	return out, nil
}

// keepProviderSecret makes a secret a provider returned the endpoint's verification secret, the
// previous ones staying valid for RotationGrace.
func (h *Hub) keepProviderSecret(ctx context.Context, sub hook.Subscription, res subscribe.Result) error {
	ep, err := h.Endpoint(sub.EndpointID)
	if err != nil {
		return err
	}
	if err := h.addSecret(ctx, ep.ID, res.Secret, RotationGrace); err != nil {
		return err
	}
	scheme := hook.Scheme(res.Scheme)
	mode := ep.VerifyMode
	if mode == hook.VerifyOff || ep.VerifyScheme != scheme {
		mode = hook.VerifyEnforce
		if scheme == hook.SchemeHMAC {
			mode = hook.VerifyAnnotate // the header is the user's guess: mark, never refuse
		}
	}
	c := hook.VerifyChange{Scheme: &scheme, Mode: &mode}
	if res.Header != "" {
		c.Header = &res.Header
	}
	_, err = h.UpdateEndpoint(ctx, ep.ID, hook.EndpointChange{Verify: &c})
	return err
}

// Subscriptions lists subscriptions, of one endpoint when endpointID is set, oldest first. They
// are kept in memory: this never waits on the database.
func (h *Hub) Subscriptions(_ context.Context, endpointID string) ([]hook.Subscription, error) {
	var out []hook.Subscription
	for _, s := range h.subs.All() {
		if endpointID == "" || s.EndpointID == endpointID {
			out = append(out, s)
		}
	}
	return out, nil
}

// Subscription returns one subscription.
func (h *Hub) Subscription(ctx context.Context, id string) (hook.Subscription, error) {
	if live, ok := h.subs.Get(id); ok {
		return live, nil
	}
	return hook.Subscription{}, fmt.Errorf("subscription %s: %w", id, hook.ErrNotFound)
}

// SubscriptionFields describes a provider's settings, for forms.
func (h *Hub) SubscriptionFields(provider string) ([]subscribe.Field, string, error) {
	p, ok := h.subs.Provider(provider)
	if !ok {
		return nil, "", &hook.FieldError{Field: "provider", Message: fmt.Sprintf("unknown provider %q (want %s)", provider, strings.Join(ProviderNames(), ", "))}
	}
	return p.Fields(), p.DefaultBaseURL(), nil
}

// ProviderNames lists the providers, sorted.
func ProviderNames() []string {
	var names []string
	for n := range subscribe.Providers() {
		names = append(names, n)
	}
	slices.Sort(names)
	return names
}

// applySubscription merges a change into sub's settings, seals the secret ones, and checks them.
func (h *Hub) applySubscription(ctx context.Context, sub *hook.Subscription, c hook.SubscriptionChange) error {
	p, ok := h.subs.Provider(sub.Provider)
	if !ok {
		return &hook.FieldError{Field: "provider", Message: fmt.Sprintf("unknown provider %q (want %s)", sub.Provider, strings.Join(ProviderNames(), ", "))}
	}
	if c.Enabled != nil {
		sub.Enabled = *c.Enabled
	}
	secret := map[string]bool{}
	for _, f := range p.Fields() {
		secret[f.Key] = f.Secret
	}
	merged := subscribe.Settings{}
	for k, v := range sub.Settings {
		merged[k] = v
	}
	opened, err := h.openSubscription(ctx, *sub)
	if err != nil {
		opened = subscribe.Settings{}
	}
	for k := range secret {
		if secret[k] && opened[k] != nil {
			merged[k] = opened[k]
		}
	}
	for k, v := range c.Settings {
		if v == nil {
			delete(merged, k)
			continue
		}
		merged[k] = v
	}
	norm, field, err := subscribe.Normalize(p, merged)
	if err != nil {
		return &hook.FieldError{Field: "settings." + field, Message: err.Error()}
	}
	if b := norm.String("base_url"); b != "" {
		if err := (&hook.Target{Kind: hook.TargetHTTP, URL: b}).Validate(); err != nil && strings.Contains(err.Error(), "not an absolute") {
			return &hook.FieldError{Field: "settings.base_url", Message: fmt.Sprintf("%q is not an absolute http(s) URL", b)}
		}
	} else if p.DefaultBaseURL() == "" {
		return &hook.FieldError{Field: "settings.base_url", Message: p.Name() + " needs the address of its API (base_url)"}
	}
	plain := map[string]any{}
	for k, v := range norm {
		if secret[k] {
			s, _ := v.(string)
			if err := h.sealSubscriptionSecret(ctx, sub.ID, k, s); err != nil {
				return err
			}
			continue
		}
		plain[k] = v
	}
	// Round-trip through JSON so the settings look the same as after a restart.
	b, _ := json.Marshal(plain)
	sub.Settings = nil
	return json.Unmarshal(b, &sub.Settings)
}

func (h *Hub) sealSubscriptionSecret(ctx context.Context, id, key, value string) error {
	name := subscriptionSecretName(id, key)
	if value == "" {
		return h.store.DeleteAppSecret(ctx, name)
	}
	if h.box.Missing() {
		if err := h.box.Create(); err != nil {
			return err
		}
	}
	nonce, ct := h.box.Seal(value, name)
	err := h.store.PutAppSecret(ctx, name, nonce, ct)
	h.noteStorageError(err)
	return err
}

// CreateSubscription registers an endpoint's public URL with a provider (now, or as soon as there
// is a public URL the provider accepts).
func (h *Hub) CreateSubscription(ctx context.Context, c hook.SubscriptionChange) (hook.Subscription, error) {
	if c.EndpointID == nil || *c.EndpointID == "" {
		return hook.Subscription{}, &hook.FieldError{Field: "endpoint_id", Message: "give the endpoint whose URL to register"}
	}
	ep, err := h.Endpoint(*c.EndpointID)
	if err != nil || ep.Deleted() {
		return hook.Subscription{}, &hook.FieldError{Field: "endpoint_id", Message: fmt.Sprintf("no endpoint %q", *c.EndpointID)}
	}
	if c.Provider == nil {
		return hook.Subscription{}, &hook.FieldError{Field: "provider", Message: "give the provider (" + strings.Join(ProviderNames(), ", ") + ")"}
	}
	sub := hook.Subscription{ID: hook.NewEndpointID(), EndpointID: ep.ID, Provider: *c.Provider, Enabled: true,
		Status: hook.SubscriptionPending, Settings: map[string]any{}}
	if err := h.applySubscription(ctx, &sub, c); err != nil {
		for _, k := range secretKeys(h, sub.Provider) {
			h.store.DeleteAppSecret(ctx, subscriptionSecretName(sub.ID, k))
		}
		return hook.Subscription{}, err
	}
	if err := h.store.CreateSubscription(ctx, &sub); err != nil {
		h.noteStorageError(err)
		return hook.Subscription{}, err
	}
	h.subs.Set(sub)
	h.changes.Publish(hook.SubscriptionsChanged)
	return sub, nil
}

func secretKeys(h *Hub, provider string) []string {
	p, ok := h.subs.Provider(provider)
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

// UpdateSubscription changes a subscription's settings and brings it to the current URL again.
func (h *Hub) UpdateSubscription(ctx context.Context, id string, c hook.SubscriptionChange) (hook.Subscription, error) {
	sub, err := h.Subscription(ctx, id)
	if err != nil {
		return sub, err
	}
	if c.Provider != nil && *c.Provider != sub.Provider {
		return sub, &hook.FieldError{Field: "provider", Message: "a subscription's provider cannot change; add another"}
	}
	if c.EndpointID != nil && *c.EndpointID != sub.EndpointID {
		return sub, &hook.FieldError{Field: "endpoint_id", Message: "a subscription's endpoint cannot change; add another"}
	}
	if err := h.applySubscription(ctx, &sub, c); err != nil {
		return sub, err
	}
	if sub.Enabled && sub.Status == hook.SubscriptionUnregistered {
		sub.Status = hook.SubscriptionPending
	}
	if err := h.store.UpdateSubscription(ctx, &sub); err != nil {
		h.noteStorageError(err)
		return sub, err
	}
	h.subs.Set(sub)
	h.changes.Publish(hook.SubscriptionsChanged)
	return sub, nil
}

// RegisterSubscription enables a subscription and brings it to the current URL now, reading the
// provider's registration back (seed 000's register_webhook).
func (h *Hub) RegisterSubscription(ctx context.Context, id string) (hook.Subscription, error) {
	sub, err := h.Subscription(ctx, id)
	if err != nil {
		return sub, err
	}
	if !sub.Enabled {
		on := true
		return h.UpdateSubscription(ctx, id, hook.SubscriptionChange{Enabled: &on})
	}
	return sub, h.subs.Register(id)
}

// UnregisterSubscription removes the registration at the provider and disables the subscription
// (seed 000's unregister_webhook).
func (h *Hub) UnregisterSubscription(ctx context.Context, id string) (hook.Subscription, error) {
	sub, err := h.subs.Unregister(ctx, id)
	h.changes.Publish(hook.SubscriptionsChanged)
	return sub, err
}

// DeleteSubscription unregisters at the provider first, then forgets the subscription and its
// secrets. A provider that cannot be reached stops the deletion, so nothing stays registered
// unknown to Hooktray.
func (h *Hub) DeleteSubscription(ctx context.Context, id string) error {
	sub, err := h.Subscription(ctx, id)
	if err != nil {
		return err
	}
	if _, err := h.subs.Unregister(ctx, id); err != nil {
		return err
	}
	h.subs.Remove(id)
	if err := h.store.DeleteSubscription(ctx, id); err != nil {
		return err
	}
	for _, k := range secretKeys(h, sub.Provider) {
		h.store.DeleteAppSecret(ctx, subscriptionSecretName(id, k))
	}
	h.changes.Publish(hook.SubscriptionsChanged)
	return nil
}

// unregisterEndpoint removes the subscriptions of an endpoint being deleted; failures are logged
// and the subscription stays (failed), so the user sees what may still be registered.
func (h *Hub) unregisterEndpoint(ctx context.Context, endpointID string) {
	subs, err := h.Subscriptions(ctx, endpointID)
	if err != nil {
		return
	}
	for _, s := range subs {
		if err := h.DeleteSubscription(ctx, s.ID); err != nil {
			h.log.Warn("could not unregister a subscription of a deleted endpoint", "subscription", s.ID, "provider", s.Provider, "err", err)
		}
	}
}

// SubscriptionSecretsSet names the secret settings of a subscription that are stored.
func (h *Hub) SubscriptionSecretsSet(ctx context.Context, sub hook.Subscription) []string {
	var out []string
	for _, k := range secretKeys(h, sub.Provider) {
		if nonce, _, err := h.store.AppSecret(ctx, subscriptionSecretName(sub.ID, k)); err == nil && nonce != nil {
			out = append(out, k)
		}
	}
	return out
}

// rotateAtProvider rotates the signing secret at the provider of a registered subscription of the
// endpoint that can (Homecast), keeping the previous one valid for RotationGrace; ok is false when
// none can.
func (h *Hub) rotateAtProvider(ctx context.Context, endpointID string) (secret string, ok bool, err error) {
	subs, _ := h.Subscriptions(ctx, endpointID)
	for _, s := range subs {
		if !s.Enabled || s.Status != hook.SubscriptionRegistered {
			continue
		}
		res, can, err := h.subs.Rotate(ctx, s.ID)
		if !can {
			continue
		}
		if err != nil {
			return "", true, fmt.Errorf("rotate the secret at %s: %w", s.Provider, err)
		}
		h.log.Info("signing secret rotated at the provider", "endpoint", endpointID, "provider", s.Provider)
		return res.Secret, true, nil
	}
	return "", false, nil
}

// TestSubscription asks the provider to send a test delivery (Homecast's testWebhook) and waits
// for it to arrive at the endpoint.
func (h *Hub) TestSubscription(ctx context.Context, id string) (hook.Event, error) {
	sub, err := h.Subscription(ctx, id)
	if err != nil {
		return hook.Event{}, err
	}
	feed := h.Subscribe(64)
	defer feed.Close()
	before, err := h.store.NewestEventID(ctx) // events already stored are not the test's
	if err != nil {
		return hook.Event{}, err
	}
	ok, err := h.subs.Test(ctx, id)
	if err != nil {
		return hook.Event{}, err
	}
	if !ok {
		return hook.Event{}, &hook.FieldError{Field: "provider", Message: sub.Provider + " has no test delivery; send a test event to the endpoint instead"}
	}
	ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	for {
		m, err := feed.Next(ctx)
		if err != nil {
			return hook.Event{}, fmt.Errorf("%s accepted the test, but no delivery arrived within 30 s: is the public URL reachable?", sub.Provider)
		}
		if m.Event.EndpointID == sub.EndpointID && m.Event.ID > before {
			return h.store.Event(ctx, m.Event.ID)
		}
	}
}

// DiagralKeys creates the API key and secret of a Diagral system from the user's account; the
// password is used for that only, never stored.
func (h *Hub) DiagralKeys(ctx context.Context, baseURL, email, password, serial string) (apiKey, secretKey string, err error) {
	return subscribe.DiagralKeys(ctx, h.providerClient(), baseURL, email, password, serial)
}

// providerClient talks to providers' APIs: Options.ProviderClient, else one with Hooktray's
// User-Agent and the manager's timeout.
func (h *Hub) providerClient() *http.Client {
	if h.opts.ProviderClient != nil {
		return h.opts.ProviderClient
	}
	return useragent.Client(h.opts.Version, subscribe.DefaultTimeout)
}
