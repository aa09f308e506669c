package apijson

import (
	"time"

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
	Parallel            int                       `json:"parallel"`
	Sign                *TargetSign               `json:"sign"`
	HomeAssistant       *hook.HomeAssistantTarget `json:"home_assistant"`
	Command             *hook.CommandTarget       `json:"command"`
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
		RateLimitPerMinute: t.RateLimitPerMinute, EventTypes: t.EventTypes, Parallel: t.Parallel,
		HomeAssistant: t.HomeAssistant, Command: t.Command, State: string(t.State), StateReason: Optional(t.StateReason),
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
