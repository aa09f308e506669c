package storage

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/base64"
	"encoding/json"
	"errors"
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
	VerifyScheme        string
	VerifyMode          string
	Settings            Settings
	CreatedAt           time.Time
	UpdatedAt           time.Time
	DeletedAt           time.Time // zero unless deleted
}

// Deleted reports whether the endpoint was deleted (its URL answers 410).
func (e *Endpoint) Deleted() bool { return !e.DeletedAt.IsZero() }

// NewEndpointID returns a fresh unguessable endpoint id: 128 random bits, URL-safe base64.
func NewEndpointID() string {
	var b [16]byte
	if _, err := rand.Read(b[:]); err != nil {
		panic(fmt.Sprintf("crypto/rand failed: %v", err)) // never happens on supported systems
	}
	return base64.RawURLEncoding.EncodeToString(b[:])
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
		VerifyMode:          "off",
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
	// found by the key path, or the query parameter (Homey's webhook forwarding, seed 001).
	Route RouteSettings
	// Keys are this endpoint's values for routers ($key / $keys).
	Keys []string
	// TypePath names where this endpoint's providers put the event type, as a key path
	// (body.alarm_type, headers['X-Event']); "" uses the providers' usual places.
	TypePath string
	extra    map[string]json.RawMessage
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

func (s Settings) marshal() ([]byte, error) {
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
	return json.Marshal(m)
}

func unmarshalSettings(b []byte) Settings {
	s := DefaultSettings()
	var m map[string]json.RawMessage
	if json.Unmarshal(b, &m) != nil {
		return s
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
	delete(m, "notify_on")
	delete(m, "alert_types")
	delete(m, "verify")
	delete(m, "route")
	delete(m, "keys")
	delete(m, "type_path")
	if len(m) > 0 {
		s.extra = m
	}
	return s
}

const endpointColumns = `id, name, enabled, response_status, response_body, response_content_type,
	body_limit, notes, verify_scheme, verify_mode, settings, created_at, updated_at, deleted_at`

// CreateEndpoint stores a new endpoint. CreatedAt and UpdatedAt are set to now.
func (s *Store) CreateEndpoint(ctx context.Context, e *Endpoint) error {
	now := time.Now().UTC()
	e.CreatedAt, e.UpdatedAt = now, now
	settings, err := e.Settings.marshal()
	if err != nil {
		return fmt.Errorf("create endpoint %q: %w", e.Name, err)
	}
	_, err = s.writer.ExecContext(ctx, `INSERT INTO endpoints (`+endpointColumns+`)
		VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,NULL)`,
		e.ID, e.Name, e.Enabled, e.ResponseStatus, e.ResponseBody, e.ResponseContentType,
		e.BodyLimit, e.Notes, e.VerifyScheme, e.VerifyMode, string(settings), now.UnixNano(), now.UnixNano())
	if err != nil {
		return fmt.Errorf("create endpoint %q: %w", e.Name, err)
	}
	return nil
}

// UpdateEndpoint saves every editable field of e. It returns ErrNotFound for an unknown or
// deleted endpoint.
func (s *Store) UpdateEndpoint(ctx context.Context, e *Endpoint) error {
	now := time.Now().UTC()
	settings, err := e.Settings.marshal()
	if err != nil {
		return fmt.Errorf("update endpoint %s: %w", e.ID, err)
	}
	res, err := s.writer.ExecContext(ctx, `UPDATE endpoints SET name=?, enabled=?, response_status=?,
		response_body=?, response_content_type=?, body_limit=?, notes=?, verify_scheme=?,
		verify_mode=?, settings=?, updated_at=? WHERE id=? AND deleted_at IS NULL`,
		e.Name, e.Enabled, e.ResponseStatus, e.ResponseBody, e.ResponseContentType, e.BodyLimit,
		e.Notes, e.VerifyScheme, e.VerifyMode, string(settings), now.UnixNano(), e.ID)
	if err != nil {
		return fmt.Errorf("update endpoint %s: %w", e.ID, err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return fmt.Errorf("update endpoint %s: %w", e.ID, ErrNotFound)
	}
	e.UpdatedAt = now
	return nil
}

// DeleteEndpoint marks an endpoint deleted; its history stays. ErrNotFound if unknown or already
// deleted.
func (s *Store) DeleteEndpoint(ctx context.Context, id string) error {
	now := time.Now().UTC().UnixNano()
	res, err := s.writer.ExecContext(ctx,
		`UPDATE endpoints SET deleted_at=?, enabled=0, updated_at=? WHERE id=? AND deleted_at IS NULL`, now, now, id)
	if err != nil {
		return fmt.Errorf("delete endpoint %s: %w", id, err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return fmt.Errorf("delete endpoint %s: %w", id, ErrNotFound)
	}
	return nil
}

// Endpoint returns one endpoint, deleted or not; ErrNotFound if the id was never created.
func (s *Store) Endpoint(ctx context.Context, id string) (Endpoint, error) {
	row := s.reader.QueryRowContext(ctx, `SELECT `+endpointColumns+` FROM endpoints WHERE id=?`, id)
	e, err := scanEndpoint(row)
	if errors.Is(err, sql.ErrNoRows) {
		return Endpoint{}, fmt.Errorf("endpoint %s: %w", id, ErrNotFound)
	}
	if err != nil {
		return Endpoint{}, fmt.Errorf("read endpoint %s: %w", id, err)
	}
	return e, nil
}

// AllEndpoints returns every endpoint including deleted ones, oldest first. The hub keeps them in
// memory so the receiver never queries per request.
func (s *Store) AllEndpoints(ctx context.Context) ([]Endpoint, error) {
	// Read through the writer so a caller that just wrote sees its own write.
	rows, err := s.writer.QueryContext(ctx, `SELECT `+endpointColumns+` FROM endpoints ORDER BY created_at, id`)
	if err != nil {
		return nil, fmt.Errorf("list endpoints: %w", err)
	}
	defer rows.Close()
	var out []Endpoint
	for rows.Next() {
		e, err := scanEndpoint(rows)
		if err != nil {
			return nil, fmt.Errorf("list endpoints: %w", err)
		}
		out = append(out, e)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("list endpoints: %w", err)
	}
	return out, nil
}

type scanner interface{ Scan(dest ...any) error }

func scanEndpoint(r scanner) (Endpoint, error) {
	var e Endpoint
	var created, updated int64
	var deleted sql.NullInt64
	var settings []byte
	err := r.Scan(&e.ID, &e.Name, &e.Enabled, &e.ResponseStatus, &e.ResponseBody,
		&e.ResponseContentType, &e.BodyLimit, &e.Notes, &e.VerifyScheme, &e.VerifyMode,
		&settings, &created, &updated, &deleted)
	if err != nil {
		return Endpoint{}, err
	}
	e.Settings = unmarshalSettings(settings)
	e.CreatedAt = time.Unix(0, created).UTC()
	e.UpdatedAt = time.Unix(0, updated).UTC()
	if deleted.Valid {
		e.DeletedAt = time.Unix(0, deleted.Int64).UTC()
	}
	return e, nil
}
