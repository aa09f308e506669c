package app

import (
	"context"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"sync/atomic"
	"time"

	"github.com/hooktray/hooktray/app/forward"
	"github.com/hooktray/hooktray/app/receiver"
	"github.com/hooktray/hooktray/app/route"
	"github.com/hooktray/hooktray/hook"
)

// applyChange applies c and checks what storage cannot: a router's key path.
func applyChange(c hook.EndpointChange, ep *hook.Endpoint) error {
	if err := c.Apply(ep); err != nil {
		return err
	}
	if kp := ep.Settings.Route.KeyPath; kp != "" {
		if _, err := route.ParseKeyPath(kp); err != nil {
			return &hook.FieldError{Field: "route.key_path", Message: err.Error()}
		}
	}
	if tp := ep.Settings.TypePath; tp != "" {
		if _, err := route.ParseKeyPath(tp); err != nil {
			return &hook.FieldError{Field: "type_path", Message: err.Error()}
		}
	}
	return nil
}

// directory is the in-memory endpoint table the receiver reads on every request. It is replaced
// whole after every change (copy on write), so lookups take no lock.
type directory struct {
	m atomic.Pointer[map[string]*receiver.Target]
}

// Lookup implements receiver.Directory.
func (d *directory) Lookup(id string) (*receiver.Target, bool) {
	m := d.m.Load()
	if m == nil {
		return nil, false
	}
	ep := (*m)[id]
	if ep == nil {
		return nil, false
	}
	if ep.Deleted() {
		return nil, true
	}
	return ep, false
}

// Routed implements receiver.Directory: the enabled or paused endpoints whose keys include value.
func (d *directory) Routed(value string) []*receiver.Target {
	m := d.m.Load()
	if m == nil || value == "" {
		return nil
	}
	var out []*receiver.Target
	for _, t := range *m {
		if t.Deleted() {
			continue
		}
		for _, k := range t.Settings.Keys {
			if k == value {
				out = append(out, t)
				break
			}
		}
	}
	return out
}

var _ receiver.Directory = (*directory)(nil)

// reloadEndpoints reads the endpoint table into the directory. Callers hold h.mu (or are Start).
func (h *Hub) reloadEndpoints(ctx context.Context) error {
	all, err := h.store.AllEndpoints(ctx)
	if err != nil {
		return err
	}
	now := h.opts.Clock.Now()
	m := make(map[string]*receiver.Target, len(all))
	var locked []string // endpoints none of whose secrets can be read
	for _, ep := range all {
		t := &receiver.Target{Endpoint: ep}
		if kp := ep.Settings.Route.KeyPath; kp != "" {
			if parsed, err := route.ParseKeyPath(kp); err == nil {
				t.KeyPath = &parsed
			}
		}
		if tp := ep.Settings.TypePath; tp != "" {
			if parsed, err := route.ParseKeyPath(tp); err == nil {
				t.TypePath = &parsed
			}
		}
		if ep.VerifyScheme != hook.SchemeNone && !ep.Deleted() {
			var unreadable int
			if t.Secrets, unreadable, err = h.openSecrets(ctx, ep.ID, now); err != nil {
				return err
			}
			t.SecretsUnreadable = unreadable > 0 && len(t.Secrets) == 0
			if t.SecretsUnreadable {
				locked = append(locked, ep.Name)
			}
		}
		m[ep.ID] = t
	}
	h.dir.m.Store(&m)
	h.noteUnreadableSecrets(locked)
	h.changes.Publish(hook.EndpointsChanged)
	return nil
}

// Endpoints returns the endpoints that exist (not deleted), oldest first.
func (h *Hub) Endpoints() []hook.Endpoint {
	m := h.dir.m.Load()
	if m == nil {
		return nil
	}
	out := make([]hook.Endpoint, 0, len(*m))
	for _, t := range *m {
		if !t.Deleted() {
			out = append(out, t.Endpoint)
		}
	}
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
	if err := h.reloadEndpoints(ctx); err != nil {
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
	if err := h.reloadEndpoints(ctx); err != nil {
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
	h.mu.Lock()
	defer h.mu.Unlock()
	if _, err := h.Endpoint(id); err != nil {
		return err
	}
	if err := h.store.DeleteEndpoint(ctx, id); err != nil {
		return err
	}
	h.log.Info("endpoint deleted", "id", id)
	return h.reloadEndpoints(ctx)
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

// TestEndpoint sends a sample webhook to the endpoint through the local receiver, as a provider
// would, and returns the event it produced.
func (h *Hub) TestEndpoint(ctx context.Context, id string) (hook.Event, error) {
	if _, err := h.Endpoint(id); err != nil {
		return hook.Event{}, err
	}
	sub := h.Subscribe(64)
	defer sub.Close()
	body := `{"type":"hooktray.test","message":"Test webhook sent by Hooktray"}`
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, h.EndpointURL(id), strings.NewReader(body))
	if err != nil {
		return hook.Event{}, fmt.Errorf("test endpoint: %w", err)
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("User-Agent", "Hooktray-Test/"+h.opts.Version)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return hook.Event{}, fmt.Errorf("test endpoint: %w", err)
	}
	resp.Body.Close()
	for {
		m, err := sub.Next(ctx)
		if err != nil {
			return hook.Event{}, fmt.Errorf("test endpoint: waiting for the event: %w", err)
		}
		if m.Event.EndpointID == id && m.Event.Method == http.MethodPost {
			return h.store.Event(ctx, m.Event.ID)
		}
	}
}

// Replay re-sends a stored event to a URL. Forward targets of endpoints arrive with forwarding;
// until then a target must be given.
func (h *Hub) Replay(ctx context.Context, eventID int64, to string) (forward.Result, error) {
	ev, err := h.store.Event(ctx, eventID)
	if err != nil {
		return forward.Result{}, err
	}
	if to == "" {
		return forward.Result{}, &hook.FieldError{Field: "to", Message: "this endpoint has no forward targets; give a URL to send the event to"}
	}
	client := &http.Client{Timeout: 30 * time.Second}
	return forward.Send(ctx, client, ev, to)
}
