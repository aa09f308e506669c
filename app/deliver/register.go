package deliver

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"runtime"
	"strings"
)

// SecretHomeAssistantToken is the purpose of a Home Assistant target's sealed access token, kept
// so that Hooktray can register again when the registration is deleted.
const SecretHomeAssistantToken = "home-assistant-token"

// HomeAssistantDevice is how Hooktray describes itself when it registers with Home Assistant.
type HomeAssistantDevice struct {
	DeviceID   string // stable across registrations of one target
	DeviceName string // what Home Assistant shows in its devices list
	AppVersion string
}

// HomeAssistantRegistration is Home Assistant's answer to a registration (mobile_app http_api.py):
// the webhook id, the encryption secret, and the cloud URLs when the instance has them.
type HomeAssistantRegistration struct {
	WebhookID    string `json:"webhook_id"`
	Secret       string `json:"secret"`
	CloudhookURL string `json:"cloudhook_url"`
	RemoteUIURL  string `json:"remote_ui_url"`
}

// RegisterHomeAssistant registers Hooktray as a mobile_app device of the instance at instanceURL,
// authorised by a long-lived access token, with encryption. Errors are sentences that say what to
// do; the token never appears in one.
func RegisterHomeAssistant(ctx context.Context, client *http.Client, instanceURL, token string, dev HomeAssistantDevice) (HomeAssistantRegistration, error) {
	body, _ := json.Marshal(map[string]any{
		"device_id": dev.DeviceID, "app_id": "io.hooktray.app", "app_name": "Hooktray", "app_version": dev.AppVersion,
		"device_name": dev.DeviceName, "manufacturer": "Hooktray", "model": "Webhook forwarder",
		"os_name": runtime.GOOS, "supports_encryption": true,
	})
	url := strings.TrimRight(instanceURL, "/") + "/api/mobile_app/registrations"
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, url, bytes.NewReader(body))
	if err != nil {
		return HomeAssistantRegistration{}, fmt.Errorf("the instance URL %q cannot be used: %w", instanceURL, err)
	}
	req.Header.Set("Authorization", "Bearer "+token)
	req.Header.Set("Content-Type", "application/json")
	resp, err := client.Do(req)
	if err != nil {
		return HomeAssistantRegistration{}, fmt.Errorf("cannot reach Home Assistant: %w", networkError(req.URL.Host, err))
	}
	defer resp.Body.Close()
	answer, _ := io.ReadAll(io.LimitReader(resp.Body, 64<<10))
	if err := registrationRefused(resp.StatusCode, answer, instanceURL); err != nil {
		return HomeAssistantRegistration{}, err
	}
	var reg HomeAssistantRegistration
	if err := json.Unmarshal(answer, &reg); err != nil || reg.WebhookID == "" {
		return HomeAssistantRegistration{}, fmt.Errorf("the answer to the registration has no webhook id: %s", snippet(answer))
	}
	if reg.Secret == "" {
		return reg, errors.New("the instance registered Hooktray without an encryption secret (is PyNaCl missing from it?)")
	}
	return reg, nil
}

// registrationRefused puts a refused registration in the user's words, with Home Assistant's own.
func registrationRefused(status int, answer []byte, instanceURL string) error {
	said := strings.TrimSpace(string(answer))
	var msg struct {
		Message string `json:"message"`
	}
	if json.Unmarshal(answer, &msg) == nil && msg.Message != "" {
		said = msg.Message
	}
	switch {
	case status == http.StatusCreated || status == http.StatusOK:
		return nil
	case status == http.StatusUnauthorized || status == http.StatusForbidden:
		return fmt.Errorf("the instance refused the access token (%d %s): create a long-lived access token in Home Assistant (your profile → Security → Long-lived access tokens) and give it here", status, said)
	case status == http.StatusNotFound:
		return fmt.Errorf("there is no mobile_app integration at %s (404): check that this is the address you open Home Assistant at, and that mobile_app is loaded (it is part of default_config)", instanceURL)
	}
	return fmt.Errorf("the instance refused the registration (%d): %s", status, snippet([]byte(said)))
}
