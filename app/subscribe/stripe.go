package subscribe

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"strings"
)

// stripe is a Stripe webhook endpoint (/v1/webhook_endpoints, form-encoded). The whsec_ secret
// Stripe returns at creation becomes the endpoint's stripe verification secret.
type stripe struct{}

func (stripe) Name() string           { return "stripe" }
func (stripe) DefaultBaseURL() string { return "https://api.stripe.com" }
func (stripe) HTTPSOnly() bool        { return true }
func (stripe) Fields() []Field {
	return []Field{
		{Key: "api_key", Label: "Secret key", Help: "a restricted key with Webhook Endpoints: write (dashboard.stripe.com → Developers → API keys)", Kind: Text, Secret: true, Required: true},
		{Key: "enabled_events", Label: "Events", Help: `payment_intent.succeeded, … or "*" for all`, Kind: List, Default: []any{"*"}},
	}
}

func explainStripe(status int, body []byte) string {
	switch status {
	case http.StatusUnauthorized:
		return "Stripe refused the API key (401)"
	case http.StatusNotFound:
		return "Stripe has no such webhook endpoint (404)"
	}
	return ""
}

type stripeEndpoint struct {
	ID     string `json:"id"`
	URL    string `json:"url"`
	Secret string `json:"secret"`
}

func (stripe) do(ctx context.Context, c Call, method, path string, form url.Values, out any) error {
	var body *strings.Reader
	if form != nil {
		body = strings.NewReader(form.Encode())
	} else {
		body = strings.NewReader("")
	}
	req, err := http.NewRequestWithContext(ctx, method, c.BaseURL+path, body)
	if err != nil {
		return fmt.Errorf("build the request to Stripe: %w", err)
	}
	req.Header.Set("Authorization", "Bearer "+c.Settings.String("api_key"))
	if form != nil {
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	}
	return send(c.Client, req, out, explainStripe)
}

func (s stripe) form(c Call, to string) url.Values {
	f := url.Values{"url": {to}}
	for _, e := range c.Settings.List("enabled_events") {
		f.Add("enabled_events[]", e)
	}
	return f
}

func (s stripe) Find(ctx context.Context, c Call) (Registration, bool, error) {
	if c.RemoteID == "" {
		return Registration{}, false, nil
	}
	var ep stripeEndpoint
	err := s.do(ctx, c, http.MethodGet, "/v1/webhook_endpoints/"+url.PathEscape(c.RemoteID), nil, &ep)
	if pe, ok := err.(*ProviderError); ok && pe.Status == http.StatusNotFound {
		return Registration{}, false, nil
	}
	if err != nil {
		return Registration{}, false, err
	}
	return Registration{RemoteID: ep.ID, URL: ep.URL}, true, nil
}

func (s stripe) Create(ctx context.Context, c Call, to string) (Result, error) {
	var ep stripeEndpoint
	if err := s.do(ctx, c, http.MethodPost, "/v1/webhook_endpoints", s.form(c, to), &ep); err != nil {
		return Result{}, err
	}
	return Result{RemoteID: ep.ID, URL: ep.URL, Secret: ep.Secret, Scheme: "stripe"}, nil
}

// Update changes the URL; Stripe keeps the endpoint's secret, so the endpoint's stays valid.
func (s stripe) Update(ctx context.Context, c Call, reg Registration, to string) (Result, error) {
	var ep stripeEndpoint
	if err := s.do(ctx, c, http.MethodPost, "/v1/webhook_endpoints/"+url.PathEscape(reg.RemoteID), s.form(c, to), &ep); err != nil {
		return Result{}, err
	}
	return Result{RemoteID: reg.RemoteID, URL: to}, nil
}

func (s stripe) Delete(ctx context.Context, c Call, reg Registration) error {
	err := s.do(ctx, c, http.MethodDelete, "/v1/webhook_endpoints/"+url.PathEscape(reg.RemoteID), nil, nil)
	if pe, ok := err.(*ProviderError); ok && pe.Status == http.StatusNotFound {
		return nil
	}
	return err
}
