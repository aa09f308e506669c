package hook

import "time"

// SubscriptionStatus is where a subscription's registration at its provider stands.
type SubscriptionStatus string

// Subscription statuses, as the API spells them.
const (
	SubscriptionRegistered   SubscriptionStatus = "registered"
	SubscriptionPending      SubscriptionStatus = "pending" // waiting for a public (https) URL, or for its first try
	SubscriptionFailed       SubscriptionStatus = "failed"
	SubscriptionUnregistered SubscriptionStatus = "unregistered"
)

// Subscription is the registration of an endpoint's public URL at a provider's API, which
// Hooktray creates, checks, updates and removes. Settings hold the provider's fields without the
// secret ones, which are sealed apart.
type Subscription struct {
	ID            string
	EndpointID    string
	Provider      string
	Enabled       bool
	Settings      map[string]any
	RemoteID      string
	RegisteredURL string
	Status        SubscriptionStatus
	LastError     string
	LastCheckedAt time.Time
	CreatedAt     time.Time
	UpdatedAt     time.Time
	// Forced is the last time the provider's registration was forced from another URL to
	// Hooktray's (seed 000: "the integration will force the webhook URL to update"); nil when
	// never.
	Forced *ForcedUpdate
}

// ForcedUpdate is a registration forced from another URL to Hooktray's.
type ForcedUpdate struct {
	From string // "" when the provider did not say which URL it held
	To   string
	At   time.Time
}

// SubscriptionChange holds subscription fields to set; nil fields stay as they are. Settings are
// merged key by key; a secret given is sealed, and null removes a key.
type SubscriptionChange struct {
	EndpointID *string        `json:"endpoint_id,omitempty"`
	Provider   *string        `json:"provider,omitempty"`
	Enabled    *bool          `json:"enabled,omitempty"`
	Settings   map[string]any `json:"settings,omitempty"`
}

// FieldKind is the type of a provider setting.
type FieldKind int

// Field kinds.
const (
	FieldText FieldKind = iota
	FieldBool
	FieldList    // a list of strings
	FieldNumbers // a list of integers
	FieldNumber
)

// ProviderField describes one setting of a subscription's provider: its JSON key, how to ask for
// it, and whether it is a secret (sealed at rest, write-only in the API, masked in the app).
type ProviderField struct {
	Key      string
	Label    string
	Help     string // where the user finds the value
	Kind     FieldKind
	Secret   bool
	Required bool
	Default  any
}
