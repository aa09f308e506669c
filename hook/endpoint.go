package hook

import (
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"strings"
	"time"
)

// DefaultBodyLimit is the body size above which a request is refused with 413.
const DefaultBodyLimit = 10 << 20

// Endpoint is a receiver URL and how it answers. The zero value of each optional field means the
// default (see NewEndpoint).
type Endpoint struct {
	ID                  string
	Name                string
	Enabled             bool
	ResponseStatus      int
	ResponseBody        []byte
	ResponseContentType string
	BodyLimit           int64
	Notes               string
	VerifyScheme        Scheme
	VerifyMode          VerifyMode
	Settings            Settings
	CreatedAt           time.Time
	UpdatedAt           time.Time
	DeletedAt           time.Time // zero unless deleted
}

// Deleted reports whether the endpoint was deleted (its URL answers 410).
func (e *Endpoint) Deleted() bool { return !e.DeletedAt.IsZero() }

// NewEndpointID returns a fresh unguessable endpoint id: 128 random bits, URL-safe base64. It never
// starts with '-', which a command line would read as a flag (`hooktray endpoints disable -x…`).
func NewEndpointID() string {
	for {
		var b [16]byte
		if _, err := rand.Read(b[:]); err != nil {
			panic(fmt.Sprintf("crypto/rand failed: %v", err)) // never happens on supported systems
		}
		if id := base64.RawURLEncoding.EncodeToString(b[:]); id[0] != '-' {
			return id
		}
	}
}

// NewEndpoint returns an enabled endpoint with a fresh id and the default response.
func NewEndpoint(name string) Endpoint {
	return Endpoint{
		ID:                  NewEndpointID(),
		Name:                name,
		Enabled:             true,
		ResponseStatus:      200,
		ResponseBody:        []byte(`{"ok":true}`),
		ResponseContentType: "application/json",
		BodyLimit:           DefaultBodyLimit,
		VerifyMode:          VerifyOff,
		Settings:            DefaultSettings(),
	}
}

// Notify choices: when the desktop app notifies about an endpoint's events.
const (
	NotifyEvery  = "every"  // every accepted event
	NotifyAlerts = "alerts" // events whose type is one of the endpoint's alert types
	NotifyNever  = "never"
)

// Settings are an endpoint's preferences kept as JSON, so features can add to them without a
// migration. Unknown keys written by a newer version are kept.
type Settings struct {
	NotifyOn   string   `json:"notify_on"`
	AlertTypes []string `json:"alert_types"`
	Verify     VerifySettings
	// Route makes this endpoint a router: requests go to the endpoints whose Keys hold the value
	// found by the key path, or the query parameter, as Homey's webhook forwarding does.
	Route RouteSettings
	// Keys are this endpoint's values for routers ($key / $keys).
	Keys []string
	// TypePath names where this endpoint's providers put the event type, as a key path
	// (body.alarm_type, headers['X-Event']); "" uses the providers' usual places.
	TypePath string
	// Responses are the response rules, in order; ResponseSeed seeds their rand() (0: a seed
	// drawn at start), so a simulation can be repeated.
	Responses    []ResponseRule
	ResponseSeed int64
	extra        map[string]json.RawMessage
}

// RouteSettings choose where a router reads the routing value.
type RouteSettings struct {
	KeyPath    string `json:"key_path,omitempty"`    // e.g. headers['X-Device-Id'], body.device_id
	QueryParam string `json:"query_param,omitempty"` // e.g. homey
}

// VerifySettings are the scheme parameters beyond scheme and mode (which have their own columns).
type VerifySettings struct {
	WindowSeconds int    `json:"window_seconds,omitempty"` // 0: the scheme's default (300 s)
	Header        string `json:"header,omitempty"`         // hmac, shared-secret
	Prefix        string `json:"prefix,omitempty"`         // hmac
	Algorithm     string `json:"algorithm,omitempty"`      // hmac: sha1, sha256, sha512
	Encoding      string `json:"encoding,omitempty"`       // hmac: hex, base64
}

// DefaultSettings notify on alerts, where an alert is an ALERT or ANOMALY event (the types an
// alarm cloud sends besides STATUS).
func DefaultSettings() Settings {
	return Settings{NotifyOn: NotifyAlerts, AlertTypes: []string{"ALERT", "ANOMALY"}}
}

// IsAlert reports whether an event type is one of the alert types (case-insensitively).
func (s Settings) IsAlert(eventType string) bool {
	for _, t := range s.AlertTypes {
		if strings.EqualFold(t, eventType) && eventType != "" {
			return true
		}
	}
	return false
}

// MarshalJSON writes the settings with any keys a newer version added, so they survive.
func (s Settings) MarshalJSON() ([]byte, error) {
	m := map[string]any{}
	for k, v := range s.extra {
		m[k] = v
	}
	m["notify_on"] = s.NotifyOn
	m["alert_types"] = s.AlertTypes
	if s.Verify != (VerifySettings{}) {
		m["verify"] = s.Verify
	}
	if s.Route != (RouteSettings{}) {
		m["route"] = s.Route
	}
	if len(s.Keys) > 0 {
		m["keys"] = s.Keys
	}
	if s.TypePath != "" {
		m["type_path"] = s.TypePath
	}
	if len(s.Responses) > 0 {
		m["response_rules"] = s.Responses
	}
	if s.ResponseSeed != 0 {
		m["response_seed"] = s.ResponseSeed
	}
	return json.Marshal(m)
}

// UnmarshalJSON reads settings; what is missing or unreadable takes its default, and keys this
// version does not know are kept.
func (s *Settings) UnmarshalJSON(b []byte) error {
	*s = DefaultSettings()
	var m map[string]json.RawMessage
	if json.Unmarshal(b, &m) != nil {
		return nil
	}
	if v, ok := m["notify_on"]; ok {
		json.Unmarshal(v, &s.NotifyOn)
	}
	if v, ok := m["alert_types"]; ok {
		json.Unmarshal(v, &s.AlertTypes)
	}
	if v, ok := m["verify"]; ok {
		json.Unmarshal(v, &s.Verify)
	}
	if v, ok := m["route"]; ok {
		json.Unmarshal(v, &s.Route)
	}
	if v, ok := m["keys"]; ok {
		json.Unmarshal(v, &s.Keys)
	}
	if v, ok := m["type_path"]; ok {
		json.Unmarshal(v, &s.TypePath)
	}
	if v, ok := m["response_rules"]; ok {
		json.Unmarshal(v, &s.Responses)
	}
	if v, ok := m["response_seed"]; ok {
		json.Unmarshal(v, &s.ResponseSeed)
	}
	delete(m, "notify_on")
	delete(m, "alert_types")
	delete(m, "verify")
	delete(m, "route")
	delete(m, "keys")
	delete(m, "type_path")
	delete(m, "response_rules")
	delete(m, "response_seed")
	if len(m) > 0 {
		s.extra = m
	}
	return nil
}
