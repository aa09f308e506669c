package app

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/hooktray/hooktray/app/deliver"
	"github.com/hooktray/hooktray/app/useragent"
	"github.com/hooktray/hooktray/app/verify"
	"github.com/hooktray/hooktray/hook"
)

// forwarding keeps the targets' settings in memory for the receiver (which targets an event goes
// to) and runs the delivery engine.
type forwarding struct {
	mu      sync.RWMutex
	targets map[string][]hook.Target // by endpoint id
	engine  *deliver.Engine
	// announcing is set while a change announcement is scheduled: attempts in a burst are told
	// to views once per changeEvery, not once each.
	announcing atomic.Bool
}

// changeEvery is how often, at most, views are told that deliveries changed.
const changeEvery = 250 * time.Millisecond

// announceDeliveries tells views that deliveries and targets' health changed, at most once per
// changeEvery.
func (h *Hub) announceDeliveries() {
	if !h.fwd.announcing.CompareAndSwap(false, true) {
		return
	}
	h.opts.Clock.AfterFunc(changeEvery, func() {
		h.fwd.announcing.Store(false)
		h.changes.Publish(hook.DeliveriesChanged)
		h.changes.Publish(hook.TargetsChanged)
	})
}

// startForwarding loads the targets and starts the delivery engine: deliveries left open by the
// last run resume at their stored time.
func (h *Hub) startForwarding(ctx context.Context) error {
	all, err := h.store.Targets(ctx)
	if err != nil {
		return err
	}
	h.fwd.engine = deliver.New(deliver.Options{
		Store:  h.store,
		Clock:  h.opts.Clock,
		Client: useragent.Client(h.opts.Version, 0),
		Secret: h.targetSecret,
		EndpointName: func(id string) string {
			if ep, err := h.Endpoint(id); err == nil {
				return ep.Name
			}
			return id
		},
		Log:        h.log,
		Supervisor: h.opts.ProgramSupervisor,
		OnChange:   func(string) { h.announceDeliveries() },
		OnGone: func(t hook.Target) {
			h.log.Warn("a forwarding target answered 410 Gone and was disabled", "target", t.ID, "endpoint", t.EndpointID, "url", t.URL)
		},
	})
	h.fwd.targets = map[string][]hook.Target{}
	for _, t := range all {
		h.fwd.targets[t.EndpointID] = append(h.fwd.targets[t.EndpointID], t)
		h.fwd.engine.Set(t)
	}
	return nil
}

// forwardTo lists the targets an event of endpoint and type goes to.
func (h *Hub) forwardTo(endpointID, typ string) []string {
	h.fwd.mu.RLock()
	defer h.fwd.mu.RUnlock()
	var out []string
	for i := range h.fwd.targets[endpointID] {
		t := &h.fwd.targets[endpointID][i]
		if t.Enabled && t.Matches(typ) {
			out = append(out, t.ID)
		}
	}
	return out
}

// kickDeliveries wakes the workers of targets that just got deliveries.
func (h *Hub) kickDeliveries(evs []*hook.Event) {
	for _, ev := range evs {
		if ev.Status != hook.Accepted {
			continue
		}
		for _, id := range ev.Forward {
			h.fwd.engine.Kick(id)
		}
	}
}

// withHealth is t with the health its worker knows now.
func (h *Hub) withHealth(t hook.Target) hook.Target {
	if live, ok := h.fwd.engine.Target(t.ID); ok {
		t.State, t.StateReason, t.ConsecutiveFailures, t.LastError, t.PausedUntil, t.Enabled =
			live.State, live.StateReason, live.ConsecutiveFailures, live.LastError, live.PausedUntil, live.Enabled
	}
	return t
}

// Targets lists an endpoint's targets, oldest first, with their health.
func (h *Hub) Targets(endpointID string) ([]hook.Target, error) {
	if _, err := h.Endpoint(endpointID); err != nil {
		return nil, err
	}
	h.fwd.mu.RLock()
	list := slices.Clone(h.fwd.targets[endpointID])
	h.fwd.mu.RUnlock()
	for i := range list {
		list[i] = h.withHealth(list[i])
	}
	return list, nil
}

// AllTargets lists every target, with its health.
func (h *Hub) AllTargets() []hook.Target {
	h.fwd.mu.RLock()
	var list []hook.Target
	for _, ts := range h.fwd.targets {
		list = append(list, ts...)
	}
	h.fwd.mu.RUnlock()
	slices.SortFunc(list, func(a, b hook.Target) int { return a.CreatedAt.Compare(b.CreatedAt) })
	for i := range list {
		list[i] = h.withHealth(list[i])
	}
	return list
}

// Target returns one target with its health.
func (h *Hub) Target(id string) (hook.Target, error) {
	h.fwd.mu.RLock()
	defer h.fwd.mu.RUnlock()
	for _, ts := range h.fwd.targets {
		for _, t := range ts {
			if t.ID == id {
				return h.withHealth(t), nil
			}
		}
	}
	return hook.Target{}, fmt.Errorf("target %s: %w", id, hook.ErrNotFound)
}

func (h *Hub) putTarget(t hook.Target) {
	h.fwd.mu.Lock()
	list := h.fwd.targets[t.EndpointID]
	i := slices.IndexFunc(list, func(x hook.Target) bool { return x.ID == t.ID })
	if i >= 0 {
		list[i] = t
	} else {
		list = append(list, t)
	}
	h.fwd.targets[t.EndpointID] = list
	h.fwd.mu.Unlock()
	h.fwd.engine.Set(t)
	h.changes.Publish(hook.TargetsChanged)
}

// CreateTarget adds a forwarding target to an endpoint. Invalid settings give *hook.FieldError.
func (h *Hub) CreateTarget(ctx context.Context, endpointID string, c hook.TargetChange) (hook.Target, error) {
	ep, err := h.Endpoint(endpointID)
	if err != nil {
		return hook.Target{}, err
	}
	if ep.Deleted() {
		return hook.Target{}, fmt.Errorf("endpoint %s was deleted: %w", endpointID, hook.ErrNotFound)
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
		if c, err = h.registerHomeAssistant(ctx, t.ID, ep.Name, c, *ha.AccessToken); err != nil {
			return hook.Target{}, err
		}
	}
	if err := h.checkTargetChange(&t, c); err != nil {
		return hook.Target{}, err
	}
	if err := h.store.CreateTarget(ctx, &t); err != nil {
		h.noteStorageError(err)
		return hook.Target{}, err
	}
	if err := h.storeTargetSecrets(ctx, t.ID, c); err != nil {
		return hook.Target{}, err
	}
	h.putTarget(t)
	h.log.Info("forwarding target added", "target", t.ID, "endpoint", endpointID, "kind", t.Kind)
	return t, nil
}

// registerHomeAssistant registers Hooktray with the Home Assistant instance of c as a mobile_app
// device for target id, and returns c with what the registration gave: the webhook id, the cloud
// URLs, encryption with the secret, and the token kept to register again.
func (h *Hub) registerHomeAssistant(ctx context.Context, id, endpointName string, c hook.TargetChange, token string) (hook.TargetChange, error) {
	ha := *c.HomeAssistant
	client := useragent.Client(h.opts.Version, 15*time.Second)
	reg, err := deliver.RegisterHomeAssistant(ctx, client, ha.InstanceURL, strings.TrimSpace(token), deliver.HomeAssistantDevice{
		DeviceID: id, DeviceName: "Hooktray (" + endpointName + ")", AppVersion: h.opts.Version})
	if err != nil {
		return c, &hook.FieldError{Field: "home_assistant.instance_url", Message: err.Error()}
	}
	ha.WebhookID, ha.CloudhookURL, ha.RemoteUIURL = reg.WebhookID, reg.CloudhookURL, reg.RemoteUIURL
	ha.Encrypt, ha.Registered, ha.Secret, ha.AccessToken = true, true, &reg.Secret, &token
	c.HomeAssistant = &ha
	h.log.Info("registered with Home Assistant as a mobile_app device", "target", id, "instance", ha.InstanceURL,
		"cloudhook", reg.CloudhookURL != "", "remote_ui", reg.RemoteUIURL != "")
	return c, nil
}

// ReregisterTarget registers a Home Assistant target again with its instance, with the access
// token kept from its registration (after the registration was deleted and answered 410), makes
// the deliveries that failed meanwhile due again, and resumes it.
func (h *Hub) ReregisterTarget(ctx context.Context, id string) (hook.Target, error) {
	t, err := h.Target(id)
	if err != nil {
		return hook.Target{}, err
	}
	if t.Kind != hook.TargetHomeAssistant || t.HomeAssistant == nil || !t.HomeAssistant.Registered {
		return hook.Target{}, &hook.FieldError{Field: "home_assistant.register", Message: "only a Home Assistant target that Hooktray registered itself can register again; edit its webhook id and secret instead"}
	}
	token, err := h.targetSecret(ctx, id, deliver.SecretHomeAssistantToken)
	if err != nil || token == "" {
		return hook.Target{}, &hook.FieldError{Field: "home_assistant.access_token", Message: "the access token of the registration cannot be read: edit the target and give it again"}
	}
	ep, err := h.Endpoint(t.EndpointID)
	if err != nil {
		return hook.Target{}, err
	}
	c := hook.TargetChange{HomeAssistant: &hook.HomeAssistantChange{HomeAssistantTarget: *t.HomeAssistant}}
	if c, err = h.registerHomeAssistant(ctx, id, ep.Name, c, token); err != nil {
		return hook.Target{}, err
	}
	if _, err := h.UpdateTarget(ctx, id, c); err != nil {
		return hook.Target{}, err
	}
	// What the deleted registration answered 410 to goes now, in its order.
	if _, err := h.store.RetryDeliveries(ctx, id, hook.DeliveryFailed, h.opts.Clock.Now()); err != nil {
		return hook.Target{}, err
	}
	return h.ResumeTarget(ctx, id)
}

// checkTargetChange applies c to t and checks what cannot be checked without the secrets.
func (h *Hub) checkTargetChange(t *hook.Target, c hook.TargetChange) error {
	had := t.SignScheme
	if err := c.Apply(t); err != nil {
		return err
	}
	if t.SignScheme != hook.SchemeNone {
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
	}
	if t.Kind == hook.TargetHomeAssistant && t.HomeAssistant.Encrypt {
		given := c.HomeAssistant != nil && c.HomeAssistant.Secret != nil && *c.HomeAssistant.Secret != ""
		if !given && t.CreatedAt.IsZero() {
			return &hook.FieldError{Field: "home_assistant.secret", Message: "encryption needs the registration's secret"}
		}
	}
	return nil
}

func targetSecretName(id, purpose string) string { return "target:" + id + ":" + purpose }

// storeTargetSecrets seals the secrets a change gives (write-only; never returned).
func (h *Hub) storeTargetSecrets(ctx context.Context, id string, c hook.TargetChange) error {
	put := func(purpose string, secret *string) error {
		if secret == nil || *secret == "" {
			return nil
		}
		if h.box.Missing() {
			if err := h.box.Create(); err != nil {
				return err
			}
		}
		name := targetSecretName(id, purpose)
		nonce, ct := h.box.Seal(*secret, name)
		err := h.store.PutAppSecret(ctx, name, nonce, ct)
		h.noteStorageError(err)
		return err
	}
	if c.Sign != nil {
		if err := put(deliver.SecretSign, c.Sign.Secret); err != nil {
			return err
		}
	}
	if c.HomeAssistant != nil {
		if err := put(deliver.SecretHomeAssistant, c.HomeAssistant.Secret); err != nil {
			return err
		}
		if err := put(deliver.SecretHomeAssistantToken, c.HomeAssistant.AccessToken); err != nil {
			return err
		}
	}
	return nil
}

// targetSecret opens a target's sealed secret for the delivery engine.
func (h *Hub) targetSecret(ctx context.Context, id, purpose string) (string, error) {
	name := targetSecretName(id, purpose)
	nonce, ct, err := h.store.AppSecret(ctx, name)
	if err != nil || nonce == nil {
		return "", err
	}
	return h.box.Unseal(nonce, ct, name)
}

// UpdateTarget changes a target's settings; its deliveries keep their place in the queue.
func (h *Hub) UpdateTarget(ctx context.Context, id string, c hook.TargetChange) (hook.Target, error) {
	t, err := h.Target(id)
	if err != nil {
		return hook.Target{}, err
	}
	if c.Kind != nil && *c.Kind != t.Kind {
		return hook.Target{}, &hook.FieldError{Field: "kind", Message: "a target's kind cannot change; add another target"}
	}
	if ha := c.HomeAssistant; ha != nil && ha.Register {
		// A new access token (or instance URL) given in an edit: register with it.
		token, _ := h.targetSecret(ctx, id, deliver.SecretHomeAssistantToken)
		if err := ha.CheckRegistration(token != ""); err != nil {
			return hook.Target{}, err
		}
		if ha.AccessToken != nil && *ha.AccessToken != "" {
			token = *ha.AccessToken
		}
		ep, err := h.Endpoint(t.EndpointID)
		if err != nil {
			return hook.Target{}, err
		}
		if c, err = h.registerHomeAssistant(ctx, id, ep.Name, c, token); err != nil {
			return hook.Target{}, err
		}
	}
	if err := h.checkTargetChange(&t, c); err != nil {
		return hook.Target{}, err
	}
	if err := h.store.UpdateTarget(ctx, &t); err != nil {
		h.noteStorageError(err)
		return hook.Target{}, err
	}
	if err := h.storeTargetSecrets(ctx, id, c); err != nil {
		return hook.Target{}, err
	}
	h.putTarget(t)
	return h.Target(id)
}

// DeleteTarget removes a target; its open deliveries end as failed.
func (h *Hub) DeleteTarget(ctx context.Context, id string) error {
	t, err := h.Target(id)
	if err != nil {
		return err
	}
	if err := h.store.DeleteTarget(ctx, id, h.opts.Clock.Now()); err != nil {
		h.noteStorageError(err)
		return err
	}
	h.fwd.engine.Remove(id)
	h.fwd.mu.Lock()
	h.fwd.targets[t.EndpointID] = slices.DeleteFunc(h.fwd.targets[t.EndpointID], func(x hook.Target) bool { return x.ID == id })
	h.fwd.mu.Unlock()
	for _, p := range []string{deliver.SecretSign, deliver.SecretHomeAssistant, deliver.SecretHomeAssistantToken} {
		h.store.DeleteAppSecret(ctx, targetSecretName(id, p))
	}
	h.changes.Publish(hook.TargetsChanged)
	return nil
}

// ResumeTarget closes a target's circuit breaker (or re-enables it after 410) at once.
func (h *Hub) ResumeTarget(ctx context.Context, id string) (hook.Target, error) {
	if _, err := h.Target(id); err != nil {
		return hook.Target{}, err
	}
	t, err := h.fwd.engine.Resume(ctx, id)
	if err != nil {
		return hook.Target{}, err
	}
	h.fwd.mu.Lock()
	for i, x := range h.fwd.targets[t.EndpointID] {
		if x.ID == id {
			h.fwd.targets[t.EndpointID][i].Enabled = true
		}
	}
	h.fwd.mu.Unlock()
	return h.Target(id)
}

// Deliveries lists deliveries, newest first, and the next page's cursor (0: none).
func (h *Hub) Deliveries(ctx context.Context, q hook.DeliveryQuery) ([]hook.Delivery, int64, error) {
	h.settleBriefly(ctx)
	return h.store.Deliveries(ctx, q)
}

// Delivery returns one delivery.
func (h *Hub) Delivery(ctx context.Context, id int64) (hook.Delivery, error) {
	h.settleBriefly(ctx)
	return h.store.Delivery(ctx, id)
}

// RetryDelivery makes a failed or dead-lettered delivery due now, keeping its id.
func (h *Hub) RetryDelivery(ctx context.Context, id int64) (hook.Delivery, error) {
	d, err := h.store.RetryDelivery(ctx, id, h.opts.Clock.Now())
	if err != nil {
		return d, err
	}
	h.fwd.engine.Kick(d.TargetID)
	h.changes.Publish(hook.DeliveriesChanged)
	return d, nil
}

// RetryDeliveries makes every delivery of a target in status due again, in their order.
func (h *Hub) RetryDeliveries(ctx context.Context, targetID string, status hook.DeliveryStatus) (int64, error) {
	if _, err := h.Target(targetID); err != nil {
		return 0, err
	}
	if status != hook.DeliveryDeadLetter && status != hook.DeliveryFailed {
		return 0, &hook.FieldError{Field: "status", Message: "retry all works on dead_letter or failed deliveries"}
	}
	n, err := h.store.RetryDeliveries(ctx, targetID, status, h.opts.Clock.Now())
	if err != nil {
		return 0, err
	}
	h.fwd.engine.Kick(targetID)
	h.changes.Publish(hook.DeliveriesChanged)
	return n, nil
}

// ReplayToTargets queues a stored event again for the given targets of its endpoint (all of them
// when none are given), edited first when edit is set. Each gets a new delivery.
func (h *Hub) ReplayToTargets(ctx context.Context, eventID int64, targetIDs []string, edit *hook.Edit) ([]hook.Delivery, error) {
	ev, err := h.store.Event(ctx, eventID)
	if err != nil {
		return nil, err
	}
	if !ev.BodyKept() && ev.Status == hook.Rejected && (edit == nil || edit.Body == nil) {
		return nil, fmt.Errorf("%w: event %d was rejected, so its body was not kept", deliver.ErrNothingToSend, ev.ID)
	}
	own, err := h.Targets(ev.EndpointID)
	if err != nil {
		return nil, err
	}
	if len(targetIDs) == 0 {
		for _, t := range own {
			targetIDs = append(targetIDs, t.ID)
		}
		if len(targetIDs) == 0 {
			return nil, &hook.FieldError{Field: "targets", Message: "the endpoint has no forwarding targets; add one, or give a URL to send the event to"}
		}
	}
	for _, id := range targetIDs {
		if !slices.ContainsFunc(own, func(t hook.Target) bool { return t.ID == id }) {
			return nil, &hook.FieldError{Field: "targets", Message: fmt.Sprintf("%s is not a target of the event's endpoint", id)}
		}
	}
	ds, err := h.store.AddDeliveries(ctx, eventID, targetIDs, edit, h.opts.Clock.Now())
	if err != nil {
		h.noteStorageError(err)
		return nil, err
	}
	for _, id := range targetIDs {
		h.fwd.engine.Kick(id)
	}
	h.changes.Publish(hook.DeliveriesChanged)
	return ds, nil
}

// ReplayTo sends a stored event (edited first when edit is set) to a URL the user typed, once,
// and returns the answer.
func (h *Hub) ReplayTo(ctx context.Context, eventID int64, to string, edit *hook.Edit) (deliver.ReplayResult, error) {
	ev, err := h.store.Event(ctx, eventID)
	if err != nil {
		return deliver.ReplayResult{}, err
	}
	return deliver.SendOnce(ctx, useragent.Client(h.opts.Version, hook.DefaultTargetTimeout), edit.Apply(ev), to)
}
