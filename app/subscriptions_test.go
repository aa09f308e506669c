package app

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/hooktray/hooktray/app/subscribe/subscribetest"
	"github.com/hooktray/hooktray/app/verify"
	"github.com/hooktray/hooktray/hook"
	"github.com/hooktray/hooktray/internal/testutil"
	"github.com/hooktray/hooktray/tunnel"
)

type subscriptionJSON struct {
	ID, Status, Provider string
	RemoteID             *string  `json:"remote_id"`
	RegisteredURL        *string  `json:"registered_url"`
	LastError            *string  `json:"last_error"`
	Secrets              []string `json:"secrets_set"`
	Settings             map[string]any
}

func TestSubscriptionsThroughTheAPI(t *testing.T) {
	st := subscribetest.New()
	defer st.Close()
	h := startHub(t, func(o *Options) { o.Tunnel = tunnel.Settings{PublicURL: "https://hooks.example.net"} })
	c := newAPIClient(t, h)
	ep := createEndpoint(t, h, "alarm", nil)
	public := "https://hooks.example.net/webhook/" + ep.ID

	var sub subscriptionJSON
	if code := c.do("POST", "/api/v1/subscriptions", fmt.Sprintf(`{"endpoint_id":%q,"provider":"diagral","settings":{"base_url":%q,
		"serial_id":%q,"api_key":%q,"secret_key":%q}}`, ep.ID, st.DiagralURLBase(), subscribetest.DiagralSerial, subscribetest.DiagralKey, subscribetest.DiagralSecret), &sub); code != 201 {
		t.Fatalf("create: %d %+v", code, sub)
	}
	if _, ok := sub.Settings["api_key"]; ok || len(sub.Secrets) != 2 || sub.Settings["subscribe_alert"] != true {
		t.Errorf("settings %v, secrets %v", sub.Settings, sub.Secrets)
	}
	testutil.Eventually(t, "the Diagral subscription registered", func() bool {
		c.do("GET", "/api/v1/subscriptions/"+sub.ID, "", &sub)
		return sub.Status == "registered"
	})
	if st.State().DiagralURL != public || *sub.RegisteredURL != public {
		t.Errorf("Diagral holds %q, subscription %v", st.State().DiagralURL, *sub.RegisteredURL)
	}

	// An intrusion arrives typed ALERT: the default alert notification applies.
	post(t, h.Services().Endpoints.URL(ep.ID), []byte(`{"transmitter_id":"T1","alarm_code":"1130","alarm_description":"Intrusion","group_index":"01"}`))
	if ev := newest(t, h); ev.Type != "ALERT" || !ep.Settings.IsAlert(ev.Type) {
		t.Errorf("event type %q", ev.Type)
	}

	// The device platform returns an HMAC secret: it verifies the next webhook.
	var dev subscriptionJSON
	if code := c.do("POST", "/api/v1/subscriptions", fmt.Sprintf(`{"endpoint_id":%q,"provider":"device-platform-v2","settings":{"base_url":%q,
		"api_token":%q,"organization_id":6,"device_ids":[85,86]}}`, ep.ID, st.DevicesURLBase(), subscribetest.Token), &dev); code != 201 {
		t.Fatalf("create device platform: %d", code)
	}
	testutil.Eventually(t, "the device platform registered", func() bool {
		c.do("GET", "/api/v1/subscriptions/"+dev.ID, "", &dev)
		return dev.Status == "registered"
	})
	got, _ := h.Services().Endpoints.Get(ep.ID)
	if got.VerifyScheme != hook.SchemeHMAC || got.Settings.Verify.Header != "X-Signature" {
		t.Errorf("endpoint verification %s %+v", got.VerifyScheme, got.Settings.Verify)
	}
	body := []byte(`{"topic":"DeviceStatusEvents","deviceId":85}`)
	m := hmac.New(sha256.New, []byte(subscribetest.SecretHmac))
	m.Write(body)
	post(t, h.Services().Endpoints.URL(ep.ID), body, "X-Signature", hex.EncodeToString(m.Sum(nil)))
	if ev := newest(t, h); ev.Verification.Result != hook.ResultOK {
		t.Errorf("verification %+v", ev.Verification)
	}

	// A new public URL: both are registered again at it.
	if err := h.Services().Reach.SetTunnel(t.Context(), tunnel.SettingsChange{PublicURL: ptr("https://other.example.net")}); err != nil {
		t.Fatal(err)
	}
	moved := "https://other.example.net/webhook/" + ep.ID
	testutil.Eventually(t, "both re-registered at the new URL", func() bool {
		var list struct{ Subscriptions []subscriptionJSON }
		c.do("GET", "/api/v1/subscriptions?endpoint="+ep.ID, "", &list)
		for _, s := range list.Subscriptions {
			if s.RegisteredURL == nil || *s.RegisteredURL != moved {
				return false
			}
		}
		return len(list.Subscriptions) == 2 && st.State().DiagralURL == moved
	})

	// Secrets are sealed at rest.
	h.Stop(t.Context())
	for _, secret := range []string{subscribetest.DiagralKey, subscribetest.DiagralSecret, subscribetest.Token} {
		assertNotInDir(t, h.Services().Info.DataDir, secret)
	}
}

func TestDeletingAnEndpointUnregistersItsSubscriptions(t *testing.T) {
	st := subscribetest.New()
	defer st.Close()
	h := startHub(t, func(o *Options) { o.Tunnel = tunnel.Settings{PublicURL: "https://hooks.example.net"} })
	ep := createEndpoint(t, h, "alarm", nil)
	sub, err := h.Services().Subscriptions.Create(t.Context(), hook.SubscriptionChange{EndpointID: &ep.ID, Provider: ptr("github"),
		Settings: map[string]any{"base_url": st.GitHubURLBase(), "token": subscribetest.Token, "repository": "me/house"}})
	if err != nil {
		t.Fatal(err)
	}
	testutil.Eventually(t, "registered", func() bool {
		s, _ := h.Services().Subscriptions.Get(sub.ID)
		return s.Status == hook.SubscriptionRegistered
	})
	got, _ := h.Services().Endpoints.Get(ep.ID)
	if got.VerifyScheme != hook.SchemeGitHub || got.VerifyMode != hook.VerifyEnforce {
		t.Errorf("GitHub's secret does not verify the endpoint: %s %s", got.VerifyScheme, got.VerifyMode)
	}
	if len(st.State().GitHubHooks) != 1 {
		t.Fatalf("hooks %v", st.State().GitHubHooks)
	}
	if err := h.Services().Endpoints.Delete(t.Context(), ep.ID); err != nil {
		t.Fatal(err)
	}
	if len(st.State().GitHubHooks) != 0 {
		t.Errorf("still registered at GitHub: %v", st.State().GitHubHooks)
	}
	if list := h.Services().Subscriptions.List(ep.ID); len(list) != 0 {
		t.Errorf("subscriptions left %+v", list)
	}
}

func TestHomecastRotatesAndTestsAtTheProvider(t *testing.T) {
	st := subscribetest.New()
	defer st.Close()
	h := startHub(t, func(o *Options) { o.Tunnel = tunnel.Settings{PublicURL: "https://hooks.example.net"} })
	ep := createEndpoint(t, h, "home", nil)
	sub, err := h.Services().Subscriptions.Create(t.Context(), hook.SubscriptionChange{EndpointID: &ep.ID, Provider: ptr("homecast"),
		Settings: map[string]any{"base_url": st.HomecastURLBase(), "api_token": subscribetest.Token, "event_types": []any{"state.changed"}}})
	if err != nil {
		t.Fatal(err)
	}
	testutil.Eventually(t, "registered", func() bool {
		s, _ := h.Services().Subscriptions.Get(sub.ID)
		return s.Status == hook.SubscriptionRegistered
	})
	signed := func(secret, body string) []string {
		sig, _ := verify.Sign(hook.SchemeHomecast, secret, []byte(body), "", time.Now())
		return []string{"X-Homecast-Signature", sig.Get("X-Homecast-Signature")}
	}
	body := `{"type":"state.changed","id":"evt-1"}`
	post(t, h.Services().Endpoints.URL(ep.ID), []byte(body), signed(subscribetest.HomecastRaw, body)...)
	if ev := newest(t, h); ev.Verification.Result != hook.ResultOK {
		t.Fatalf("Homecast's rawSecret does not verify: %+v", ev.Verification)
	}
	fresh, err := h.Services().Endpoints.RotateSecret(t.Context(), ep.ID)
	if err != nil || !strings.HasPrefix(fresh, subscribetest.HomecastRaw+"_r") {
		t.Fatalf("rotate: %q %v", fresh, err)
	}
	for _, secret := range []string{subscribetest.HomecastRaw, fresh} { // the old one stays valid for the grace period
		post(t, h.Services().Endpoints.URL(ep.ID), []byte(body), signed(secret, body)...)
		if ev := newest(t, h); ev.Verification.Result != hook.ResultOK {
			t.Errorf("after rotation, %q: %+v", secret, ev.Verification)
		}
	}
	// "Send test": Homecast sends webhook.test (here straight to the receiver, as the tunnel would).
	st.Set(func(s *subscribetest.Server) {
		s.OnTest = func(string) {
			body := `{"type":"webhook.test","id":"evt-test"}`
			req, _ := http.NewRequest("POST", h.Services().Endpoints.URL(ep.ID), strings.NewReader(body))
			hdr := signed(fresh, body)
			req.Header.Set(hdr[0], hdr[1])
			if resp, err := http.DefaultClient.Do(req); err == nil {
				resp.Body.Close()
			}
		}
	})
	ev, err := h.Services().Subscriptions.Test(t.Context(), sub.ID)
	if err != nil || ev.Type != "webhook.test" || ev.Verification.Result != hook.ResultOK {
		t.Errorf("test: %+v %v", ev, err)
	}
}

func TestDiagralKeysThroughTheAPI(t *testing.T) {
	st := subscribetest.New()
	defer st.Close()
	h := startHub(t, nil)
	c := newAPIClient(t, h)
	var keys map[string]string
	if code := c.do("POST", "/api/v1/subscriptions/diagral-keys", fmt.Sprintf(`{"base_url":%q,"email":%q,"password":%q,"serial_id":%q}`,
		st.DiagralURLBase(), subscribetest.DiagralEmail, subscribetest.DiagralPassword, subscribetest.DiagralSerial), &keys); code != 200 ||
		keys["api_key"] != subscribetest.DiagralKey || keys["secret_key"] != subscribetest.DiagralSecret {
		t.Errorf("%d %v", code, keys)
	}
	if code := c.do("POST", "/api/v1/subscriptions/diagral-keys", fmt.Sprintf(`{"base_url":%q,"email":%q,"password":"no","serial_id":%q}`,
		st.DiagralURLBase(), subscribetest.DiagralEmail, subscribetest.DiagralSerial), &keys); code != 502 || !strings.Contains(keys["error"], "refused the e-mail and password") {
		t.Errorf("wrong password: %d %v", code, keys)
	}
	h.Stop(t.Context())
	assertNotInDir(t, h.Services().Info.DataDir, subscribetest.DiagralPassword)
}
