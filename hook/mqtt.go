package hook

import (
	"fmt"
	"net/url"
	"strings"
)

// MQTTTarget publishes events to an MQTT broker. The password is sealed apart, as other
// targets' secrets are.
type MQTTTarget struct {
	Broker   string `json:"broker"`    // mqtt://, mqtts://, ws:// or wss://HOST:PORT
	ClientID string `json:"client_id"` // "" : hooktray-<the target's id>
	Username string `json:"username,omitempty"`
	// Topic is a template: {endpoint} (the endpoint's name), {endpoint_id} and {type} (the event
	// type, "event" when it has none), each made topic-safe.
	Topic  string `json:"topic"`
	QoS    int    `json:"qos"`
	Retain bool   `json:"retain"`
	// Discovery announces the endpoint to Home Assistant's MQTT integration as an event entity
	// (retained config under DiscoveryPrefix, default homeassistant), its event types those seen.
	Discovery       bool   `json:"discovery"`
	DiscoveryPrefix string `json:"discovery_prefix,omitempty"`
}

// DefaultDiscoveryPrefix is Home Assistant's MQTT discovery prefix unless the user set another.
const DefaultDiscoveryPrefix = "homeassistant"

// Discovery topics of an endpoint: the retained config, and where its events are announced.
func (m *MQTTTarget) DiscoveryTopics(endpointID string) (config, state string) {
	prefix := m.DiscoveryPrefix
	if prefix == "" {
		prefix = DefaultDiscoveryPrefix
	}
	id := topicSafe(endpointID)
	return prefix + "/event/hooktray/" + id + "/config", "hooktray/" + id + "/event"
}

// MQTTChange sets an MQTT target and, when given, its password (write-only).
type MQTTChange struct {
	MQTTTarget
	Password *string `json:"password,omitempty"`
}

// DefaultMQTTTopic is the topic template unless the user gives another.
const DefaultMQTTTopic = "hooktray/{endpoint}/{type}"

// CheckBroker checks an MQTT broker's URL.
func CheckBroker(s string) error {
	u, err := url.Parse(strings.TrimSpace(s))
	if err != nil || u.Host == "" {
		return fmt.Errorf("%q is not a broker URL such as mqtt://127.0.0.1:1883", s)
	}
	switch u.Scheme {
	case "mqtt", "mqtts", "tcp", "ssl", "ws", "wss":
		return nil
	}
	return fmt.Errorf("a broker URL starts with mqtt://, mqtts://, ws:// or wss://, not %s://", u.Scheme)
}

// CheckTopic checks a topic template: a topic to publish to has no wildcards.
func CheckTopic(s string) error {
	switch {
	case strings.TrimSpace(s) == "":
		return fmt.Errorf("give the topic to publish to, such as %s", DefaultMQTTTopic)
	case strings.ContainsAny(s, "+#\x00"):
		return fmt.Errorf("a topic to publish to has no wildcards (+ or #)")
	case len(s) > 1024:
		return fmt.Errorf("the topic is %d bytes long; at most 1024", len(s))
	}
	return nil
}

// validate checks the target's fields, naming the first bad one.
func (m *MQTTTarget) validate() error {
	if m == nil {
		return &FieldError{"mqtt.broker", "give the broker's URL, such as mqtt://127.0.0.1:1883"}
	}
	if err := CheckBroker(m.Broker); err != nil {
		return field("mqtt.broker", err)
	}
	if err := CheckTopic(m.Topic); err != nil {
		return field("mqtt.topic", err)
	}
	if m.QoS < 0 || m.QoS > 2 {
		return &FieldError{"mqtt.qos", "QoS is 0 (at most once), 1 (at least once) or 2 (exactly once)"}
	}
	if err := CheckTopic(m.DiscoveryPrefix + "x"); m.DiscoveryPrefix != "" && err != nil {
		return field("mqtt.discovery_prefix", err)
	}
	if len(m.ClientID) > 128 || strings.ContainsAny(m.ClientID, "\x00") {
		return &FieldError{"mqtt.client_id", "a client id is at most 128 characters"}
	}
	return nil
}

// TopicFor is the topic an event is published to: the template with its values made
// topic-safe (no /, +, # or control characters in a value; an empty one is _).
func (m *MQTTTarget) TopicFor(endpointName, endpointID, eventType string) string {
	if eventType == "" {
		eventType = "event"
	}
	// A plain scan, not a strings.Replacer: this runs once per delivery.
	var b strings.Builder
	rest := m.Topic
	for {
		i := strings.IndexByte(rest, '{')
		if i < 0 {
			b.WriteString(rest)
			return b.String()
		}
		b.WriteString(rest[:i])
		rest = rest[i:]
		switch {
		case strings.HasPrefix(rest, "{endpoint}"):
			b.WriteString(topicSafe(endpointName))
			rest = rest[len("{endpoint}"):]
		case strings.HasPrefix(rest, "{endpoint_id}"):
			b.WriteString(topicSafe(endpointID))
			rest = rest[len("{endpoint_id}"):]
		case strings.HasPrefix(rest, "{type}"):
			b.WriteString(topicSafe(eventType))
			rest = rest[len("{type}"):]
		default:
			b.WriteByte('{')
			rest = rest[1:]
		}
	}
}

func topicSafe(s string) string {
	s = strings.Map(func(r rune) rune {
		if r == '/' || r == '+' || r == '#' || r < 0x20 || r == 0x7f {
			return '_'
		}
		return r
	}, strings.TrimSpace(s))
	if s == "" {
		return "_"
	}
	return s
}
