package app

import (
	"bytes"
	"context"
	"fmt"
	"maps"
	"net/http"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/hooktray/hooktray/app/keypath"
	"github.com/hooktray/hooktray/app/receiver"
	"github.com/hooktray/hooktray/app/useragent"
	"github.com/hooktray/hooktray/app/verify"
	"github.com/hooktray/hooktray/hook"
)

// applyChange applies c and checks what storage cannot: a router's key path.
func applyChange(c hook.EndpointChange, ep *hook.Endpoint) error {
	if err := c.Apply(ep); err != nil {
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
	d.m.Range(func(_, v any) bool {
		t := v.(*receiver.Endpoint)
		if !t.Deleted() && slices.Contains(t.Settings.Keys, value) {
			out = append(out, t)
		}
		return true
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
	names := slices.Sorted(maps.Values(d.locked))
	return names
}

// each calls f for every endpoint, deleted ones included.
func (d *directory) each(f func(*receiver.Endpoint)) {
	d.m.Range(func(_, v any) bool { f(v.(*receiver.Endpoint)); return true })
}

var _ receiver.Directory = (*directory)(nil)

// loadEndpoints reads the endpoint table into the directory, at start.
func (h *Hub) loadEndpoints(ctx context.Context) error {
	all, err := h.store.AllEndpoints(ctx)
	if err != nil {
		return err
	}
	var locked []string
	for _, ep := range all {
		t, err := h.target(ctx, ep)
		if err != nil {
			return err
		}
		locked = h.dir.put(t)
	}
	h.noteUnreadableSecrets(locked)
	return nil
}

// refreshEndpoint reads one endpoint, with its secrets, into the directory after it changed.
// Callers hold h.mu.
func (h *Hub) refreshEndpoint(ctx context.Context, id string) error {
	ep, err := h.store.Endpoint(ctx, id)
	if err != nil {
		return err
	}
	t, err := h.target(ctx, ep)
	if err != nil {
		return err
	}
	h.noteUnreadableSecrets(h.dir.put(t))
	h.changes.Publish(hook.EndpointsChanged)
	return nil
}

// target is an endpoint as the receiver needs it: its key paths parsed and its secrets open.
func (h *Hub) target(ctx context.Context, ep hook.Endpoint) (*receiver.Endpoint, error) {
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
	if ep.VerifyScheme != hook.SchemeNone && !ep.Deleted() {
		secrets, unreadable, err := h.openSecrets(ctx, ep.ID, h.opts.Clock.Now())
		if err != nil {
			return nil, err
		}
		t.Secrets = secrets
		t.SecretsUnreadable = unreadable > 0 && len(secrets) == 0
	}
	return t, nil
}

// Endpoints returns the endpoints that exist (not deleted), oldest first.
func (h *Hub) Endpoints() []hook.Endpoint {
	var out []hook.Endpoint
	h.dir.each(func(t *receiver.Endpoint) {
		if !t.Deleted() {
			out = append(out, t.Endpoint)
		}
	})
	sortEndpoints(out)
	return out
}

// sortEndpoints puts endpoints in creation order: what people expect in a list they built one at
// a time.
func sortEndpoints(eps []hook.Endpoint) {
	slices.SortFunc(eps, func(a, b hook.Endpoint) int {
		if c := a.CreatedAt.Compare(b.CreatedAt); c != 0 {
			return c
		}
		return strings.Compare(a.ID, b.ID)
	})
}

// Endpoint returns one existing endpoint; hook.ErrNotFound (wrapped) if unknown or deleted.
func (h *Hub) Endpoint(id string) (hook.Endpoint, error) {
	t, _ := h.dir.Lookup(id)
	if t == nil {
		return hook.Endpoint{}, fmt.Errorf("endpoint %s: %w", id, hook.ErrNotFound)
	}
	return t.Endpoint, nil
}

// CreateEndpoint creates an endpoint from c (Name required). Invalid fields give *FieldError.
func (h *Hub) CreateEndpoint(ctx context.Context, c hook.EndpointChange) (hook.Endpoint, error) {
	if c.Name == nil {
		return hook.Endpoint{}, &hook.FieldError{Field: "name", Message: "a name is required"}
	}
	ep := hook.NewEndpoint("")
	if err := applyChange(c, &ep); err != nil {
		return hook.Endpoint{}, err
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	if err := h.store.CreateEndpoint(ctx, &ep); err != nil {
		return hook.Endpoint{}, err
	}
	if err := h.applySecret(ctx, ep, c.Secret); err != nil {
		return hook.Endpoint{}, err
	}
	if err := h.refreshEndpoint(ctx, ep.ID); err != nil {
		return hook.Endpoint{}, err
	}
	h.log.Info("endpoint created", "id", ep.ID, "name", ep.Name)
	return ep, nil
}

// UpdateEndpoint applies c to an existing endpoint. Pausing (Enabled=false) takes effect for the
// next request that arrives.
func (h *Hub) UpdateEndpoint(ctx context.Context, id string, c hook.EndpointChange) (hook.Endpoint, error) {
	h.mu.Lock()
	defer h.mu.Unlock()
	ep, err := h.Endpoint(id)
	if err != nil {
		return hook.Endpoint{}, err
	}
	if err := applyChange(c, &ep); err != nil {
		return hook.Endpoint{}, err
	}
	if err := h.store.UpdateEndpoint(ctx, &ep); err != nil {
		return hook.Endpoint{}, err
	}
	if err := h.applySecret(ctx, ep, c.Secret); err != nil {
		return hook.Endpoint{}, err
	}
	if err := h.refreshEndpoint(ctx, ep.ID); err != nil {
		return hook.Endpoint{}, err
	}
	return ep, nil
}

// SetEnabled pauses or resumes an endpoint.
func (h *Hub) SetEnabled(ctx context.Context, id string, enabled bool) (hook.Endpoint, error) {
	return h.UpdateEndpoint(ctx, id, hook.EndpointChange{Enabled: &enabled})
}

// DeleteEndpoint deletes an endpoint: its URL answers 410 from now on; its history stays.
func (h *Hub) DeleteEndpoint(ctx context.Context, id string) error {
	if _, err := h.Endpoint(id); err != nil {
		return err
	}
	h.unregisterEndpoint(ctx, id) // before the endpoint goes: providers stop sending to it
	h.mu.Lock()
	defer h.mu.Unlock()
	if err := h.store.DeleteEndpoint(ctx, id); err != nil {
		return err
	}
	h.log.Info("endpoint deleted", "id", id)
	return h.refreshEndpoint(ctx, id)
}

// EndpointURL is the local receiver URL of an endpoint.
func (h *Hub) EndpointURL(id string) string { return h.recvURL + receiver.Prefix + id }

// PublicEndpointURL is the public URL of an endpoint, or "" when there is no public base URL.
func (h *Hub) PublicEndpointURL(id string) string {
	base := h.PublicURL()
	if base == "" {
		return ""
	}
	return strings.TrimRight(base, "/") + receiver.Prefix + id
}

// TestEndpoint sends a webhook.test event to the endpoint as a provider would (seed 003's
// testWebhook): through its public URL when that is known to be reachable, else the local one;
// signed with the endpoint's secret when its scheme signs. It reports the round trip, the stored
// event and the deliveries it queued.
func (h *Hub) TestEndpoint(ctx context.Context, id string) (hook.TestResult, error) {
	ep, err := h.Endpoint(id)
	if err != nil {
		return hook.TestResult{}, err
	}
	to := h.EndpointURL(id)
	if public := h.PublicEndpointURL(id); public != "" {
		if r := h.Reachability(); r.Reachable && r.URL == h.PublicURL() {
			to = public
		}
	}
	sub := h.Subscribe(64)
	defer sub.Close()
	now := h.opts.Clock.Now()
	body := []byte(fmt.Sprintf(`{"type":"webhook.test","id":"test_%d","message":"Test webhook sent by Hooktray","sent_at":%q}`,
		now.UnixNano(), now.UTC().Format(time.RFC3339)))
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, to, bytes.NewReader(body))
	if err != nil {
		return hook.TestResult{}, fmt.Errorf("test endpoint: %w", err)
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("User-Agent", useragent.String(h.opts.Version))
	if verify.CanSign(ep.VerifyScheme) {
		if secrets, _, err := h.openSecrets(ctx, id, now); err == nil && len(secrets) > 0 {
			if sig, err := verify.Sign(ep.VerifyScheme, secrets[0], body, fmt.Sprintf("msg_test_%d", now.UnixNano()), now); err == nil {
				for k, v := range sig {
					req.Header[k] = v
				}
			}
		}
	}
	start := time.Now()
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return hook.TestResult{}, fmt.Errorf("test endpoint: send to %s: %w", to, err)
	}
	resp.Body.Close()
	took := time.Since(start)
	for {
		m, err := sub.Next(ctx)
		if err != nil {
			return hook.TestResult{}, fmt.Errorf("test endpoint: waiting for the event: %w", err)
		}
		if m.Event.EndpointID != id || m.Event.Method != http.MethodPost {
			continue
		}
		ev, err := h.store.Event(ctx, m.Event.ID)
		if err != nil {
			return hook.TestResult{}, err
		}
		ds, _, err := h.store.Deliveries(ctx, hook.DeliveryQuery{EventID: ev.ID})
		if err != nil {
			return hook.TestResult{}, err
		}
		return hook.TestResult{Event: ev, SentTo: to, RoundTrip: took, Deliveries: ds}, nil
	}
}
