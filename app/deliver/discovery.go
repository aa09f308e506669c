package deliver

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"sync"

	mqtt "github.com/eclipse/paho.mqtt.golang"

	"github.com/hooktray/hooktray/hook"
)

// maxAnnounced bounds the event types an endpoint's event entity lists.
const maxAnnounced = 100

// untypedEvent is the event type announced for events without one.
const untypedEvent = "webhook"

// announced keeps, per MQTT target, the event types its endpoint's entity was configured with.
type announced struct {
	mu    sync.Mutex
	types map[string][]string // target id → sorted types
}

// discoveryConfig is the event entity's config as Home Assistant's MQTT discovery reads it
// (homeassistant/components/mqtt/event.py: state_topic and event_types are required; the
// payload on state_topic is JSON with event_type, and a retained one is ignored).
type discoveryConfig struct {
	Name       string          `json:"name"`
	UniqueID   string          `json:"unique_id"`
	StateTopic string          `json:"state_topic"`
	EventTypes []string        `json:"event_types"`
	Device     discoveryDevice `json:"device"`
}

type discoveryDevice struct {
	Identifiers  []string `json:"identifiers"`
	Name         string   `json:"name"`
	Manufacturer string   `json:"manufacturer"`
}

// announce makes sure the endpoint's entity lists ev's type (publishing its retained config
// again when the type is new), then announces the event on the entity's state topic.
func (e *Engine) announce(ctx context.Context, client mqtt.Client, t hook.Target, ev hook.Event) error {
	typ := ev.Type
	if typ == "" {
		typ = untypedEvent
	}
	configTopic, stateTopic := t.MQTT.DiscoveryTopics(ev.EndpointID)
	types, fresh := e.known.add(ctx, e.opts.Store, t, typ)
	if fresh {
		name := e.opts.EndpointName(ev.EndpointID)
		cfg, _ := json.Marshal(discoveryConfig{Name: name, UniqueID: "hooktray_" + ev.EndpointID, StateTopic: stateTopic, EventTypes: types,
			Device: discoveryDevice{Identifiers: []string{"hooktray"}, Name: "Hooktray", Manufacturer: "Hooktray"}})
		if err := publish(ctx, client, configTopic, 1, true, cfg); err != nil {
			e.known.forget(t.ID)
			return fmt.Errorf("announce the endpoint to Home Assistant: %w", err)
		}
	}
	state, _ := json.Marshal(map[string]any{"event_type": typ, "event_id": ev.ID, "endpoint": e.opts.EndpointName(ev.EndpointID)})
	return publish(ctx, client, stateTopic, byte(max(t.MQTT.QoS, 1)), false, state)
}

// add records typ among the target's announced types; fresh when the entity's config must be
// published (again): the first time since start, or a type not listed yet.
func (a *announced) add(ctx context.Context, store EngineStore, t hook.Target, typ string) (types []string, fresh bool) {
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.types == nil {
		a.types = map[string][]string{}
	}
	cur, ok := a.types[t.ID]
	if !ok { // since start: the types the history holds, so a restart does not shrink the list
		seen, _ := store.EventTypes(ctx, t.EndpointID, maxAnnounced)
		for _, s := range seen {
			if !slices.Contains(cur, s) {
				cur = append(cur, s)
			}
		}
		fresh = true
	}
	if !slices.Contains(cur, typ) && len(cur) < maxAnnounced {
		cur, fresh = append(cur, typ), true
	}
	slices.Sort(cur)
	a.types[t.ID] = cur
	return slices.Clone(cur), fresh
}

func (a *announced) forget(targetID string) {
	a.mu.Lock()
	delete(a.types, targetID)
	a.mu.Unlock()
}

// publish sends one message and waits for the broker within ctx.
func publish(ctx context.Context, client mqtt.Client, topic string, qos byte, retain bool, payload []byte) error {
	tok := client.Publish(topic, qos, retain, payload)
	if !waitToken(ctx, tok) {
		return fmt.Errorf("the broker did not acknowledge %s in time", topic)
	}
	return tok.Error()
}

// Unannounce removes an MQTT target's Home Assistant entity (an empty retained config), when it
// announced one: for a target being deleted.
func (e *Engine) Unannounce(ctx context.Context, t hook.Target) error {
	if t.Kind != hook.TargetMQTT || t.MQTT == nil || !t.MQTT.Discovery {
		return nil
	}
	password, err := e.opts.Secret(ctx, t.ID, SecretMQTT)
	if err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(ctx, t.Timeout)
	defer cancel()
	client, err := e.mqtt.get(ctx, t, password)
	if err != nil {
		return err
	}
	defer e.mqtt.close(t.ID) // the target is going: so is its connection
	configTopic, _ := t.MQTT.DiscoveryTopics(t.EndpointID)
	e.known.forget(t.ID)
	return publish(ctx, client, configTopic, 1, true, nil)
}
