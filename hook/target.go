package hook

import (
	"fmt"
	"net/url"
	"path"
	"slices"
	"strings"
	"time"
)

// TargetKind is what a target delivers to.
type TargetKind string

// Target kinds, as the API spells them.
const (
	TargetHTTP          TargetKind = "http"
	TargetHomeAssistant TargetKind = "home-assistant"
	TargetCommand       TargetKind = "command"
	TargetMQTT          TargetKind = "mqtt"
)

// Title is the kind's name in words.
func (k TargetKind) Title() string {
	switch k {
	case TargetHTTP:
		return "HTTP URL"
	case TargetHomeAssistant:
		return "Home Assistant"
	case TargetCommand:
		return "Program"
	case TargetMQTT:
		return "MQTT broker"
	}
	return string(k)
}

// TargetKinds are the target kinds, in the order forms offer them.
var TargetKinds = []TargetKind{TargetHTTP, TargetHomeAssistant, TargetCommand, TargetMQTT}

// TargetState is a target's health as the delivery engine sees it.
type TargetState string

// Target states.
const (
	TargetActive   TargetState = "active"
	TargetPaused   TargetState = "paused"   // circuit breaker open, or paused by the user
	TargetDisabled TargetState = "disabled" // turned off, or the target answered 410 Gone
)

// Defaults of a target, as Homecast's deliveries (seed 003) have them, but the rate limit: 60 a
// minute is what Homecast's sender allows itself, not a good default for a local target (a burst
// of 100 sensor events would take 100 s). A target has none unless the user sets one.
const (
	DefaultTargetTimeout   = 30 * time.Second
	DefaultMaxRetries      = 3
	DefaultRateLimit       = 0 // deliveries per minute; 0: no limit
	BreakerThreshold       = 5 // consecutive failures that open the circuit breaker
	BreakerCooldown        = 60 * time.Second
	MaxTargetTimeout       = 10 * time.Minute
	maxRetriesLimit        = 50
	maxRateLimitPerMinute  = 600000 // 10,000 a second: a token bucket keeps any limit in O(1)
	maxParallelPerTarget   = 32
	maxScheduleEntries     = 32
	maxScheduleStepSeconds = 24 * 3600
)

// DefaultRetrySchedule is the wait before each retry after the immediate first attempt.
var DefaultRetrySchedule = []time.Duration{time.Second, 2 * time.Second, 4 * time.Second, 8 * time.Second, 16 * time.Second}

// Target is where an endpoint's events are forwarded.
type Target struct {
	ID                 string
	EndpointID         string
	Kind               TargetKind
	Enabled            bool
	URL                string // http
	Method             string // "" sends the original method
	Headers            map[string]string
	Timeout            time.Duration
	MaxRetries         int
	RetrySchedule      []time.Duration
	RateLimitPerMinute int      // 0: no limit
	EventTypes         []string // "*" matches every event
	// When is a rule (CEL) beside the event types: only events for which it is true get a
	// delivery. "" lets every event of those types through.
	When string
	// Transform reshapes what is sent; nil sends the event's body as it came.
	Transform     *Transform
	Parallel      int    // deliveries in flight at once; 1 keeps the order of arrival
	SignScheme    Scheme // "" sends unsigned; the secret is sealed apart
	HomeAssistant *HomeAssistantTarget
	Command       *CommandTarget
	MQTT          *MQTTTarget

	State               TargetState
	StateReason         string
	ConsecutiveFailures int
	LastError           string
	PausedUntil         time.Time // when the open breaker lets one delivery through
	CreatedAt           time.Time
	UpdatedAt           time.Time
}

// Transform is a target's reshaping: Body is a rule whose value is the body sent (a map or a
// list as JSON, a string as text), Headers rules whose string values are headers added. The
// delivery keeps its id; retries and re-signing apply to what the transform made.
type Transform struct {
	Body    string            `json:"body,omitempty"`
	Headers map[string]string `json:"headers,omitempty"`
}

// Empty reports whether the transform changes nothing.
func (t *Transform) Empty() bool { return t == nil || t.Body == "" && len(t.Headers) == 0 }

// HomeAssistantTarget is a mobile_app registration (seed 004): the URLs are tried in the order
// cloudhook, remote UI, instance.
type HomeAssistantTarget struct {
	WebhookID    string `json:"webhook_id"`
	CloudhookURL string `json:"cloudhook_url"`
	RemoteUIURL  string `json:"remote_ui_url"`
	InstanceURL  string `json:"instance_url"`
	Encrypt      bool   `json:"encrypt"`
	// Registered: Hooktray registered itself with the instance as a mobile_app device (with an
	// access token it keeps, sealed), so it can register again when the registration is deleted.
	Registered bool `json:"registered"`
}

// Hop is one URL of a Home Assistant target's fallback chain, with its name for people.
type Hop struct {
	Name string // "cloudhook", "remote UI URL", "instance URL"
	URL  string
}

// Hops is the fallback chain, in the order Home Assistant asks for (seed 004).
func (h HomeAssistantTarget) Hops() []Hop {
	var out []Hop
	if h.CloudhookURL != "" {
		out = append(out, Hop{"cloudhook", h.CloudhookURL})
	}
	for _, base := range []Hop{{"remote UI URL", h.RemoteUIURL}, {"instance URL", h.InstanceURL}} {
		if base.URL != "" {
			out = append(out, Hop{base.Name, strings.TrimRight(base.URL, "/") + "/api/webhook/" + url.PathEscape(h.WebhookID)})
		}
	}
	return out
}

// CommandTarget is a program run for each event, without a shell.
type CommandTarget struct {
	Argv []string `json:"argv"`
	Dir  string   `json:"dir"`
}

// Matches reports whether the target wants events of type typ.
func (t *Target) Matches(typ string) bool {
	for _, p := range t.EventTypes {
		if p == "*" || p == typ {
			return true
		}
		if ok, _ := path.Match(p, typ); ok && typ != "" {
			return true
		}
	}
	return false
}

// Delay is the wait before retry n (1 for the first retry).
func (t *Target) Delay(n int) time.Duration {
	s := t.RetrySchedule
	if len(s) == 0 {
		s = DefaultRetrySchedule
	}
	return s[min(max(n, 1), len(s))-1]
}

// NewTarget returns a target of kind for endpoint with the defaults filled in.
func NewTarget(endpointID string, kind TargetKind) Target {
	return Target{
		ID: NewEndpointID(), EndpointID: endpointID, Kind: kind, Enabled: true,
		Timeout: DefaultTargetTimeout, MaxRetries: DefaultMaxRetries,
		RetrySchedule:      slices.Clone(DefaultRetrySchedule),
		RateLimitPerMinute: DefaultRateLimit, EventTypes: []string{"*"}, Parallel: 1,
		State: TargetActive,
	}
}

// SignChange is a target's re-signing: a scheme and, write-only, its secret.
type SignChange struct {
	Scheme string  `json:"scheme"`
	Secret *string `json:"secret,omitempty"`
}

// HomeAssistantChange is a Home Assistant target's settings and, write-only, the registration
// secret that encrypts its payloads. With Register, Hooktray registers itself as a mobile_app
// device of the instance at InstanceURL with AccessToken (a long-lived access token), and the
// registration gives the webhook id, the secret and the cloud URLs.
type HomeAssistantChange struct {
	HomeAssistantTarget
	Secret      *string `json:"secret,omitempty"`
	Register    bool    `json:"register,omitempty"`
	AccessToken *string `json:"access_token,omitempty"`
}

// CheckRegistration checks what registering needs: the instance URL and, unless one is kept
// already, a long-lived access token.
func (c *HomeAssistantChange) CheckRegistration(haveToken bool) error {
	u, err := url.Parse(strings.TrimSpace(c.InstanceURL))
	switch {
	case err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "":
		return &FieldError{"home_assistant.instance_url", "give the address you open Home Assistant at, such as http://homeassistant.local:8123"}
	case !haveToken && (c.AccessToken == nil || strings.TrimSpace(*c.AccessToken) == ""):
		return &FieldError{"home_assistant.access_token", "give a long-lived access token (in Home Assistant: your profile → Security → Long-lived access tokens → Create token)"}
	}
	return nil
}

// TargetChange holds target fields to set; nil fields stay as they are (or take their default on
// create). Secrets (Sign.Secret, HomeAssistant.Secret) are kept apart, sealed.
type TargetChange struct {
	Kind               *TargetKind          `json:"kind,omitempty"`
	Enabled            *bool                `json:"enabled,omitempty"`
	URL                *string              `json:"url,omitempty"`
	Method             *string              `json:"method,omitempty"`
	Headers            map[string]string    `json:"headers,omitempty"`
	TimeoutMS          *int64               `json:"timeout_ms,omitempty"`
	MaxRetries         *int                 `json:"max_retries,omitempty"`
	RetryScheduleS     []float64            `json:"retry_schedule_s,omitempty"`
	RateLimitPerMinute *int                 `json:"rate_limit_per_minute,omitempty"`
	EventTypes         []string             `json:"event_types,omitempty"`
	When               *string              `json:"when,omitempty"`      // "" removes the filter
	Transform          *Transform           `json:"transform,omitempty"` // {} removes the transform
	Parallel           *int                 `json:"parallel,omitempty"`
	Sign               *SignChange          `json:"sign,omitempty"`
	HomeAssistant      *HomeAssistantChange `json:"home_assistant,omitempty"`
	Command            *CommandTarget       `json:"command,omitempty"`
	MQTT               *MQTTChange          `json:"mqtt,omitempty"`
	// ClearSign removes re-signing (JSON "sign": null is read as this by the API).
	ClearSign bool `json:"-"`
}

// Apply sets the change on t and checks the result, naming the first bad field.
func (c TargetChange) Apply(t *Target) error {
	if c.Kind != nil {
		t.Kind = *c.Kind
	}
	if c.Enabled != nil {
		t.Enabled = *c.Enabled
	}
	if c.URL != nil {
		t.URL = strings.TrimSpace(*c.URL)
	}
	if c.Method != nil {
		t.Method = strings.ToUpper(strings.TrimSpace(*c.Method))
	}
	if c.Headers != nil {
		t.Headers = c.Headers
	}
	if c.TimeoutMS != nil {
		t.Timeout = time.Duration(*c.TimeoutMS) * time.Millisecond
	}
	if c.MaxRetries != nil {
		t.MaxRetries = *c.MaxRetries
	}
	if c.RetryScheduleS != nil {
		t.RetrySchedule = nil
		for _, s := range c.RetryScheduleS {
			if s < 0 || s > maxScheduleStepSeconds {
				return &FieldError{"retry_schedule_s", fmt.Sprintf("each wait must be between 0 and %d seconds", maxScheduleStepSeconds)}
			}
			t.RetrySchedule = append(t.RetrySchedule, time.Duration(s*float64(time.Second)))
		}
	}
	if c.RateLimitPerMinute != nil {
		t.RateLimitPerMinute = *c.RateLimitPerMinute
	}
	if c.EventTypes != nil {
		t.EventTypes = c.EventTypes
	}
	if c.Parallel != nil {
		t.Parallel = *c.Parallel
	}
	if c.When != nil {
		t.When = strings.TrimSpace(*c.When)
	}
	if c.Transform != nil {
		tr := *c.Transform
		if t.Transform = &tr; tr.Empty() {
			t.Transform = nil
		}
	}
	if c.ClearSign {
		t.SignScheme = SchemeNone
	}
	if c.Sign != nil {
		s, err := ParseScheme(c.Sign.Scheme)
		if err != nil {
			return &FieldError{"sign.scheme", err.Error()}
		}
		t.SignScheme = s
	}
	if c.HomeAssistant != nil {
		ha := c.HomeAssistant.HomeAssistantTarget
		t.HomeAssistant = &ha
	}
	if c.Command != nil {
		cmd := *c.Command
		t.Command = &cmd
	}
	if c.MQTT != nil {
		m := c.MQTT.MQTTTarget
		m.Broker, m.Topic, m.ClientID = strings.TrimSpace(m.Broker), strings.TrimSpace(m.Topic), strings.TrimSpace(m.ClientID)
		if m.Topic == "" {
			m.Topic = DefaultMQTTTopic
		}
		t.MQTT = &m
	}
	return t.Validate()
}

// Validate checks a target's fields, naming the first bad one.
func (t *Target) Validate() error {
	if err := t.validateKind(); err != nil {
		return err
	}
	if err := CheckMethod(t.Method); err != nil {
		return field("method", err)
	}
	for k, v := range t.Headers {
		if err := CheckHeader(k, v); err != nil {
			return field("headers", err)
		}
	}
	switch {
	case CheckTimeout(t.Timeout) != nil:
		return field("timeout_ms", CheckTimeout(t.Timeout))
	case CheckMaxRetries(t.MaxRetries) != nil:
		return field("max_retries", CheckMaxRetries(t.MaxRetries))
	case len(t.RetrySchedule) == 0 || len(t.RetrySchedule) > maxScheduleEntries:
		return &FieldError{"retry_schedule_s", fmt.Sprintf("give between 1 and %d waits", maxScheduleEntries)}
	case CheckRateLimit(t.RateLimitPerMinute) != nil:
		return field("rate_limit_per_minute", CheckRateLimit(t.RateLimitPerMinute))
	case len(t.EventTypes) == 0:
		return &FieldError{"event_types", `give at least one event type, or "*" for all`}
	case t.Parallel < 1 || t.Parallel > maxParallelPerTarget:
		return &FieldError{"parallel", fmt.Sprintf("must be between 1 and %d", maxParallelPerTarget)}
	}
	return nil
}

// validateKind checks where the target delivers to, as its kind says.
func (t *Target) validateKind() error {
	switch t.Kind {
	case TargetHTTP:
		return field("url", CheckTargetURL(t.URL))
	case TargetHomeAssistant:
		ha := t.HomeAssistant
		if ha == nil || ha.WebhookID == "" {
			return &FieldError{"home_assistant.webhook_id", "give the webhook id of the mobile_app registration"}
		}
		if ha.CloudhookURL == "" && ha.RemoteUIURL == "" && ha.InstanceURL == "" {
			return &FieldError{"home_assistant.instance_url", "give at least one of cloudhook_url, remote_ui_url, instance_url"}
		}
		for _, f := range []struct{ name, url string }{{"home_assistant.cloudhook_url", ha.CloudhookURL},
			{"home_assistant.remote_ui_url", ha.RemoteUIURL}, {"home_assistant.instance_url", ha.InstanceURL}} {
			if f.url != "" {
				if err := CheckTargetURL(f.url); err != nil {
					return field(f.name, err)
				}
			}
		}
	case TargetCommand:
		if t.Command == nil || len(t.Command.Argv) == 0 || t.Command.Argv[0] == "" {
			return &FieldError{"command.argv", "give the program to run and its arguments, as a list"}
		}
	case TargetMQTT:
		return t.MQTT.validate()
	default:
		return &FieldError{"kind", fmt.Sprintf("unknown target kind %q (want http, home-assistant, command or mqtt)", t.Kind)}
	}
	return nil
}

// DeliveryStatus is where a delivery is in its life (seed 003's states).
type DeliveryStatus string

// Delivery statuses.
const (
	DeliveryPending    DeliveryStatus = "pending"
	DeliverySuccess    DeliveryStatus = "success"
	DeliveryFailed     DeliveryStatus = "failed" // will not be retried (410 Gone)
	DeliveryRetrying   DeliveryStatus = "retrying"
	DeliveryDeadLetter DeliveryStatus = "dead_letter"
)

// ParseDeliveryStatus accepts the API's spelling.
func ParseDeliveryStatus(s string) (DeliveryStatus, error) {
	switch d := DeliveryStatus(s); d {
	case DeliveryPending, DeliverySuccess, DeliveryFailed, DeliveryRetrying, DeliveryDeadLetter:
		return d, nil
	}
	return "", fmt.Errorf("unknown delivery status %q (want pending, success, failed, retrying or dead_letter)", s)
}

// Delivery is one event on its way to one target; its ID stays the same across retries, so the
// target can tell a retry from a new event.
type Delivery struct {
	ID             int64
	EventID        int64
	TargetID       string
	Status         DeliveryStatus
	Attempt        int       // attempts made so far
	NextAt         time.Time // when the next attempt is due (pending, retrying)
	ResponseStatus int       // of the last attempt; 0 when none answered
	Latency        time.Duration
	Error          string
	URL            string // where the last attempt went
	Response       string // the start of the last answer's body
	// Route says how the last attempt went along a fallback chain (Home Assistant): the URLs
	// tried and why each failed, or skipped and why; "" for a single URL.
	Route     string
	Edit      *Edit // a replay's changes to the stored request; nil sends it as stored
	CreatedAt time.Time
	UpdatedAt time.Time
	// Attempts is the delivery's history, oldest first, when read one by one (Store.Delivery).
	Attempts []Attempt
}

// Attempt is one try of a delivery.
type Attempt struct {
	Attempt int // the number it had (counted afresh after a retry by hand)
	At      time.Time
	URL     string
	Status  int // the answer's status, 0 when none came
	Latency time.Duration
	Error   string
	Route   string
}

// Edit changes a stored request before it is sent again (a replay "edited first"): nil fields keep
// the original.
type Edit struct {
	Method  *string             `json:"method,omitempty"`
	Headers map[string][]string `json:"headers,omitempty"` // replaces the original headers
	Body    []byte              `json:"body,omitempty"`    // replaces the body when non-nil
}

// Apply returns ev with the edit made.
func (e *Edit) Apply(ev Event) Event {
	if e == nil {
		return ev
	}
	if e.Method != nil && *e.Method != "" {
		ev.Method = strings.ToUpper(*e.Method)
	}
	if e.Headers != nil {
		ev.Header = e.Headers
	}
	if e.Body != nil {
		ev.Body = e.Body
		if ev.Status == Rejected {
			ev.Status = Accepted // there is something to send now
		}
	}
	return ev
}

// DeliveryQuery selects deliveries, newest first.
type DeliveryQuery struct {
	EventID  int64
	TargetID string
	Status   DeliveryStatus
	Before   int64
	Limit    int
}

// TestResult is what a test webhook came to: where it was sent, how long the receiver took to
// answer, the stored event and the deliveries it queued.
type TestResult struct {
	Event      Event
	SentTo     string
	RoundTrip  time.Duration
	Deliveries []Delivery
}
