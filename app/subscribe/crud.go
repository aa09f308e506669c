package subscribe

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/hooktray/hooktray/hook"
)

// Create registers an endpoint's public URL with a provider (now, or as soon as there is a
// public URL the provider accepts).
func (s *Service) Create(ctx context.Context, c hook.SubscriptionChange) (hook.Subscription, error) {
	if c.EndpointID == nil || *c.EndpointID == "" {
		return hook.Subscription{}, &hook.FieldError{Field: "endpoint_id", Message: "give the endpoint whose URL to register"}
	}
	ep, err := s.opts.Endpoints.Get(*c.EndpointID)
	if err != nil {
		return hook.Subscription{}, &hook.FieldError{Field: "endpoint_id", Message: fmt.Sprintf("no endpoint %q", *c.EndpointID)}
	}
	if c.Provider == nil {
		return hook.Subscription{}, &hook.FieldError{Field: "provider", Message: "give the provider (" + strings.Join(ProviderNames(), ", ") + ")"}
	}
	sub := hook.Subscription{ID: hook.NewEndpointID(), EndpointID: ep.ID, Provider: *c.Provider, Enabled: true,
		Status: hook.SubscriptionPending, Settings: map[string]any{}}
	if err := s.apply(ctx, &sub, c); err != nil {
		s.forget(ctx, sub)
		return hook.Subscription{}, err
	}
	if err := s.opts.Store.CreateSubscription(ctx, &sub); err != nil {
		s.opts.Health.NoteStorage(err)
		return hook.Subscription{}, err
	}
	s.m.Set(sub)
	s.opts.Changes.Publish(hook.SubscriptionsChanged)
	return sub, nil
}

// Update changes a subscription's settings and brings it to the current URL again.
func (s *Service) Update(ctx context.Context, id string, c hook.SubscriptionChange) (hook.Subscription, error) {
	sub, err := s.Get(id)
	if err != nil {
		return sub, err
	}
	if c.Provider != nil && *c.Provider != sub.Provider {
		return sub, &hook.FieldError{Field: "provider", Message: "a subscription's provider cannot change; add another"}
	}
	if c.EndpointID != nil && *c.EndpointID != sub.EndpointID {
		return sub, &hook.FieldError{Field: "endpoint_id", Message: "a subscription's endpoint cannot change; add another"}
	}
	if err := s.apply(ctx, &sub, c); err != nil {
		return sub, err
	}
	if sub.Enabled && sub.Status == hook.SubscriptionUnregistered {
		sub.Status = hook.SubscriptionPending
	}
	if err := s.opts.Store.UpdateSubscription(ctx, &sub); err != nil {
		s.opts.Health.NoteStorage(err)
		return sub, err
	}
	s.m.Set(sub)
	s.opts.Changes.Publish(hook.SubscriptionsChanged)
	return sub, nil
}

// Register enables a subscription and brings it to the current URL now, reading the provider's
// registration back (seed 000's register_webhook).
func (s *Service) Register(ctx context.Context, id string) (hook.Subscription, error) {
	sub, err := s.Get(id)
	if err != nil {
		return sub, err
	}
	if !sub.Enabled {
		on := true
		return s.Update(ctx, id, hook.SubscriptionChange{Enabled: &on})
	}
	return sub, s.m.Register(id)
}

// Unregister removes the registration at the provider and disables the subscription (seed 000's
// unregister_webhook).
func (s *Service) Unregister(ctx context.Context, id string) (hook.Subscription, error) {
	sub, err := s.m.Unregister(ctx, id)
	s.opts.Changes.Publish(hook.SubscriptionsChanged)
	return sub, err
}

// Delete unregisters at the provider first, then forgets the subscription and its secrets. A
// provider that cannot be reached stops the deletion, so nothing stays registered unknown to
// Hooktray.
func (s *Service) Delete(ctx context.Context, id string) error {
	sub, err := s.Get(id)
	if err != nil {
		return err
	}
	if _, err := s.m.Unregister(ctx, id); err != nil {
		return err
	}
	s.m.Remove(id)
	if err := s.opts.Store.DeleteSubscription(ctx, id); err != nil {
		return err
	}
	s.forget(ctx, sub)
	s.opts.Changes.Publish(hook.SubscriptionsChanged)
	return nil
}

// UnregisterEndpoint removes the subscriptions of an endpoint being deleted; failures are logged
// and the subscription stays (failed), so the user sees what may still be registered.
func (s *Service) UnregisterEndpoint(ctx context.Context, endpointID string) {
	for _, sub := range s.List(endpointID) {
		if err := s.Delete(ctx, sub.ID); err != nil {
			s.opts.Log.Warn("could not unregister a subscription of a deleted endpoint", "subscription", sub.ID, "provider", sub.Provider, "err", err)
		}
	}
}

// RotateAtProvider rotates the signing secret at the provider of a registered subscription of
// the endpoint that can (Homecast), the previous one staying valid for the endpoints' rotation
// grace; ok is false when none can.
func (s *Service) RotateAtProvider(ctx context.Context, endpointID string) (secret string, ok bool, err error) {
	for _, sub := range s.List(endpointID) {
		if !sub.Enabled || sub.Status != hook.SubscriptionRegistered {
			continue
		}
		res, can, err := s.m.Rotate(ctx, sub.ID)
		if !can {
			continue
		}
		if err != nil {
			return "", true, fmt.Errorf("rotate the secret at %s: %w", sub.Provider, err)
		}
		s.opts.Log.Info("signing secret rotated at the provider", "endpoint", endpointID, "provider", sub.Provider)
		return res.Secret, true, nil
	}
	return "", false, nil
}

// testWait is how long a provider's test delivery may take to arrive.
const testWait = 30 * time.Second

// Test asks the provider to send a test delivery (Homecast's testWebhook) and waits for it to
// arrive at the endpoint.
func (s *Service) Test(ctx context.Context, id string) (hook.Event, error) {
	sub, err := s.Get(id)
	if err != nil {
		return hook.Event{}, err
	}
	stored := s.opts.Recorded.Follow(64) // before asking: only what is stored from now on is looked at
	defer stored.Close()
	ok, err := s.m.Test(ctx, id)
	if err != nil {
		return hook.Event{}, err
	}
	if !ok {
		return hook.Event{}, &hook.FieldError{Field: "provider", Message: sub.Provider + " has no test delivery; send a test event to the endpoint instead"}
	}
	ctx, cancel := context.WithTimeout(ctx, testWait)
	defer cancel()
	for {
		m, err := stored.Next(ctx)
		if err != nil {
			return hook.Event{}, fmt.Errorf("%s accepted the test, but no delivery arrived within 30 s: is the public URL reachable?", sub.Provider)
		}
		if m.Event.EndpointID == sub.EndpointID {
			return s.opts.Recorded.Event(ctx, m.Event.ID)
		}
	}
}

// DiagralKeys creates the API key and secret of a Diagral system from the user's account; the
// password is used for that only, never stored.
func (s *Service) DiagralKeys(ctx context.Context, baseURL, email, password, serial string) (apiKey, secretKey string, err error) {
	return DiagralKeys(ctx, s.opts.Client, baseURL, email, password, serial)
}
