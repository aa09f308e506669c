package subscribe

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strings"
)

// homecast registers a Homecast webhook through its GraphQL API (seed 003): createWebhook,
// updateWebhook, deleteWebhook. The rawSecret returned at creation becomes the endpoint's homecast
// verification secret. The seed documents no query that reads a webhook back, so Find answers
// from what Hooktray registered.
type homecast struct{}

func (homecast) Name() string           { return "homecast" }
func (homecast) DefaultBaseURL() string { return "" }
func (homecast) HTTPSOnly() bool        { return true }
func (homecast) Fields() []Field {
	return []Field{
		{Key: "api_token", Label: "API token", Help: "Homecast → Settings → API tokens", Kind: Text, Secret: true, Required: true},
		{Key: "name", Label: "Name", Help: "the webhook's label at Homecast", Kind: Text, Default: "Hooktray"},
		{Key: "event_types", Label: "Event types", Help: `state.changed, or "*" for all`, Kind: List, Default: []any{"*"}},
		{Key: "home_ids", Label: "Homes", Kind: List},
		{Key: "room_ids", Label: "Rooms", Kind: List},
		{Key: "accessory_ids", Label: "Accessories", Kind: List},
		{Key: "collection_ids", Label: "Collections", Kind: List},
		{Key: "max_retries", Label: "Max retries", Kind: Number, Default: float64(3)},
		{Key: "rate_limit_per_minute", Label: "Per minute", Kind: Number, Default: float64(60)},
		{Key: "timeout_ms", Label: "Timeout (ms)", Kind: Number, Default: float64(30000)},
	}
}

// graphql posts one operation and decodes data into out; GraphQL errors come with 200.
func (homecast) graphql(ctx context.Context, c Call, query string, vars map[string]any, out any) error {
	if c.BaseURL == "" {
		return errors.New("give Homecast's GraphQL address (base_url)")
	}
	var resp struct {
		Data   json.RawMessage `json:"data"`
		Errors []struct {
			Message string `json:"message"`
		} `json:"errors"`
	}
	hdr := http.Header{"Authorization": {"Bearer " + c.Settings.String("api_token")}}
	explain := func(status int, _ []byte) string {
		if status == http.StatusUnauthorized {
			return "Homecast refused the API token (401)"
		}
		return ""
	}
	if err := doJSON(ctx, c.Client, http.MethodPost, c.BaseURL, hdr, map[string]any{"query": query, "variables": vars}, &resp, explain); err != nil {
		return err
	}
	if len(resp.Errors) > 0 {
		var msgs []string
		for _, e := range resp.Errors {
			msgs = append(msgs, e.Message)
		}
		return &ProviderError{Status: http.StatusBadRequest, Message: "Homecast: " + strings.Join(msgs, "; ")}
	}
	return json.Unmarshal(resp.Data, out)
}

func (homecast) Find(_ context.Context, c Call) (Registration, bool, error) {
	if c.RemoteID == "" {
		return Registration{}, false, nil
	}
	return Registration{RemoteID: c.RemoteID, URL: c.RegisteredAt}, true, nil
}

func (h homecast) vars(c Call, to string) map[string]any {
	v := map[string]any{"name": c.Settings.String("name"), "url": to, "eventTypes": c.Settings.List("event_types"),
		"maxRetries": c.Settings.Number("max_retries"), "rateLimitPerMinute": c.Settings.Number("rate_limit_per_minute"),
		"timeoutMs": c.Settings.Number("timeout_ms")}
	for key, name := range map[string]string{"home_ids": "homeIds", "room_ids": "roomIds", "accessory_ids": "accessoryIds", "collection_ids": "collectionIds"} {
		if ids := c.Settings.List(key); len(ids) > 0 {
			v[name] = ids
		}
	}
	return v
}

const homecastCreate = `mutation Create($name: String!, $url: String!, $eventTypes: [String!], $homeIds: [String!], $roomIds: [String!],
  $accessoryIds: [String!], $collectionIds: [String!], $maxRetries: Int, $rateLimitPerMinute: Int, $timeoutMs: Int) {
  createWebhook(name: $name, url: $url, eventTypes: $eventTypes, homeIds: $homeIds, roomIds: $roomIds, accessoryIds: $accessoryIds,
    collectionIds: $collectionIds, maxRetries: $maxRetries, rateLimitPerMinute: $rateLimitPerMinute, timeoutMs: $timeoutMs) {
    success
    webhook { id name rawSecret }
  }
}`

func (h homecast) Create(ctx context.Context, c Call, to string) (Result, error) {
	var out struct {
		CreateWebhook struct {
			Success bool `json:"success"`
			Webhook struct {
				ID        string `json:"id"`
				RawSecret string `json:"rawSecret"`
			} `json:"webhook"`
		} `json:"createWebhook"`
	}
	if err := h.graphql(ctx, c, homecastCreate, h.vars(c, to), &out); err != nil {
		return Result{}, err
	}
	if !out.CreateWebhook.Success || out.CreateWebhook.Webhook.ID == "" {
		return Result{}, &ProviderError{Status: http.StatusBadRequest, Message: "Homecast did not create the webhook (success: false)"}
	}
	return Result{RemoteID: out.CreateWebhook.Webhook.ID, URL: to, Secret: out.CreateWebhook.Webhook.RawSecret, Scheme: "homecast"}, nil
}

const homecastUpdate = `mutation Update($webhookId: ID!, $url: String!) { updateWebhook(webhookId: $webhookId, url: $url) { success } }`

func (h homecast) Update(ctx context.Context, c Call, reg Registration, to string) (Result, error) {
	var out struct {
		UpdateWebhook struct {
			Success bool `json:"success"`
		} `json:"updateWebhook"`
	}
	if err := h.graphql(ctx, c, homecastUpdate, map[string]any{"webhookId": reg.RemoteID, "url": to}, &out); err != nil {
		return Result{}, err
	}
	if !out.UpdateWebhook.Success {
		return Result{}, &ProviderError{Status: http.StatusBadRequest, Message: fmt.Sprintf("Homecast did not update webhook %s (success: false)", reg.RemoteID)}
	}
	return Result{RemoteID: reg.RemoteID, URL: to}, nil
}

const homecastDelete = `mutation Delete($webhookId: ID!) { deleteWebhook(webhookId: $webhookId) { success } }`

func (h homecast) Delete(ctx context.Context, c Call, reg Registration) error {
	var out struct {
		DeleteWebhook struct {
			Success bool `json:"success"`
		} `json:"deleteWebhook"`
	}
	return h.graphql(ctx, c, homecastDelete, map[string]any{"webhookId": reg.RemoteID}, &out)
}

// Rotator is a provider that rotates the signing secret of a registration.
type Rotator interface {
	Rotate(ctx context.Context, c Call, reg Registration) (Result, error)
}

// Tester is a provider that sends a test delivery to a registration.
type Tester interface {
	Test(ctx context.Context, c Call, reg Registration) error
}

// The seed names the mutation and its argument; the selection follows createWebhook's.
const homecastRotate = `mutation Rotate($webhookId: ID!) { rotateWebhookSecret(webhookId: $webhookId) { success webhook { id rawSecret } } }`

// Rotate asks Homecast for a new signing secret (rotateWebhookSecret).
func (h homecast) Rotate(ctx context.Context, c Call, reg Registration) (Result, error) {
	var out struct {
		Rotate struct {
			Success bool `json:"success"`
			Webhook struct {
				RawSecret string `json:"rawSecret"`
			} `json:"webhook"`
		} `json:"rotateWebhookSecret"`
	}
	if err := h.graphql(ctx, c, homecastRotate, map[string]any{"webhookId": reg.RemoteID}, &out); err != nil {
		return Result{}, err
	}
	if !out.Rotate.Success || out.Rotate.Webhook.RawSecret == "" {
		return Result{}, &ProviderError{Status: http.StatusBadRequest, Message: "Homecast did not rotate the secret (success: false)"}
	}
	return Result{RemoteID: reg.RemoteID, URL: reg.URL, Secret: out.Rotate.Webhook.RawSecret, Scheme: "homecast"}, nil
}

const homecastTest = `mutation Test($webhookId: ID!) { testWebhook(webhookId: $webhookId) { success } }`

// Test asks Homecast to send a webhook.test delivery (testWebhook).
func (h homecast) Test(ctx context.Context, c Call, reg Registration) error {
	var out struct {
		Test struct {
			Success bool `json:"success"`
		} `json:"testWebhook"`
	}
	if err := h.graphql(ctx, c, homecastTest, map[string]any{"webhookId": reg.RemoteID}, &out); err != nil {
		return err
	}
	if !out.Test.Success {
		return &ProviderError{Status: http.StatusBadRequest, Message: "Homecast did not send the test (success: false)"}
	}
	return nil
}
