package deliver

import (
	"context"
	"slices"
	"strings"
	"time"

	"github.com/hooktray/hooktray/app/useragent"
	"github.com/hooktray/hooktray/hook"
)

// CreateTarget adds a forwarding target to an endpoint. Invalid settings give *hook.FieldError.
func (s *Service) CreateTarget(ctx context.Context, endpointID string, c hook.TargetChange) (hook.Target, error) {
	ep, err := s.opts.Endpoints.Get(endpointID)
	if err != nil {
		return hook.Target{}, err
	}
	kind := hook.TargetHTTP
	if c.Kind != nil {
		kind = *c.Kind
	}
	t := hook.NewTarget(endpointID, kind)
	if ha := c.HomeAssistant; ha != nil && ha.Register {
		if err := ha.CheckRegistration(false); err != nil {
			return hook.Target{}, err
		}
		if c, err = s.registerHomeAssistant(ctx, t.ID, ep.Name, c, *ha.AccessToken); err != nil {
			return hook.Target{}, err
		}
	}
	if err := s.checkChange(&t, c); err != nil {
		return hook.Target{}, err
	}
	if err := s.opts.Store.CreateTarget(ctx, &t); err != nil {
		s.opts.Health.NoteStorage(err)
		return hook.Target{}, err
	}
	if err := s.storeSecrets(ctx, t.ID, c); err != nil {
		return hook.Target{}, err
	}
	s.put(t)
	s.opts.Log.Info("forwarding target added", "target", t.ID, "endpoint", endpointID, "kind", t.Kind)
	return t, nil
}

// UpdateTarget changes a target's settings; its deliveries keep their place in the queue.
func (s *Service) UpdateTarget(ctx context.Context, id string, c hook.TargetChange) (hook.Target, error) {
	t, err := s.Target(id)
	if err != nil {
		return hook.Target{}, err
	}
	if c.Kind != nil && *c.Kind != t.Kind {
		return hook.Target{}, &hook.FieldError{Field: "kind", Message: "a target's kind cannot change; add another target"}
	}
	if ha := c.HomeAssistant; ha != nil && ha.Register {
		if c, err = s.registerAgain(ctx, t, c); err != nil {
			return hook.Target{}, err
		}
	}
	if err := s.checkChange(&t, c); err != nil {
		return hook.Target{}, err
	}
	if err := s.opts.Store.UpdateTarget(ctx, &t); err != nil {
		s.opts.Health.NoteStorage(err)
		return hook.Target{}, err
	}
	if err := s.storeSecrets(ctx, id, c); err != nil {
		return hook.Target{}, err
	}
	s.put(t)
	return s.Target(id)
}

// registerAgain registers an edited Home Assistant target with the access token (or instance
// URL) the edit gives, or the one kept from its registration.
func (s *Service) registerAgain(ctx context.Context, t hook.Target, c hook.TargetChange) (hook.TargetChange, error) {
	ha := c.HomeAssistant
	token, _ := s.targetSecret(ctx, t.ID, SecretHomeAssistantToken)
	if err := ha.CheckRegistration(token != ""); err != nil {
		return c, err
	}
	if ha.AccessToken != nil && *ha.AccessToken != "" {
		token = *ha.AccessToken
	}
	ep, err := s.opts.Endpoints.Get(t.EndpointID)
	if err != nil {
		return c, err
	}
	return s.registerHomeAssistant(ctx, t.ID, ep.Name, c, token)
}

// DeleteTarget removes a target; its open deliveries end as failed.
func (s *Service) DeleteTarget(ctx context.Context, id string) error {
	t, err := s.Target(id)
	if err != nil {
		return err
	}
	if err := s.opts.Store.DeleteTarget(ctx, id, s.opts.Clock.Now()); err != nil {
		s.opts.Health.NoteStorage(err)
		return err
	}
	s.engine.Remove(id)
	if err := s.engine.Unannounce(ctx, t); err != nil {
		// The broker keeps the entity's config; Home Assistant shows it until it is deleted there.
		s.opts.Log.Warn("the MQTT target's Home Assistant entity could not be removed", "target", id, "err", err)
	}
	s.mu.Lock()
	s.targets[t.EndpointID] = slices.DeleteFunc(s.targets[t.EndpointID], func(x hook.Target) bool { return x.ID == id })
	s.mu.Unlock()
	for _, p := range []string{SecretSign, SecretHomeAssistant, SecretHomeAssistantToken, SecretMQTT} {
		s.secrets.Delete(ctx, secretName(id, p))
	}
	s.opts.Changes.Publish(hook.TargetsChanged)
	return nil
}

// ResumeTarget closes a target's circuit breaker (or re-enables it after 410) at once.
func (s *Service) ResumeTarget(ctx context.Context, id string) (hook.Target, error) {
	if _, err := s.Target(id); err != nil {
		return hook.Target{}, err
	}
	t, err := s.engine.Resume(ctx, id)
	if err != nil {
		return hook.Target{}, err
	}
	s.mu.Lock()
	for i, x := range s.targets[t.EndpointID] {
		if x.ID == id {
			s.targets[t.EndpointID][i].Enabled = true
		}
	}
	s.mu.Unlock()
	return s.Target(id)
}

// ReregisterTarget registers a Home Assistant target again with its instance, with the access
// token kept from its registration (after the registration was deleted and answered 410), makes
// the deliveries that failed meanwhile due again, and resumes it.
func (s *Service) ReregisterTarget(ctx context.Context, id string) (hook.Target, error) {
	t, err := s.Target(id)
	if err != nil {
		return hook.Target{}, err
	}
	if t.Kind != hook.TargetHomeAssistant || t.HomeAssistant == nil || !t.HomeAssistant.Registered {
		return hook.Target{}, &hook.FieldError{Field: "home_assistant.register", Message: "only a Home Assistant target that Hooktray registered itself can register again; edit its webhook id and secret instead"}
	}
	token, err := s.targetSecret(ctx, id, SecretHomeAssistantToken)
	if err != nil || token == "" {
		return hook.Target{}, &hook.FieldError{Field: "home_assistant.access_token", Message: "the access token of the registration cannot be read: edit the target and give it again"}
	}
	ep, err := s.opts.Endpoints.Get(t.EndpointID)
	if err != nil {
		return hook.Target{}, err
	}
	c := hook.TargetChange{HomeAssistant: &hook.HomeAssistantChange{HomeAssistantTarget: *t.HomeAssistant}}
	if c, err = s.registerHomeAssistant(ctx, id, ep.Name, c, token); err != nil {
		return hook.Target{}, err
	}
	if _, err := s.UpdateTarget(ctx, id, c); err != nil {
		return hook.Target{}, err
	}
	// What the deleted registration answered 410 to goes now, in its order.
	if _, err := s.opts.Store.RetryDeliveries(ctx, id, hook.DeliveryFailed, s.opts.Clock.Now()); err != nil {
		return hook.Target{}, err
	}
	return s.ResumeTarget(ctx, id)
}

// registerHomeAssistant registers Hooktray with the Home Assistant instance of c as a mobile_app
// device for target id, and returns c with what the registration gave: the webhook id, the cloud
// URLs, encryption with the secret, and the token kept to register again.
func (s *Service) registerHomeAssistant(ctx context.Context, id, endpointName string, c hook.TargetChange, token string) (hook.TargetChange, error) {
	ha := *c.HomeAssistant
	client := useragent.Client(s.opts.Version, 15*time.Second)
	reg, err := RegisterHomeAssistant(ctx, client, ha.InstanceURL, strings.TrimSpace(token), HomeAssistantDevice{
		DeviceID: id, DeviceName: "Hooktray (" + endpointName + ")", AppVersion: s.opts.Version})
	if err != nil {
		return c, &hook.FieldError{Field: "home_assistant.instance_url", Message: err.Error()}
	}
	ha.WebhookID, ha.CloudhookURL, ha.RemoteUIURL = reg.WebhookID, reg.CloudhookURL, reg.RemoteUIURL
	ha.Encrypt, ha.Registered, ha.Secret, ha.AccessToken = true, true, &reg.Secret, &token
	c.HomeAssistant = &ha
	s.opts.Log.Info("registered with Home Assistant as a mobile_app device", "target", id, "instance", ha.InstanceURL,
		"cloudhook", reg.CloudhookURL != "", "remote_ui", reg.RemoteUIURL != "")
	return c, nil
}

// checkChange applies c to t and checks what cannot be checked without the secrets.
func (s *Service) checkChange(t *hook.Target, c hook.TargetChange) error {
	if err := checkChange(t, c); err != nil {
		return err
	}
	return checkRules(s.opts.Rules, t)
}

func checkChange(t *hook.Target, c hook.TargetChange) error {
	had := t.SignScheme
	if err := c.Apply(t); err != nil {
		return err
	}
	if err := checkSigning(t, had, c); err != nil {
		return err
	}
	if t.Kind == hook.TargetHomeAssistant && t.HomeAssistant.Encrypt {
		given := c.HomeAssistant != nil && c.HomeAssistant.Secret != nil && *c.HomeAssistant.Secret != ""
		if !given && t.CreatedAt.IsZero() {
			return &hook.FieldError{Field: "home_assistant.secret", Message: "encryption needs the registration's secret"}
		}
	}
	return nil
}

func secretName(id, purpose string) string { return "target:" + id + ":" + purpose }

// storeSecrets seals the secrets a change gives (write-only; never returned).
func (s *Service) storeSecrets(ctx context.Context, id string, c hook.TargetChange) error {
	put := func(purpose string, secret *string) error {
		if secret == nil || *secret == "" {
			return nil
		}
		err := s.secrets.Put(ctx, secretName(id, purpose), *secret)
		s.opts.Health.NoteStorage(err)
		return err
	}
	if c.Sign != nil {
		if err := put(SecretSign, c.Sign.Secret); err != nil {
			return err
		}
	}
	if c.MQTT != nil {
		if err := put(SecretMQTT, c.MQTT.Password); err != nil {
			return err
		}
	}
	if c.HomeAssistant != nil {
		if err := put(SecretHomeAssistant, c.HomeAssistant.Secret); err != nil {
			return err
		}
		return put(SecretHomeAssistantToken, c.HomeAssistant.AccessToken)
	}
	return nil
}

// targetSecret opens a target's sealed secret for the delivery engine ("" when none is set).
func (s *Service) targetSecret(ctx context.Context, id, purpose string) (string, error) {
	v, _, err := s.secrets.Get(ctx, secretName(id, purpose))
	return v, err
}
