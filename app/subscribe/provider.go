// Package subscribe registers endpoints' public URLs with providers' APIs (a subscription) and
// keeps them registered: each provider knows how to find, create, update and delete its
// registration; the Manager brings every subscription to the current public URL at start, on
// every URL change and periodically, with backoff on failure, on an injected clock.
package subscribe

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/hooktray/hooktray/app/netmsg"
	"github.com/hooktray/hooktray/hook"
)

// Field describes one setting of a provider (hook.ProviderField, shared with the app's forms).
type Field = hook.ProviderField

// Field kinds.
const (
	Text    = hook.FieldText
	Bool    = hook.FieldBool
	List    = hook.FieldList
	Numbers = hook.FieldNumbers
	Number  = hook.FieldNumber
)

// Registration is what a provider holds for a subscription.
type Registration struct {
	RemoteID string
	URL      string
}

// Result is a registration made or changed: the provider's id, the URL it now holds, and a secret
// it returned (or Hooktray generated) for verifying its webhooks, with the scheme it is for.
type Result struct {
	RemoteID string
	URL      string
	Secret   string
	Scheme   string // the endpoint's verification scheme for Secret
	Header   string // the header that carries signatures (generic hmac)
}

// Call is what a provider gets for one request: its settings (secrets included, opened), the
// subscription's remote id, the endpoint's name, and an HTTP client with a timeout.
type Call struct {
	Client       *http.Client
	BaseURL      string
	Settings     Settings
	RemoteID     string
	RegisteredAt string // the URL Hooktray last registered, for providers that cannot be asked
	EndpointName string
	Now          time.Time
	// NewSecret makes a secret for providers that take one from Hooktray (GitHub).
	NewSecret func() string
}

// Provider talks to one provider's API.
type Provider interface {
	Name() string
	DefaultBaseURL() string
	Fields() []Field
	// HTTPSOnly: the provider refuses http:// URLs; a subscription waits for a public https URL.
	HTTPSOnly() bool
	// Find reads the provider's registration for this subscription; found is false when it has
	// none. Providers whose API cannot be asked answer from what Hooktray last registered.
	Find(ctx context.Context, c Call) (reg Registration, found bool, err error)
	Create(ctx context.Context, c Call, url string) (Result, error)
	// Update points an existing registration at url (forced: it may be another system's).
	Update(ctx context.Context, c Call, reg Registration, url string) (Result, error)
	Delete(ctx context.Context, c Call, reg Registration) error
}

// Settings are a subscription's provider fields, secrets opened.
type Settings map[string]any

// String returns a text setting.
func (s Settings) String(key string) string {
	v, _ := s[key].(string)
	return v
}

// Bool returns a boolean setting.
func (s Settings) Bool(key string) bool {
	v, _ := s[key].(bool)
	return v
}

// List returns a list-of-strings setting.
func (s Settings) List(key string) []string {
	switch v := s[key].(type) {
	case []string:
		return v
	case []any:
		out := make([]string, 0, len(v))
		for _, x := range v {
			if str, ok := x.(string); ok {
				out = append(out, str)
			}
		}
		return out
	}
	return nil
}

// Numbers returns a list-of-integers setting.
func (s Settings) Numbers(key string) []int64 {
	switch v := s[key].(type) {
	case []int64:
		return v
	case []any:
		out := make([]int64, 0, len(v))
		for _, x := range v {
			if f, ok := x.(float64); ok {
				out = append(out, int64(f))
			}
		}
		return out
	}
	return nil
}

// Number returns an integer setting.
func (s Settings) Number(key string) int64 {
	switch v := s[key].(type) {
	case float64:
		return int64(v)
	case int64:
		return v
	case int:
		return int64(v)
	}
	return 0
}

// Providers lists every provider by name.
func Providers() map[string]Provider {
	out := map[string]Provider{}
	for _, p := range []Provider{diagral{}, devicePlatform{}, homecast{}, github{}, stripe{}, restTemplate{}} {
		out[p.Name()] = p
	}
	return out
}

// Normalize checks settings against a provider's fields and fills defaults, returning the first
// problem as a field name and a sentence.
func Normalize(p Provider, in Settings) (Settings, string, error) {
	out := Settings{}
	known := map[string]bool{"base_url": true}
	for _, f := range p.Fields() {
		known[f.Key] = true
		v, given := in[f.Key]
		if !given || v == nil {
			if f.Default != nil {
				out[f.Key] = f.Default
			} else if f.Required {
				return nil, f.Key, fmt.Errorf("%s is required", f.Label)
			}
			continue
		}
		ok := false
		switch f.Kind {
		case Text:
			if f, isNum := v.(float64); isNum { // "--set serial_id=12345" reads as a number
				v = strconv.FormatFloat(f, 'f', -1, 64)
			}
			var s string
			s, ok = v.(string)
			if ok && f.Required && strings.TrimSpace(s) == "" {
				return nil, f.Key, fmt.Errorf("%s is required", f.Label)
			}
		case Bool:
			_, ok = v.(bool)
		case Number:
			_, ok = v.(float64)
			if !ok {
				_, ok = v.(int64)
			}
		case List:
			_, isStrings := v.([]string)
			ok = isStrings || len(Settings{"x": v}.List("x")) == len(asSlice(v))
		case Numbers:
			_, isInts := v.([]int64)
			ok = isInts || len(Settings{"x": v}.Numbers("x")) == len(asSlice(v))
		}
		if !ok {
			return nil, f.Key, fmt.Errorf("%s has the wrong type", f.Label)
		}
		out[f.Key] = v
	}
	for k := range in {
		if !known[k] {
			return nil, k, fmt.Errorf("%s is not a setting of %s", k, p.Name())
		}
	}
	if b, ok := in["base_url"].(string); ok && b != "" {
		out["base_url"] = strings.TrimRight(b, "/")
	}
	return out, "", nil
}

func asSlice(v any) []any {
	s, _ := v.([]any)
	return s
}

// ErrExists is wrapped by a Create that the provider refused because a registration exists
// already: the manager then updates it, as a forced update.
var ErrExists = errors.New("the provider holds a registration already")

// ProviderError is an answer from a provider's API, put in a sentence, with the provider's own
// words beside it.
type ProviderError struct {
	Status  int
	Message string // Hooktray's explanation: what it means and what to do
	Said    string // what the provider said, as it said it ("" when it said nothing readable)
}

func (e *ProviderError) Error() string {
	if e.Said == "" || strings.Contains(e.Message, e.Said) {
		return e.Message
	}
	return fmt.Sprintf("%s (the provider said: %q)", e.Message, e.Said)
}

// Retryable reports whether trying again later may help (rate limits, server errors, network).
func Retryable(err error) bool {
	var pe *ProviderError
	if errors.As(err, &pe) {
		return pe.Status == http.StatusTooManyRequests || pe.Status >= 500
	}
	return true
}

// doJSON sends a JSON request and decodes a 2xx JSON answer into out. Other answers are a
// *ProviderError whose message comes from explain (status, body).
func doJSON(ctx context.Context, client *http.Client, method, url string, hdr http.Header, body, out any,
	explain func(status int, body []byte) string) error {
	var rd io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			return err
		}
		rd = bytes.NewReader(b)
	}
	req, err := http.NewRequestWithContext(ctx, method, url, rd)
	if err != nil {
		return fmt.Errorf("build the request to %s: %w", url, err)
	}
	for k, v := range hdr {
		req.Header[k] = v
	}
	if body != nil && req.Header.Get("Content-Type") == "" {
		req.Header.Set("Content-Type", "application/json")
	}
	req.Header.Set("Accept", "application/json")
	return send(client, req, out, explain)
}

func send(client *http.Client, req *http.Request, out any, explain func(int, []byte) string) error {
	resp, err := client.Do(req)
	if err != nil {
		if errors.Is(req.Context().Err(), context.DeadlineExceeded) || errors.Is(err, context.DeadlineExceeded) {
			return fmt.Errorf("%s did not answer in time", req.URL.Host)
		}
		if s := netmsg.Explain(req.URL.Host, err); s != "" {
			return &netmsg.Error{Sentence: "cannot reach the provider: " + s, Err: err}
		}
		return fmt.Errorf("cannot reach %s: %w", req.URL.Host, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if err != nil {
		return fmt.Errorf("read the answer of %s: %w", req.URL.Host, err)
	}
	if resp.StatusCode/100 != 2 {
		msg := explain(resp.StatusCode, b)
		if msg == "" {
			msg = fmt.Sprintf("%s answered %s", req.URL.Host, resp.Status)
		}
		return &ProviderError{Status: resp.StatusCode, Message: msg, Said: said(b)}
	}
	if out != nil && len(bytes.TrimSpace(b)) > 0 {
		if err := json.Unmarshal(b, out); err != nil {
			return fmt.Errorf("read the answer of %s: %w", req.URL.Host, err)
		}
	}
	return nil
}

// said is what an error answer says, in the provider's words: the message of its JSON (the keys
// providers use: message, errorMessage, error, detail, error_description), else its first line.
func said(body []byte) string {
	var fields map[string]json.RawMessage
	if json.Unmarshal(body, &fields) == nil {
		for _, k := range []string{"message", "errorMessage", "detail", "error_description", "error"} {
			var s string
			if json.Unmarshal(fields[k], &s) == nil && s != "" {
				return firstLine(s)
			}
			var nested struct {
				Message string `json:"message"`
			}
			if json.Unmarshal(fields[k], &nested) == nil && nested.Message != "" {
				return firstLine(nested.Message)
			}
		}
		if raw, ok := fields["detail"]; ok {
			return firstLine(string(raw)) // Diagral's 422: a list
		}
	}
	return firstLine(string(body))
}

func firstLine(s string) string {
	s, _, _ = strings.Cut(strings.TrimSpace(s), "\n")
	if len(s) > 300 {
		s = s[:300] + "…"
	}
	return s
}
