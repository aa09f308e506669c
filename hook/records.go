package hook

import "time"

// SealedSecret is an endpoint secret as stored: only its AEAD ciphertext, never the secret.
type SealedSecret struct {
	ID         int64
	EndpointID string
	Purpose    string // "signing" for verification secrets
	Nonce      []byte
	Ciphertext []byte
	CreatedAt  time.Time
	ExpiresAt  time.Time // zero: no expiry; set on the previous secret during a rotation's grace
}

// EndpointStats is an endpoint's event count and newest event.
type EndpointStats struct {
	Events int64
	Last   time.Time // zero when none
}

// Arrival counts the events that reached an endpoint in one minute.
type Arrival struct {
	EndpointID string
	At         time.Time // the start of the minute
	Count      int       // arrivals in that minute
}

// TargetHealth is what an attempt changes of its target.
type TargetHealth struct {
	State               TargetState
	StateReason         string
	ConsecutiveFailures int
	LastError           string
	PausedUntil         time.Time
	Enabled             bool
}
