package apijson

import (
	"time"

	"github.com/hooktray/hooktray/app/diff"
	"github.com/hooktray/hooktray/app/rules"
	"github.com/hooktray/hooktray/app/shapes"
	"github.com/hooktray/hooktray/hook"
)

// Target is a forwarding target as the API shows it. Its secrets are write-only.
type Target struct {
	ID                  string                    `json:"id"`
	EndpointID          string                    `json:"endpoint_id"`
	Kind                string                    `json:"kind"`
	Enabled             bool                      `json:"enabled"`
	URL                 *string                   `json:"url"`
	Method              *string                   `json:"method"` // null: the original's
	Headers             map[string]string         `json:"headers"`
	TimeoutMS           int64                     `json:"timeout_ms"`
	MaxRetries          int                       `json:"max_retries"`
	RetryScheduleS      []float64                 `json:"retry_schedule_s"`
	RateLimitPerMinute  int                       `json:"rate_limit_per_minute"`
	EventTypes          []string                  `json:"event_types"`
	When                *string                   `json:"when"`      // a rule: only events for which it is true
	Transform           *hook.Transform           `json:"transform"` // rules for the body and headers sent
	Parallel            int                       `json:"parallel"`
	Sign                *TargetSign               `json:"sign"`
	HomeAssistant       *hook.HomeAssistantTarget `json:"home_assistant"`
	Command             *hook.CommandTarget       `json:"command"`
	MQTT                *hook.MQTTTarget          `json:"mqtt"` // its password is write-only
	State               string                    `json:"state"`
	StateReason         *string                   `json:"state_reason"`
	ConsecutiveFailures int                       `json:"consecutive_failures"`
	LastError           *string                   `json:"last_error"`
	PausedUntil         *time.Time                `json:"paused_until"`
	CreatedAt           time.Time                 `json:"created_at"`
	UpdatedAt           time.Time                 `json:"updated_at"`
}

// TargetSign is a target's re-signing scheme (its secret is never returned).
type TargetSign struct {
	Scheme string `json:"scheme"`
}

// TargetList is GET /api/v1/endpoints/{id}/targets.
type TargetList struct {
	Targets []Target `json:"targets"`
}

// TargetJSON is t as the API shows it.
func TargetJSON(t hook.Target) Target {
	out := Target{ID: t.ID, EndpointID: t.EndpointID, Kind: string(t.Kind), Enabled: t.Enabled, URL: Optional(t.URL),
		Method: Optional(t.Method), Headers: t.Headers, TimeoutMS: t.Timeout.Milliseconds(), MaxRetries: t.MaxRetries,
		RateLimitPerMinute: t.RateLimitPerMinute, EventTypes: t.EventTypes, When: Optional(t.When), Transform: t.Transform, Parallel: t.Parallel,
		HomeAssistant: t.HomeAssistant, Command: t.Command, MQTT: t.MQTT, State: string(t.State), StateReason: Optional(t.StateReason),
		ConsecutiveFailures: t.ConsecutiveFailures, LastError: Optional(t.LastError), CreatedAt: t.CreatedAt, UpdatedAt: t.UpdatedAt}
	if out.Headers == nil {
		out.Headers = map[string]string{}
	}
	for _, d := range t.RetrySchedule {
		out.RetryScheduleS = append(out.RetryScheduleS, d.Seconds())
	}
	if t.SignScheme != hook.SchemeNone {
		out.Sign = &TargetSign{Scheme: string(t.SignScheme)}
	}
	if !t.PausedUntil.IsZero() && t.State == hook.TargetPaused {
		p := t.PausedUntil
		out.PausedUntil = &p
	}
	return out
}

// Delivery is one event's way to one target.
type Delivery struct {
	ID             int64      `json:"id"`
	EventID        int64      `json:"event_id"`
	TargetID       string     `json:"target_id"`
	Status         string     `json:"status"`
	Attempt        int        `json:"attempt"`
	NextAt         *time.Time `json:"next_at"`
	ResponseStatus *int       `json:"response_status"`
	LatencyMS      *int64     `json:"latency_ms"`
	Error          *string    `json:"error"`
	URL            *string    `json:"url"`
	Response       *string    `json:"response"`
	// Route says how the last attempt went along a fallback chain: the URLs tried and why each
	// failed, or skipped and why (Home Assistant targets); null for a single URL.
	Route     *string   `json:"route"`
	Edited    bool      `json:"edited"`
	CreatedAt time.Time `json:"created_at"`
	UpdatedAt time.Time `json:"updated_at"`
	// Attempts is the delivery's history, oldest first; only GET /api/v1/deliveries/{id} has it.
	Attempts []Attempt `json:"attempts,omitempty"`
}

// Attempt is one try of a delivery.
type Attempt struct {
	Attempt        int       `json:"attempt"`
	At             time.Time `json:"at"`
	URL            *string   `json:"url"`
	ResponseStatus *int      `json:"response_status"`
	LatencyMS      int64     `json:"latency_ms"`
	Error          *string   `json:"error"`
	Route          *string   `json:"route"`
}

// DeliveryList is GET /api/v1/deliveries and the answer of a replay to targets.
type DeliveryList struct {
	Deliveries []Delivery `json:"deliveries"`
	Next       *string    `json:"next,omitempty"`
}

// DeliveryJSON is d as the API shows it.
func DeliveryJSON(d hook.Delivery) Delivery {
	out := Delivery{ID: d.ID, EventID: d.EventID, TargetID: d.TargetID, Status: string(d.Status), Attempt: d.Attempt,
		Error: Optional(d.Error), URL: Optional(d.URL), Response: Optional(d.Response), Route: Optional(d.Route),
		Edited: d.Edit != nil, CreatedAt: d.CreatedAt, UpdatedAt: d.UpdatedAt}
	for _, a := range d.Attempts {
		j := Attempt{Attempt: a.Attempt, At: a.At, URL: Optional(a.URL), LatencyMS: a.Latency.Milliseconds(),
			Error: Optional(a.Error), Route: Optional(a.Route)}
		if a.Status != 0 {
			status := a.Status
			j.ResponseStatus = &status
		}
		out.Attempts = append(out.Attempts, j)
	}
	if !d.NextAt.IsZero() {
		n := d.NextAt
		out.NextAt = &n
	}
	if d.Attempt > 0 {
		status, ms := d.ResponseStatus, d.Latency.Milliseconds()
		out.LatencyMS = &ms
		if status != 0 {
			out.ResponseStatus = &status
		}
	}
	return out
}

// ReplayRequest is the body of POST /api/v1/events/{id}/replay: where to (a URL, chosen targets,
// or by default the endpoint's targets) and optional edits.
type ReplayRequest struct {
	To           string              `json:"to"`
	Targets      []string            `json:"targets"`
	Method       *string             `json:"method"`
	Headers      map[string][]string `json:"headers"`
	Body         *string             `json:"body"`
	BodyEncoding string              `json:"body_encoding"` // "base64" when body is base64
}

// RetryRequest is the body of POST /api/v1/deliveries/retry.
type RetryRequest struct {
	Target string `json:"target"`
	Status string `json:"status"`
}

// RetryAnswer says how many deliveries were made due again.
type RetryAnswer struct {
	Retried int64 `json:"retried"`
}

// TestResult is POST /api/v1/endpoints/{id}/test: the stored event, the round trip and the
// deliveries it queued.
type TestResult struct {
	Event
	SentTo      string     `json:"sent_to"`
	RoundTripMS int64      `json:"round_trip_ms"`
	Deliveries  []Delivery `json:"deliveries"`
}

// Subscription is the registration of an endpoint's URL at a provider. Its secret settings are
// write-only: Secrets names those that are set.
type Subscription struct {
	ID            string         `json:"id"`
	EndpointID    string         `json:"endpoint_id"`
	Provider      string         `json:"provider"`
	Enabled       bool           `json:"enabled"`
	Settings      map[string]any `json:"settings"`
	Secrets       []string       `json:"secrets_set"`
	RemoteID      *string        `json:"remote_id"`
	RegisteredURL *string        `json:"registered_url"`
	Status        string         `json:"status"`
	LastError     *string        `json:"last_error"`
	LastCheckedAt *time.Time     `json:"last_checked_at"`
	CreatedAt     time.Time      `json:"created_at"`
	UpdatedAt     time.Time      `json:"updated_at"`
	// ForcedUpdate is the last time the provider's registration was forced from another URL to
	// Hooktray's (null: never).
	ForcedUpdate *ForcedUpdate `json:"forced_update"`
}

// ForcedUpdate is subscription.forced_update.
type ForcedUpdate struct {
	From *string   `json:"from"` // null when the provider did not say which URL it held
	To   string    `json:"to"`
	At   time.Time `json:"at"`
}

// SubscriptionList is GET /api/v1/subscriptions.
type SubscriptionList struct {
	Subscriptions []Subscription `json:"subscriptions"`
}

// SubscriptionJSON is s as the API shows it; secrets lists the secret settings that are set.
func SubscriptionJSON(s hook.Subscription, secrets []string) Subscription {
	out := Subscription{ID: s.ID, EndpointID: s.EndpointID, Provider: s.Provider, Enabled: s.Enabled, Settings: s.Settings,
		Secrets: secrets, RemoteID: Optional(s.RemoteID), RegisteredURL: Optional(s.RegisteredURL), Status: string(s.Status),
		LastError: Optional(s.LastError), CreatedAt: s.CreatedAt, UpdatedAt: s.UpdatedAt}
	if out.Settings == nil {
		out.Settings = map[string]any{}
	}
	if out.Secrets == nil {
		out.Secrets = []string{}
	}
	if !s.LastCheckedAt.IsZero() {
		t := s.LastCheckedAt
		out.LastCheckedAt = &t
	}
	if f := s.Forced; f != nil {
		out.ForcedUpdate = &ForcedUpdate{From: Optional(f.From), To: f.To, At: f.At}
	}
	return out
}

// RuleTrial is POST /api/v1/rules/try's body: rules to try on an endpoint's last events.
type RuleTrial struct {
	Endpoint  string          `json:"endpoint"`
	Limit     int             `json:"limit,omitempty"` // default 50, at most 200
	When      string          `json:"when,omitempty"`
	Transform *hook.Transform `json:"transform,omitempty"`
	// ResponseRules, when given, are tried instead: which would answer each event, and how.
	ResponseRules *[]hook.ResponseRule `json:"response_rules,omitempty"`
	ResponseSeed  int64                `json:"response_seed,omitempty"`
}

// RuleTrialResults is its answer, newest event first.
type RuleTrialResults struct {
	Results []RuleTrialResult `json:"results"`
}

// RuleTrialResult is what the rules made of one event: whether it matched, the body and headers
// a transform made (output as text, output_type its content type), or the error.
type RuleTrialResult struct {
	EventID    int64             `json:"event_id"`
	Type       *string           `json:"type"`
	Matched    bool              `json:"matched"`
	Output     *string           `json:"output"`
	OutputType *string           `json:"output_type"`
	Headers    map[string]string `json:"headers,omitempty"`
	Error      *string           `json:"error"`
	// A response rules trial: the rule that would answer (null: the endpoint's response) and
	// its status; output is then the rule's body.
	AnsweredBy *string `json:"answered_by,omitempty"`
	Status     *int    `json:"status,omitempty"`
}

// TrialResultJSON is r as the API shows it.
func TrialResultJSON(r rules.TrialResult) RuleTrialResult {
	out := RuleTrialResult{EventID: r.EventID, Type: Optional(r.EventType), Matched: r.Matched, Headers: r.Headers, Error: Optional(r.Error)}
	output := r.Output
	if a := r.Answer; a != nil {
		output, out.AnsweredBy = a.Body, Optional(a.Rule)
		if a.Status != 0 {
			out.Status = &a.Status
		}
	}
	if output != nil {
		body, ct := string(output.Body), output.ContentType
		out.Output, out.OutputType = &body, &ct
	}
	return out
}

// Diff is GET /api/v1/events/diff: how event b differs from event a.
type Diff struct {
	A       int64       `json:"a"`
	B       int64       `json:"b"`
	JSON    bool        `json:"json"` // both bodies are JSON, compared path by path
	Body    []DiffEntry `json:"body"`
	Headers []DiffEntry `json:"headers"`
}

// DiffEntry is one difference: a body's key path (as rules write it; "" the body as a whole) or
// a header's name, added, removed or changed, with each side's value (JSON for a body's).
type DiffEntry struct {
	Path   string  `json:"path"`
	Change string  `json:"change"`
	A      *string `json:"a"`
	B      *string `json:"b"`
}

// DiffJSON is d as the API shows it.
func DiffJSON(a, b int64, d diff.Result) Diff {
	return Diff{A: a, B: b, JSON: d.JSON, Body: entries(d.Body), Headers: entries(d.Headers)}
}

func entries(es []diff.Entry) []DiffEntry {
	out := make([]DiffEntry, 0, len(es))
	for _, e := range es {
		de := DiffEntry{Path: e.Path, Change: string(e.Change)}
		if e.Change != diff.Added {
			de.A = &e.A
		}
		if e.Change != diff.Removed {
			de.B = &e.B
		}
		out = append(out, de)
	}
	return out
}

// Shape is GET /api/v1/endpoints/{id}/shape: what the endpoint's payloads look like, per event
// type (most events first), and how they changed.
type Shape struct {
	Types  []ShapeType  `json:"types"`
	Drifts []ShapeDrift `json:"drifts"`
	// Full: the bound on field paths (10,000) was reached; new paths are not learnt.
	Full bool `json:"full"`
}

// ShapeType is one event type's payloads: each field path (as rules write it, arrays as []),
// the JSON types seen there and in how many of the events learnt from it was present.
type ShapeType struct {
	Type   *string      `json:"type"`
	Events int64        `json:"events"`
	Fields []ShapeField `json:"fields"`
}

// ShapeField is one path of a type's payloads.
type ShapeField struct {
	Path    string           `json:"path"`
	Types   map[string]int64 `json:"types"`
	Present int64            `json:"present"`
}

// ShapeDrift is a change of the payloads: a new type, or a field that was always there missing.
type ShapeDrift struct {
	Kind    string    `json:"kind"` // new_type | field_missing
	Type    *string   `json:"type"`
	Path    *string   `json:"path"`
	EventID int64     `json:"event_id"`
	At      time.Time `json:"at"`
}

// ShapeJSON is e as the API shows it.
func ShapeJSON(e shapes.Endpoint) Shape {
	out := Shape{Types: []ShapeType{}, Drifts: []ShapeDrift{}, Full: e.Full}
	for _, s := range e.Shapes {
		st := ShapeType{Type: Optional(s.Type), Events: s.Events, Fields: make([]ShapeField, 0, len(s.Fields))}
		for _, f := range s.Fields {
			types := make(map[string]int64, len(f.Kinds))
			for k, n := range f.Kinds {
				types[string(k)] = n
			}
			st.Fields = append(st.Fields, ShapeField{Path: f.Path, Types: types, Present: f.Present})
		}
		out.Types = append(out.Types, st)
	}
	for _, d := range e.Drifts {
		out.Drifts = append(out.Drifts, ShapeDrift{Kind: string(d.Kind), Type: Optional(d.Type), Path: Optional(d.Path), EventID: d.EventID, At: d.At.UTC()})
	}
	return out
}
