// Package apijson holds the admin API's JSON shapes and the conversions of domain values into
// them, shared by the API's handlers, the CLI that reads them and exports that write them.
package apijson

import (
	"encoding/base64"
	"maps"
	"strconv"
	"time"
	"unicode/utf8"

	"github.com/hooktray/hooktray/hook"
	"github.com/hooktray/hooktray/tunnel"
)

// TimeFormat is RFC 3339 in UTC with nanoseconds, fixed width so the strings sort by time.
const TimeFormat = "2006-01-02T15:04:05.000000000Z07:00"

// ListBodyLimit is the largest body an event list carries; larger ones are left out of lists and
// marked body_truncated (GET /events/{id} always has the whole body).
const ListBodyLimit = 64 << 10

// Status is GET /api/v1/status.
type Status struct {
	Version   string       `json:"version"`
	Receiver  string       `json:"receiver"`
	PublicURL *string      `json:"public_url"`
	Tunnel    TunnelStatus `json:"tunnel"`
	DataDir   string       `json:"data_dir"`
	// Secrets says where the master key of stored secrets is: "keychain", or "file" (the data
	// dir's master-key file, where no keychain is available).
	Secrets string `json:"secrets"`
	// SecretsError names the endpoints whose stored secrets cannot be read and how to mend it.
	SecretsError *string `json:"secrets_error"`
	// StorageError says the database was found damaged since start (null: no damage seen).
	StorageError *string `json:"storage_error"`
	// JournalDamage says acknowledged webhooks could not be read from the ingest journal a crash
	// left (null: none), until the user clears the folder it names.
	JournalDamage *JournalDamage `json:"journal_damage"`
	// SearchBacklog is how many stored events full-text search does not find yet: indexing
	// yields to a burst of webhooks and catches up after it.
	SearchBacklog int64 `json:"search_backlog"`
	// Stopped lists the forwarding targets that deliver nothing now, and why.
	Stopped []StoppedTarget `json:"stopped_targets"`
	// Inbox is the always-on inbox (null when none is set up).
	Inbox *Inbox `json:"inbox"`
}

// StoppedTarget is a forwarding target that delivers nothing now.
type StoppedTarget struct {
	ID         string  `json:"id"`
	EndpointID string  `json:"endpoint_id"`
	Kind       string  `json:"kind"`
	State      string  `json:"state"` // off, paused (its breaker is open) or disabled (it answered 410)
	Reason     *string `json:"reason"`
}

// JournalDamage is status.journal_damage.
type JournalDamage struct {
	Unreadable int    `json:"unreadable"` // acknowledged webhooks that could not be read
	Notes      int    `json:"notes"`      // damaged or missing segments, one note each
	Folder     string `json:"folder"`     // where the damaged files and their notes are
	FoundNow   bool   `json:"found_now"`  // found at this start (false: at an earlier one)
	Message    string `json:"message"`
}

// JournalDamageJSON is d for status, or nil when there is none.
func JournalDamageJSON(d hook.JournalDamage) *JournalDamage {
	if !d.Damaged() {
		return nil
	}
	return &JournalDamage{Unreadable: d.Unreadable, Notes: d.Notes, Folder: d.Folder, FoundNow: d.FoundNow, Message: d.Sentence()}
}

// TunnelStatus is the tunnel part of Status.
type TunnelStatus struct {
	Mode  string  `json:"mode"`
	State string  `json:"state"`
	URL   *string `json:"url"`
	Error *string `json:"error"`
	// Reachable is whether the last probe through the public URL came back (null: not probed).
	Reachable  *bool   `json:"reachable"`
	RTTMS      *int64  `json:"rtt_ms,omitempty"`
	ProbeError *string `json:"probe_error,omitempty"`
	// Install is the progress and outcome of the last download of cloudflared.
	Install Install `json:"install"`
	// Cloudflared is the binary in use (null when none is found or needed).
	Cloudflared *Cloudflared `json:"cloudflared"`
	// CloudflaredMissing is true when the tunnel needs cloudflared and none was found: POST
	// /api/v1/tunnel/cloudflared/install provides one.
	CloudflaredMissing bool `json:"cloudflared_missing"`
}

// Install is status.tunnel.install: a download of cloudflared.
type Install struct {
	State   string  `json:"state"` // idle | downloading | installed | failed
	Done    int64   `json:"done"`
	Total   int64   `json:"total"`
	Version *string `json:"version"`
	Error   *string `json:"error"`
}

// Cloudflared is status.tunnel.cloudflared: the binary in use and whether a newer one exists.
type Cloudflared struct {
	Path            string  `json:"path"`
	Version         string  `json:"version"`
	Latest          *string `json:"latest"`
	UpdateAvailable bool    `json:"update_available"`
	Warning         *string `json:"warning"`
}

// TunnelSettings is GET|PATCH /api/v1/tunnel. The token is never returned.
type TunnelSettings struct {
	Mode      string  `json:"mode"`
	PublicURL *string `json:"public_url"`
	HasToken  bool    `json:"has_token"`
}

// TunnelChange is the body of PATCH /api/v1/tunnel; absent fields stay as they are.
type TunnelChange struct {
	Mode      *string `json:"mode"`
	PublicURL *string `json:"public_url"`
	Token     *string `json:"token"` // write-only; "" removes the stored token
}

// InstallRequest is the optional body of POST /api/v1/tunnel/cloudflared/install.
type InstallRequest struct {
	Version string `json:"version"` // "" installs the newest release
}

// Endpoint is an endpoint as the API shows it. It never carries a secret.
type Endpoint struct {
	ID                  string  `json:"id"`
	Name                string  `json:"name"`
	Enabled             bool    `json:"enabled"`
	URL                 string  `json:"url"`
	PublicURL           *string `json:"public_url"`
	Verify              Verify  `json:"verify"`
	ResponseStatus      int     `json:"response_status"`
	ResponseBody        string  `json:"response_body"`
	ResponseContentType string  `json:"response_content_type"`
	BodyLimit           int64   `json:"body_limit"`
	Notes               string  `json:"notes"`
	// Route makes the endpoint a router (null: it is not): a request goes to the endpoints
	// whose keys hold the value of query_param (first) or key_path.
	Route *Route `json:"route"`
	// Keys are the endpoint's values for routers (Homey's $key / $keys).
	Keys []string `json:"keys"`
	// TypePath is where its providers put the event type ("": the usual places).
	TypePath string `json:"type_path"`
	// ResponseRules answer requests in their stead when their condition holds (first match).
	ResponseRules []hook.ResponseRule `json:"response_rules"`
	// ResponseSeed seeds the rules' rand() (0: drawn at start).
	ResponseSeed int64     `json:"response_seed"`
	NotifyOn     string    `json:"notify_on"`
	AlertTypes   []string  `json:"alert_types"`
	CreatedAt    time.Time `json:"created_at"`
	UpdatedAt    time.Time `json:"updated_at"`
}

// Route is endpoint.route.
type Route struct {
	KeyPath    string `json:"key_path"`
	QueryParam string `json:"query_param"`
}

// Verify is an endpoint's signature scheme and mode, and the scheme's parameters. The secret is
// never in it.
type Verify struct {
	Scheme        string `json:"scheme"`
	Mode          string `json:"mode"`
	WindowSeconds int    `json:"window_seconds,omitempty"`
	Header        string `json:"header,omitempty"`
	Prefix        string `json:"prefix,omitempty"`
	Algorithm     string `json:"algorithm,omitempty"`
	Encoding      string `json:"encoding,omitempty"`
}

// EndpointList is GET /api/v1/endpoints.
type EndpointList struct {
	Endpoints []Endpoint `json:"endpoints"`
}

// Event is an event as the API shows it. Lists and the live stream leave out what they must
// (see the field comments); GET /api/v1/events/{id} has everything.
type Event struct {
	ID         int64  `json:"id"`
	EndpointID string `json:"endpoint_id"`
	ReceivedAt string `json:"received_at"`
	Method     string `json:"method"`
	Path       string `json:"path"`
	Query      string `json:"query"`
	// QueryEncoding is "base64" when the query was not UTF-8: Query then holds its bytes in base64.
	QueryEncoding string              `json:"query_encoding,omitempty"`
	Headers       map[string][]string `json:"headers,omitempty"` // not in the live stream
	// HeaderEncoding names the headers with a value that is not UTF-8; every value of such a
	// header is given in base64, so the exact bytes received survive JSON.
	HeaderEncoding map[string]string `json:"header_encoding,omitempty"`
	Body           *string           `json:"body,omitempty"` // absent when not kept or not loaded
	BodyEncoding   string            `json:"body_encoding,omitempty"`
	// BodyTruncated is true in lists when the body was too large to include.
	BodyTruncated bool         `json:"body_truncated,omitempty"`
	Size          int64        `json:"size"`
	Status        string       `json:"status"`
	Reason        string       `json:"reason,omitempty"`
	Verification  Verification `json:"verification"`
	Type          *string      `json:"type"`
	ClientIP      string       `json:"client_ip"`
	RemoteAddr    string       `json:"remote_addr"`
	DeliveryID    *string      `json:"delivery_id"`
	DuplicateOf   *int64       `json:"duplicate_of,omitempty"`
	// InboxSeq is set on an event that came through the always-on inbox: its sequence there
	// (received_at is then when it reached the inbox).
	InboxSeq       *int64 `json:"inbox_seq,omitempty"`
	ResponseStatus int    `json:"response_status"`
	// AnsweredBy names the response rule that answered (null: the endpoint's response).
	AnsweredBy *string `json:"answered_by"`
	Decrypted  *string `json:"decrypted,omitempty"`
}

// Verification is an event's signature verdict.
type Verification struct {
	Scheme string `json:"scheme"`
	Result string `json:"result"`
	Reason string `json:"reason"`
}

// EventList is GET /api/v1/events. Next is the cursor for the following (older) page.
type EventList struct {
	Events []Event `json:"events"`
	Next   *string `json:"next"`
}

// Missed is the live stream's "missed" message: the subscriber fell behind and should reload.
type Missed struct {
	Missed int `json:"missed"`
}

// ReplayResult is POST /api/v1/events/{id}/replay.
type ReplayResult struct {
	To         string `json:"to"`
	Status     int    `json:"status"`
	DurationMS int64  `json:"duration_ms"`
	Body       string `json:"body"`
}

// SecretAnswer is the answer of rotate-secret and reveal-secret.
type SecretAnswer struct {
	Secret           string `json:"secret"`
	PreviousValidFor string `json:"previous_valid_for,omitempty"`
}

// Error is every error response.
type Error struct {
	Error string `json:"error"`
	Field string `json:"field,omitempty"` // the invalid field, for validation errors
}

// Optional is s, or null when it is empty.
func Optional(s string) *string {
	if s == "" {
		return nil
	}
	return &s
}

// EventJSON converts a stored event. bodyLimit caps the body carried (-1: no cap).
func EventJSON(ev hook.Event, bodyLimit int) Event {
	out := Event{
		ID:             ev.ID,
		EndpointID:     ev.EndpointID,
		ReceivedAt:     ev.ReceivedAt.UTC().Format(TimeFormat),
		Method:         ev.Method,
		Path:           ev.Path,
		Query:          ev.Query,
		Size:           ev.Size,
		Status:         ev.Status.String(),
		Reason:         ev.Reason,
		Verification:   Verification{Scheme: string(ev.Verification.Scheme), Result: string(ev.Verification.Result), Reason: ev.Verification.Reason},
		Type:           Optional(ev.Type),
		ClientIP:       ev.ClientIP,
		RemoteAddr:     ev.RemoteAddr,
		DeliveryID:     Optional(ev.DeliveryID),
		ResponseStatus: ev.ResponseStatus,
	}
	if out.Verification.Result == "" {
		out.Verification.Result = string(hook.ResultSkipped)
	}
	if !utf8.ValidString(ev.Query) {
		out.Query, out.QueryEncoding = base64.StdEncoding.EncodeToString([]byte(ev.Query)), "base64"
	}
	if ev.Header != nil {
		out.Headers, out.HeaderEncoding = encodeHeaders(ev.Header)
	}
	if ev.InboxSeq != 0 {
		out.InboxSeq = &ev.InboxSeq
	}
	out.AnsweredBy = Optional(ev.AnsweredBy)
	if ev.DuplicateOf != 0 {
		out.DuplicateOf = &ev.DuplicateOf
	}
	if ev.Body != nil {
		if bodyLimit >= 0 && len(ev.Body) > bodyLimit {
			out.BodyTruncated = true
		} else {
			body, enc := encodeBody(ev.Body)
			out.Body, out.BodyEncoding = &body, enc
		}
	}
	if ev.Decrypted != nil {
		d := string(ev.Decrypted)
		out.Decrypted = &d
	}
	return out
}

// encodeBody returns the body as a JSON string: as is when it is UTF-8, else base64.
func encodeBody(b []byte) (string, string) {
	if utf8.Valid(b) {
		return string(b), ""
	}
	return base64.StdEncoding.EncodeToString(b), "base64"
}

// encodeHeaders returns h as it goes into JSON: as is, or, when a header has a value that is not
// UTF-8, a copy with that header's values in base64 and the header named in the encoding map.
func encodeHeaders(h map[string][]string) (map[string][]string, map[string]string) {
	var enc map[string]string
	out := h
	for name, values := range h {
		valid := true
		for _, v := range values {
			valid = valid && utf8.ValidString(v)
		}
		if valid {
			continue
		}
		if enc == nil {
			enc, out = map[string]string{}, maps.Clone(h)
		}
		encoded := make([]string, len(values))
		for i, v := range values {
			encoded[i] = base64.StdEncoding.EncodeToString([]byte(v))
		}
		out[name], enc[name] = encoded, "base64"
	}
	return out, enc
}

// DecodeHeaders is the inverse of the header encoding: the exact values received.
func (e *Event) DecodeHeaders() map[string][]string {
	if len(e.HeaderEncoding) == 0 {
		return e.Headers
	}
	out := maps.Clone(e.Headers)
	for name := range e.HeaderEncoding {
		decoded := make([]string, len(out[name]))
		for i, v := range out[name] {
			b, err := base64.StdEncoding.DecodeString(v)
			if err != nil {
				b = []byte(v)
			}
			decoded[i] = string(b)
		}
		out[name] = decoded
	}
	return out
}

// DecodeQuery is the inverse of the query encoding.
func (e *Event) DecodeQuery() string {
	if e.QueryEncoding == "base64" {
		if b, err := base64.StdEncoding.DecodeString(e.Query); err == nil {
			return string(b)
		}
	}
	return e.Query
}

// DecodeBody is the inverse of the body encoding: the exact bytes received.
func (e *Event) DecodeBody() ([]byte, error) {
	if e.Body == nil {
		return nil, nil
	}
	if e.BodyEncoding == "base64" {
		return base64.StdEncoding.DecodeString(*e.Body)
	}
	return []byte(*e.Body), nil
}

// Cursor is the next-page cursor for id, or null when there is no next page.
func Cursor(id int64) *string {
	if id == 0 {
		return nil
	}
	s := strconv.FormatInt(id, 10)
	return &s
}

// TunnelJSON is the tunnel part of the status; reachability counts only for the current URL.
func TunnelJSON(t tunnel.Status, r tunnel.Reachability, in tunnel.InstallStatus, b tunnel.Binary, missing bool) TunnelStatus {
	out := TunnelStatus{Mode: string(t.Mode), State: string(t.State), URL: Optional(t.URL), Error: Optional(t.Error),
		Install:            Install{State: string(in.State), Done: in.Done, Total: in.Total, Version: Optional(in.Version), Error: Optional(in.Error)},
		CloudflaredMissing: missing}
	if b.Path != "" {
		out.Cloudflared = &Cloudflared{Path: b.Path, Version: b.Version, Latest: Optional(b.Latest), UpdateAvailable: b.UpdateAvailable, Warning: Optional(b.Warning)}
	}
	if t.State == tunnel.StateOnline && !r.Checked.IsZero() && r.URL == t.URL {
		out.Reachable = &r.Reachable
		if r.Reachable {
			ms := r.RTT.Milliseconds()
			out.RTTMS = &ms
		}
		out.ProbeError = Optional(r.Error)
	}
	return out
}

// Inbox is the always-on inbox as status and GET /api/v1/inbox show it (null when none is set).
type Inbox struct {
	URL         string     `json:"url"`
	Account     *string    `json:"account"` // set up by Hooktray on this Cloudflare account (null: used by URL)
	Script      *string    `json:"script"`
	Connected   bool       `json:"connected"`
	Waiting     int64      `json:"waiting"`
	Bytes       int64      `json:"bytes"`
	OldestAt    *time.Time `json:"oldest_at"`
	LastDrainAt *time.Time `json:"last_drain_at"`
	Drained     int64      `json:"drained"`
	Error       *string    `json:"error"`
	Step        *string    `json:"step"` // the set-up's step while it runs
	Cap         InboxCap   `json:"cap"`
}

// InboxCap is what the inbox holds at most before it answers 507.
type InboxCap struct {
	Requests int64 `json:"requests"`
	Bytes    int64 `json:"bytes"`
}

// InboxSetup is POST /api/v1/inbox/setup's body: the Cloudflare token, account and Worker name.
type InboxSetup struct {
	Token   string    `json:"token"`
	Account string    `json:"account"`
	Script  string    `json:"script,omitempty"`
	Cap     *InboxCap `json:"cap,omitempty"`
}

// InboxUse is POST /api/v1/inbox/use's body: an inbox that already runs, and its secret.
type InboxUse struct {
	URL    string    `json:"url"`
	Secret string    `json:"secret"`
	Cap    *InboxCap `json:"cap,omitempty"`
}
