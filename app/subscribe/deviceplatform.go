package subscribe

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"
)

// devicePlatform is a device platform's POST /v2/webhooks (seed 002). Its API documents only
// creation: a new URL creates a new webhook (the old one may stay at the provider until removed
// in its console), and there is no call to read a registration back.
type devicePlatform struct{}

func (devicePlatform) Name() string           { return "device-platform-v2" }
func (devicePlatform) DefaultBaseURL() string { return "" }
func (devicePlatform) HTTPSOnly() bool        { return true }
func (devicePlatform) Fields() []Field {
	return []Field{
		{Key: "api_token", Label: "API token", Help: "the platform's bearer token (its console → API access)", Kind: Text, Secret: true, Required: true},
		{Key: "organization_id", Label: "Organization", Help: "your organization's number", Kind: Number, Required: true},
		{Key: "device_ids", Label: "Devices", Help: "device numbers to follow", Kind: Numbers, Default: []any{}},
		{Key: "device_group_ids", Label: "Device groups", Help: "device group numbers to follow", Kind: Numbers, Default: []any{}},
		{Key: "topics", Label: "Topics", Help: "DeviceActivationEvents, DeviceDeactivationEvents, DeviceStatusEvents, DeviceTamperEvents",
			Kind: List, Default: []any{"DeviceActivationEvents", "DeviceDeactivationEvents", "DeviceStatusEvents", "DeviceTamperEvents"}},
		{Key: "secret_http", Label: "Simple secret", Help: "optional: a secret the platform also sends", Kind: Text, Secret: true},
		{Key: "signature_header", Label: "Signature header", Help: "the header that carries the platform's HMAC", Kind: Text, Default: "X-Signature"},
	}
}

// explainDevicePlatform says what the platform's refusal of url means; its own words go beside
// (ProviderError.Said).
func explainDevicePlatform(url string) func(status int, body []byte) string {
	return func(status int, body []byte) string {
		switch {
		case status == http.StatusUnauthorized:
			return "the platform refused the API token (401): check it in the platform's console, API access"
		case status == http.StatusBadRequest && strings.Contains(string(body), "WebhookUnsupportedProtocol") && strings.HasPrefix(url, "http://"):
			return "the platform accepts only https:// webhook URLs and this one is " + url + ": start the tunnel or set an external HTTPS URL"
		case status == http.StatusBadRequest && strings.Contains(string(body), "WebhookUnsupportedProtocol"):
			return "the platform refused " + url + " although it is https: it may not accept this host (a quick tunnel's trycloudflare.com, say); try a named tunnel or your own URL"
		case status == http.StatusBadRequest:
			return "the platform refused the webhook (400)"
		}
		return ""
	}
}

func (devicePlatform) Find(_ context.Context, c Call) (Registration, bool, error) {
	if c.RemoteID == "" {
		return Registration{}, false, nil
	}
	return Registration{RemoteID: c.RemoteID, URL: c.RegisteredAt}, true, nil
}

func (p devicePlatform) Create(ctx context.Context, c Call, to string) (Result, error) {
	if c.BaseURL == "" {
		return Result{}, errors.New("give the platform's API address (base_url)")
	}
	body := map[string]any{
		"organizationId": c.Settings.Number("organization_id"),
		"deviceIds":      orEmpty(c.Settings.Numbers("device_ids")),
		"deviceGroupIds": orEmpty(c.Settings.Numbers("device_group_ids")),
		"webhookUrl":     to,
		"topics":         c.Settings.List("topics"),
	}
	if s := c.Settings.String("secret_http"); s != "" {
		body["secretHttp"] = s
	}
	var out struct {
		ID         any    `json:"id"`
		SecretHmac string `json:"secretHmac"`
	}
	hdr := http.Header{"Authorization": {"Bearer " + c.Settings.String("api_token")}}
	if err := doJSON(ctx, c.Client, http.MethodPost, c.BaseURL+"/v2/webhooks", hdr, body, &out, explainDevicePlatform(to)); err != nil {
		return Result{}, err
	}
	id := fmt.Sprint(out.ID)
	if f, ok := out.ID.(float64); ok {
		id = strconv.FormatInt(int64(f), 10)
	}
	return Result{RemoteID: id, URL: to, Secret: out.SecretHmac, Scheme: "hmac", Header: c.Settings.String("signature_header")}, nil
}

// Update registers the new URL as a new webhook: the platform documents no change of URL.
func (p devicePlatform) Update(ctx context.Context, c Call, _ Registration, to string) (Result, error) {
	return p.Create(ctx, c, to)
}

// Delete forgets the registration: the platform documents no removal.
func (devicePlatform) Delete(context.Context, Call, Registration) error { return nil }

func orEmpty(v []int64) []int64 {
	if v == nil {
		return []int64{}
	}
	return v
}
