package deliver

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"time"
	"unicode/utf8"

	"github.com/hooktray/hooktray/app/verify"
	"github.com/hooktray/hooktray/clock"
	"github.com/hooktray/hooktray/hook"
)

// PreferredRetry is how long a Home Assistant target keeps using the URL that answered after an
// earlier one of its chain failed, before it tries the preferred one again: a dead cloudhook costs
// one failed hop every few minutes, not one per event.
const PreferredRetry = 5 * time.Minute

// haRoutes remembers, per target, the hop of the chain that last answered after earlier ones
// failed, and until when the earlier ones are skipped (on the monotonic clock).
type haRoutes struct {
	mu     sync.Mutex
	routes map[string]haRoute
}

type haRoute struct {
	hop      int           // index in the chain of the hop that answered
	until    time.Duration // the earlier hops are skipped until then
	failedAt time.Time     // when they failed, to say so
	why      string
}

func (r *haRoutes) get(id string) (haRoute, bool) {
	r.mu.Lock()
	defer r.mu.Unlock()
	route, ok := r.routes[id]
	return route, ok
}

func (r *haRoutes) set(id string, route haRoute, ok bool) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.routes == nil {
		r.routes = map[string]haRoute{}
	}
	if ok {
		r.routes[id] = route
	} else {
		delete(r.routes, id)
	}
}

// sendHomeAssistant delivers to a mobile_app registration along its chain (cloudhook, remote UI,
// instance URL: seed 004), going to the next hop on a network error, a timeout or a 5xx. Each hop
// has the target's timeout. The hop that answered after earlier ones failed is used first for
// PreferredRetry; the outcome's Route says which hops were tried, and why the others failed or
// were skipped.
func (e *Engine) sendHomeAssistant(ctx context.Context, r Request) Outcome {
	ha := r.Target.HomeAssistant
	if ha == nil {
		return Outcome{Err: errors.New("the target has no Home Assistant settings"), Final: true}
	}
	payload, err := e.homeAssistantBody(ctx, r)
	if err != nil {
		return Outcome{Err: err, Final: true}
	}
	hops := ha.Hops()
	first, skipped := 0, ""
	if route, ok := e.ha.get(r.Target.ID); ok && route.hop < len(hops) {
		if clock.Left(e.clock, route.until) > 0 {
			first = route.hop
			skipped = fmt.Sprintf("%s skipped: %s at %s; tried again from %s", hopNames(hops[:first]), route.why,
				route.failedAt.Local().Format("15:04:05"), route.failedAt.Add(PreferredRetry).Local().Format("15:04:05"))
		}
	}
	// From the hop in use to the end of the chain, then, when all of those failed, the hops
	// skipped before it: one of them may be back.
	order := make([]int, 0, len(hops))
	for i := range hops {
		order = append(order, (first+i)%len(hops))
	}
	var notes []string
	var o Outcome
	for n, i := range order {
		if n > 0 && i == 0 {
			skipped = "" // they are tried after all
		}
		o = e.homeAssistantHop(ctx, r, hops[i].URL, payload)
		if o.Err == nil && o.Status < 500 || ctx.Err() != nil {
			e.remember(r.Target.ID, i, first, notes)
			o.Route = route(skipped, notes, hops[i], o)
			return o
		}
		notes = append(notes, fmt.Sprintf("%s: %s", hops[i].Name, o.describe()))
	}
	o.Route = route(skipped, notes, Hop{}, o)
	if len(notes) > 1 {
		o.Err = fmt.Errorf("no Home Assistant URL answered: %s", strings.Join(notes, "; "))
	}
	return o
}

// Hop is one URL of the chain (hook.Hop).
type Hop = hook.Hop

// remember keeps the hop that answered for the next deliveries when earlier ones failed just now,
// and forgets it once the preferred one answers again.
func (e *Engine) remember(id string, answered, first int, failed []string) {
	switch {
	case answered == 0:
		e.ha.set(id, haRoute{}, false)
	case answered != first || first == 0:
		why := "failed"
		if len(failed) > 0 {
			why = failed[len(failed)-1]
			if _, after, ok := strings.Cut(why, ": "); ok {
				why = after
			}
		}
		e.ha.set(id, haRoute{hop: answered, until: e.clock.Monotonic() + PreferredRetry, failedAt: e.clock.Now(), why: why}, true)
	}
}

// route is the note a delivery keeps of its way along the chain.
func route(skipped string, failed []string, answered Hop, o Outcome) string {
	parts := []string{}
	if skipped != "" {
		parts = append(parts, skipped)
	}
	parts = append(parts, failed...)
	if answered.URL != "" && (len(parts) > 0) {
		parts = append(parts, fmt.Sprintf("answered by the %s (%d)", answered.Name, o.Status))
	}
	return strings.Join(parts, "; ")
}

func hopNames(hops []Hop) string {
	names := make([]string, len(hops))
	for i, h := range hops {
		names[i] = "the " + h.Name
	}
	return strings.Join(names, " and ")
}

// homeAssistantHop sends the payload to one hop, within the target's timeout.
func (e *Engine) homeAssistantHop(ctx context.Context, r Request, url string, payload []byte) Outcome {
	ctx, cancel := context.WithTimeout(ctx, r.Target.Timeout)
	defer cancel()
	h := http.Header{"Content-Type": {"application/json"}}
	if err := e.decorate(ctx, h, r, payload); err != nil {
		return Outcome{Err: err, Final: true}
	}
	return e.post(ctx, http.MethodPost, url, h, payload)
}

// homeAssistantBody is the request body Home Assistant acts on: the command and its data, sealed
// with the registration secret when the target encrypts.
func (e *Engine) homeAssistantBody(ctx context.Context, r Request) ([]byte, error) {
	command, data, err := homeAssistantMessage(r.Event, e.opts.EndpointName(r.Event.EndpointID))
	if err != nil {
		return nil, err
	}
	if !r.Target.HomeAssistant.Encrypt {
		return json.Marshal(map[string]json.RawMessage{"type": mustJSON(command), "data": data})
	}
	secret, err := e.secret(ctx, r, SecretHomeAssistant)
	if err != nil || secret == "" {
		return nil, fmt.Errorf("the registration encrypts but its secret cannot be read: %v", err)
	}
	return verify.Encrypt(secret, command, data)
}

func mustJSON(s string) json.RawMessage {
	b, _ := json.Marshal(s)
	return b
}

// homeAssistantMessage is what a webhook becomes for Home Assistant: a mobile_app command and its
// data. A body that is already one of mobile_app's commands ({"type": "update_location", "data":
// …}) passes as that command; anything else, Homecast's {"type":"state.changed"} and Stripe's
// events included, becomes a fire_event of hook.HomeAssistantEvent that automations can use.
func homeAssistantMessage(ev hook.Event, endpointName string) (command string, data json.RawMessage, err error) {
	var shaped struct {
		Type string          `json:"type"`
		Data json.RawMessage `json:"data"`
	}
	if json.Unmarshal(ev.Body, &shaped) == nil && hook.IsMobileAppCommand(shaped.Type) {
		switch d := bytes.TrimSpace(shaped.Data); {
		case len(d) == 0 || string(d) == "null":
			return shaped.Type, json.RawMessage(`{}`), nil
		case d[0] == '{' || d[0] == '[':
			return shaped.Type, d, nil
		}
	}
	var body any = string(ev.Body)
	if json.Valid(ev.Body) && len(bytes.TrimSpace(ev.Body)) > 0 {
		body = json.RawMessage(ev.Body)
	} else if !utf8.Valid(ev.Body) {
		body = map[string][]byte{"base64": ev.Body}
	}
	headers := map[string]string{}
	for k, vs := range ev.Header {
		headers[k] = strings.Join(vs, ", ")
	}
	data, err = json.Marshal(map[string]any{
		"event_type": hook.HomeAssistantEvent,
		"event_data": map[string]any{
			"endpoint": endpointName, "endpoint_id": ev.EndpointID, "event_id": ev.ID, "type": ev.Type,
			"method": ev.Method, "query": ev.Query, "headers": headers, "body": body,
			"received_at": ev.ReceivedAt.UTC().Format(time.RFC3339Nano),
		},
	})
	return "fire_event", data, err
}
