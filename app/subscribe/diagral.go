package subscribe

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"
)

// diagral is the Diagral alarm cloud (seed 000, reference/diagral.md): one subscription per
// system, requests signed with X-APIKEY / X-TIMESTAMP / X-HMAC.
type diagral struct{}

func (diagral) Name() string           { return "diagral" }
func (diagral) DefaultBaseURL() string { return "https://appv3.tt-monitor.com/emerald/v1" }
func (diagral) HTTPSOnly() bool        { return true }
func (diagral) Fields() []Field {
	return []Field{
		{Key: "serial_id", Label: "System serial", Help: "the alarm system's serial id, shown in the Diagral e-ONE app under the system's settings", Kind: Text, Required: true},
		{Key: "api_key", Label: "API key", Help: "created once for this system with the Diagral cloud's POST /users/api_key (the Home Assistant Diagral integration shows it after its set-up)", Kind: Text, Secret: true, Required: true},
		{Key: "secret_key", Label: "Secret key", Help: "returned with the API key", Kind: Text, Secret: true, Required: true},
		{Key: "subscribe_alert", Label: "Alerts", Help: "intrusions, panic", Kind: Bool, Default: true},
		{Key: "subscribe_anomaly", Label: "Anomalies", Help: "low batteries, tampering, lost devices", Kind: Bool, Default: true},
		{Key: "subscribe_state", Label: "State changes", Help: "armed, disarmed", Kind: Bool, Default: true},
	}
}

// headers signs a request: X-HMAC = hex(HMAC-SHA256(secret_key, "<timestamp>.<serial>.<api_key>")).
func (diagral) headers(c Call) http.Header {
	ts := strconv.FormatInt(c.Now.Unix(), 10)
	serial, key := c.Settings.String("serial_id"), c.Settings.String("api_key")
	m := hmac.New(sha256.New, []byte(c.Settings.String("secret_key")))
	m.Write([]byte(ts + "." + serial + "." + key))
	return http.Header{"X-Apikey": {key}, "X-Timestamp": {ts}, "X-Hmac": {hex.EncodeToString(m.Sum(nil))}}
}

func (d diagral) url(c Call) string {
	return c.BaseURL + "/webhooks/" + url.PathEscape(c.Settings.String("serial_id")) + "/subscription"
}

// explainDiagral reads {"detail": …} (a string, or a list for 422).
func explainDiagral(status int, body []byte) string {
	var e struct {
		Detail json.RawMessage `json:"detail"`
	}
	detail := strings.TrimSpace(string(body))
	if json.Unmarshal(body, &e) == nil && len(e.Detail) > 0 {
		var s string
		if json.Unmarshal(e.Detail, &s) == nil {
			detail = s
		} else {
			detail = string(e.Detail)
		}
	}
	switch status {
	case http.StatusUnauthorized, http.StatusForbidden:
		return "Diagral refused the API key (" + detail + "): check the key and secret of this system"
	}
	return fmt.Sprintf("Diagral answered %d: %s", status, detail)
}

func noSubscription(err error) bool {
	var pe *ProviderError
	if !errors.As(err, &pe) {
		return false
	}
	return pe.Status == http.StatusNotFound || strings.Contains(pe.Message, "There is no subscription for") ||
		strings.Contains(pe.Message, "No subscription found")
}

func (d diagral) Find(ctx context.Context, c Call) (Registration, bool, error) {
	var sub struct {
		TransmitterID string `json:"transmitter_id"`
		WebhookURL    string `json:"webhook_url"`
	}
	err := doJSON(ctx, c.Client, http.MethodGet, d.url(c), d.headers(c), nil, &sub, explainDiagral)
	if noSubscription(err) {
		return Registration{}, false, nil
	}
	if err != nil {
		return Registration{}, false, err
	}
	return Registration{RemoteID: c.Settings.String("serial_id"), URL: sub.WebhookURL}, sub.WebhookURL != "", nil
}

func (d diagral) body(c Call, to string) map[string]any {
	return map[string]any{"webhook_url": to, "subscribe_to_anomaly": c.Settings.Bool("subscribe_anomaly"),
		"subscribe_to_alert": c.Settings.Bool("subscribe_alert"), "subscribe_to_state": c.Settings.Bool("subscribe_state")}
}

// Create registers the system's one subscription. Diagral answers "Subscription already exists"
// (409) when there is one, even when its read just said there is none (a read that lags, or
// another client registering at the same moment): that is ErrExists, and the manager updates it.
func (d diagral) Create(ctx context.Context, c Call, to string) (Result, error) {
	err := doJSON(ctx, c.Client, http.MethodPost, d.url(c), d.headers(c), d.body(c, to), nil, explainDiagral)
	var pe *ProviderError
	if errors.As(err, &pe) && (pe.Status == http.StatusConflict || strings.Contains(strings.ToLower(pe.Message), "already exists")) {
		return Result{}, fmt.Errorf("%w: %w", ErrExists, err)
	}
	if err != nil {
		return Result{}, err
	}
	return Result{RemoteID: c.Settings.String("serial_id"), URL: to}, nil
}

func (d diagral) Update(ctx context.Context, c Call, _ Registration, to string) (Result, error) {
	if err := doJSON(ctx, c.Client, http.MethodPut, d.url(c), d.headers(c), d.body(c, to), nil, explainDiagral); err != nil {
		return Result{}, err
	}
	return Result{RemoteID: c.Settings.String("serial_id"), URL: to}, nil
}

func (d diagral) Delete(ctx context.Context, c Call, _ Registration) error {
	err := doJSON(ctx, c.Client, http.MethodDelete, d.url(c), d.headers(c), nil, nil, explainDiagral)
	if noSubscription(err) {
		return nil
	}
	return err
}

// DiagralKeys creates an API key and its secret for one system from the user's Diagral account
// (reference/diagral.md): log in, then POST /users/api_key. The password is used for these two
// requests only and never kept.
func DiagralKeys(ctx context.Context, client *http.Client, baseURL, email, password, serial string) (apiKey, secretKey string, err error) {
	if baseURL == "" {
		baseURL = diagral{}.DefaultBaseURL()
	}
	baseURL = strings.TrimRight(baseURL, "/")
	var login struct {
		AccessToken string `json:"access_token"`
	}
	err = doJSON(ctx, client, http.MethodPost, baseURL+"/users/authenticate/login?vendor=DIAGRAL", nil,
		map[string]string{"username": email, "password": password}, &login, func(status int, body []byte) string {
			if status == http.StatusUnauthorized || status == http.StatusForbidden || status == http.StatusBadRequest {
				return "Diagral refused the e-mail and password"
			}
			return explainDiagral(status, body)
		})
	if err != nil {
		return "", "", err
	}
	var keys struct {
		APIKey    string `json:"api_key"`
		SecretKey string `json:"secret_key"`
	}
	err = doJSON(ctx, client, http.MethodPost, baseURL+"/users/api_key", http.Header{"Authorization": {"Bearer " + login.AccessToken}},
		map[string]string{"serial_id": serial}, &keys, explainDiagral)
	if err != nil {
		return "", "", err
	}
	if keys.APIKey == "" || keys.SecretKey == "" {
		return "", "", errors.New("the Diagral cloud returned no API key")
	}
	return keys.APIKey, keys.SecretKey, nil
}
