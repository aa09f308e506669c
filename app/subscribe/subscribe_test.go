package subscribe

import (
	"bytes"
	"context"
	"io"
	"log/slog"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/hooktray/hooktray/app/subscribe/subscribetest"
	"github.com/hooktray/hooktray/clock"
	"github.com/hooktray/hooktray/hook"
	"github.com/hooktray/hooktray/internal/testutil"
)

func call(base string, settings Settings) Call {
	return Call{Client: &http.Client{Timeout: 5 * time.Second}, BaseURL: base, Settings: settings, EndpointName: "door",
		Now: time.Now(), NewSecret: func() string { return "generated-secret" }}
}

func TestProvidersAgainstTheirStandIns(t *testing.T) {
	st := subscribetest.New()
	defer st.Close()
	ctx := context.Background()
	for _, tc := range []struct {
		p        Provider
		base     string
		settings Settings
		scheme   string
	}{
		{diagral{}, st.DiagralURLBase(), Settings{"serial_id": subscribetest.DiagralSerial, "api_key": subscribetest.DiagralKey, "secret_key": subscribetest.DiagralSecret,
			"subscribe_alert": true, "subscribe_anomaly": true, "subscribe_state": true}, ""},
		{devicePlatform{}, st.DevicesURLBase(), Settings{"api_token": subscribetest.Token, "organization_id": float64(6), "topics": []any{"DeviceStatusEvents"},
			"signature_header": "X-Signature"}, "hmac"},
		{homecast{}, st.HomecastURLBase(), Settings{"api_token": subscribetest.Token, "name": "Hooktray", "event_types": []any{"*"}}, "homecast"},
		{github{}, st.GitHubURLBase(), Settings{"token": subscribetest.Token, "repository": "me/house", "events": []any{"*"}}, "github"},
		{stripe{}, st.StripeURLBase(), Settings{"api_key": subscribetest.Token, "enabled_events": []any{"*"}}, "stripe"},
	} {
		t.Run(tc.p.Name(), func(t *testing.T) {
			c := call(tc.base, tc.settings)
			if _, found, err := tc.p.Find(ctx, c); err != nil || found {
				t.Fatalf("before: found %v, %v", found, err)
			}
			res, err := tc.p.Create(ctx, c, "https://a.example/webhook/x")
			if err != nil {
				t.Fatal(err)
			}
			if res.Scheme != tc.scheme || (tc.scheme != "" && res.Secret == "") {
				t.Errorf("create: %+v", res)
			}
			c.RemoteID, c.RegisteredAt = res.RemoteID, res.URL
			reg, found, err := tc.p.Find(ctx, c)
			if err != nil || !found || reg.URL != "https://a.example/webhook/x" {
				t.Fatalf("find: %+v %v %v", reg, found, err)
			}
			up, err := tc.p.Update(ctx, c, reg, "https://b.example/webhook/x")
			if err != nil || up.URL != "https://b.example/webhook/x" {
				t.Fatalf("update: %+v %v", up, err)
			}
			c.RemoteID, c.RegisteredAt = up.RemoteID, up.URL
			if reg, _, _ := tc.p.Find(ctx, c); reg.URL != "https://b.example/webhook/x" {
				t.Errorf("after update the provider holds %q", reg.URL)
			}
			if err := tc.p.Delete(ctx, c, Registration{RemoteID: up.RemoteID, URL: up.URL}); err != nil {
				t.Fatal(err)
			}
		})
	}
	if st.State().DiagralURL != "" || len(st.State().GitHubHooks) != 0 || len(st.State().StripeHooks) != 0 || len(st.State().HomecastHooks) != 0 {
		t.Errorf("left registered: diagral %q github %v stripe %v homecast %v", st.State().DiagralURL, st.State().GitHubHooks, st.State().StripeHooks, st.State().HomecastHooks)
	}
}

func TestProviderErrorsAreSentences(t *testing.T) {
	st := subscribetest.New()
	defer st.Close()
	ctx := context.Background()
	_, err := devicePlatform{}.Create(ctx, call(st.DevicesURLBase(), Settings{"api_token": "wrong", "organization_id": float64(6)}), "https://a.example/x")
	if err == nil || !strings.Contains(err.Error(), "refused the API token") {
		t.Errorf("401: %v", err)
	}
	_, err = devicePlatform{}.Create(ctx, call(st.DevicesURLBase(), Settings{"api_token": subscribetest.Token, "organization_id": float64(7)}), "http://a.example/x")
	if err == nil || !strings.Contains(err.Error(), "accepts only https:// webhook URLs and this one is http://a.example/x") ||
		!strings.Contains(err.Error(), "Unsupported protocol: We only support https for now.") {
		t.Errorf("400: %v, want Hooktray's advice and the platform's own words", err)
	}
	// The same refusal of a URL that was https already: the advice to start a tunnel would be wrong.
	if msg := explainDevicePlatform("https://x.trycloudflare.com/webhook/a")(400, []byte(`{"code":"WebhookUnsupportedProtocol"}`)); strings.Contains(msg, "start the tunnel") || !strings.Contains(msg, "although it is https") {
		t.Errorf("an https URL refused: %q", msg)
	}
	_, _, err = diagral{}.Find(ctx, call(st.DiagralURLBase(), Settings{"serial_id": subscribetest.DiagralSerial, "api_key": subscribetest.DiagralKey, "secret_key": "wrong"}))
	if err == nil || !strings.Contains(err.Error(), "Diagral refused the API key") {
		t.Errorf("diagral: %v", err)
	}
	if Retryable(err) {
		t.Error("a refused key is retryable")
	}
}

// harness runs a manager over in-memory subscriptions.
type harness struct {
	t       *testing.T
	m       *Manager
	clock   *clock.Fake
	mu      sync.Mutex
	url     string
	saved   map[string]hook.Subscription
	secrets []Result
	log     *bytes.Buffer
}

type syncWriter struct {
	mu sync.Mutex
	b  *bytes.Buffer
}

func (w *syncWriter) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.b.Write(p)
}

func newHarness(t *testing.T, settings map[string]Settings, timeout time.Duration) *harness {
	h := &harness{t: t, clock: clock.NewFake(time.Now()), saved: map[string]hook.Subscription{}, log: &bytes.Buffer{}}
	logw := &syncWriter{b: h.log}
	h.m = NewManager(ManagerOptions{
		Clock: h.clock, Client: &http.Client{Timeout: timeout},
		Log:  slog.New(slog.NewTextHandler(io.MultiWriter(logw), nil)),
		Open: func(_ context.Context, sub hook.Subscription) (Settings, error) { return settings[sub.ID], nil },
		PublicURL: func(string) string {
			h.mu.Lock()
			defer h.mu.Unlock()
			return h.url
		},
		EndpointName: func(string) string { return "front door" },
		Save: func(_ context.Context, sub hook.Subscription) error {
			h.mu.Lock()
			defer h.mu.Unlock()
			h.saved[sub.ID] = sub
			return nil
		},
		Secret: func(_ context.Context, _ hook.Subscription, r Result) error {
			h.mu.Lock()
			defer h.mu.Unlock()
			h.secrets = append(h.secrets, r)
			return nil
		},
		NewSecret: func(string) string { return "generated" },
	})
	t.Cleanup(h.m.Stop)
	return h
}

func (h *harness) setURL(u string) {
	h.mu.Lock()
	h.url = u
	h.mu.Unlock()
	h.m.Refresh()
}

func (h *harness) waitFor(id, what string, ok func(hook.Subscription) bool) hook.Subscription {
	h.t.Helper()
	var got hook.Subscription
	testutil.Eventually(h.t, what, func() bool {
		h.mu.Lock()
		defer h.mu.Unlock()
		got = h.saved[id]
		return ok(got)
	})
	return got
}

func (h *harness) logged() string {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.log.String()
}

func TestTheManagerFollowsThePublicURL(t *testing.T) {
	st := subscribetest.New()
	defer st.Close()
	st.Set(func(s *subscribetest.Server) { s.DiagralURL = "https://someone-else.example/hook" }) // another system holds it
	diag := Settings{"base_url": st.DiagralURLBase(), "serial_id": subscribetest.DiagralSerial, "api_key": subscribetest.DiagralKey,
		"secret_key": subscribetest.DiagralSecret, "subscribe_alert": true, "subscribe_anomaly": true, "subscribe_state": true}
	dev := Settings{"base_url": st.DevicesURLBase(), "api_token": subscribetest.Token, "organization_id": float64(6), "signature_header": "X-Signature"}
	h := newHarness(t, map[string]Settings{"d": diag, "p": dev}, 5*time.Second)
	h.m.Set(hook.Subscription{ID: "d", EndpointID: "e", Provider: "diagral", Enabled: true, Status: hook.SubscriptionPending})
	h.m.Set(hook.Subscription{ID: "p", EndpointID: "e", Provider: "device-platform-v2", Enabled: true, Status: hook.SubscriptionPending})
	h.waitFor("d", "pending without a URL", func(s hook.Subscription) bool {
		return s.Status == hook.SubscriptionPending && strings.Contains(s.LastError, "waiting for a public URL")
	})
	h.setURL("http://192.168.1.5:8791/webhook/e") // not https: providers that demand it wait
	h.waitFor("p", "pending for http", func(s hook.Subscription) bool { return strings.Contains(s.LastError, "accepts only https://") })
	if st.Count("POST /devices") != 0 {
		t.Error("an http URL was sent to a provider that refuses it")
	}
	h.setURL("https://one.trycloudflare.com/webhook/e")
	h.waitFor("d", "registered", func(s hook.Subscription) bool { return s.Status == hook.SubscriptionRegistered })
	h.waitFor("p", "registered", func(s hook.Subscription) bool { return s.Status == hook.SubscriptionRegistered && s.RemoteID == "1" })
	if st.State().DiagralURL != "https://one.trycloudflare.com/webhook/e" || !strings.Contains(h.logged(), "the provider held another URL for front door; forcing it") {
		t.Errorf("forced update: %q\n%s", st.State().DiagralURL, h.logged())
	}
	if !strings.Contains(h.logged(), "Webhook successfully registered for front door (1) on https://one.trycloudflare.com/webhook/e") {
		t.Errorf("log:\n%s", h.logged())
	}
	if len(h.secrets) != 1 || h.secrets[0].Secret != subscribetest.SecretHmac || h.secrets[0].Header != "X-Signature" {
		t.Errorf("secrets %+v", h.secrets)
	}
	// The quick tunnel restarts with a new URL: both follow, without the clock moving.
	h.setURL("https://two.trycloudflare.com/webhook/e")
	h.waitFor("d", "re-registered", func(s hook.Subscription) bool { return s.RegisteredURL == "https://two.trycloudflare.com/webhook/e" })
	h.waitFor("p", "re-registered", func(s hook.Subscription) bool {
		return s.RegisteredURL == "https://two.trycloudflare.com/webhook/e" && s.RemoteID == "2"
	})
	if st.State().DiagralURL != "https://two.trycloudflare.com/webhook/e" {
		t.Errorf("diagral holds %q", st.State().DiagralURL)
	}
	// Unregister removes it at the provider.
	if _, err := h.m.Unregister(context.Background(), "d"); err != nil || st.State().DiagralURL != "" {
		t.Errorf("unregister: %v, diagral holds %q", err, st.State().DiagralURL)
	}
}

func TestFailuresRetryWithBackoffAndAHangingProviderHoldsUpNoOther(t *testing.T) {
	st := subscribetest.New()
	defer st.Close()
	hang := subscribetest.New()
	defer hang.Close()
	hang.Set(func(s *subscribetest.Server) { s.Hang = time.Hour })
	gh := Settings{"base_url": st.GitHubURLBase(), "token": subscribetest.Token, "repository": "me/house", "events": []any{"*"}}
	slow := Settings{"base_url": hang.StripeURLBase(), "api_key": subscribetest.Token, "enabled_events": []any{"*"}}
	h := newHarness(t, map[string]Settings{"g": gh, "s": slow}, 300*time.Millisecond)
	h.url = "https://a.example/webhook/e"
	st.Set(func(s *subscribetest.Server) { s.Fail = http.StatusServiceUnavailable })
	h.m.Set(hook.Subscription{ID: "s", EndpointID: "e", Provider: "stripe", Enabled: true})
	h.m.Set(hook.Subscription{ID: "g", EndpointID: "e", Provider: "github", Enabled: true})
	h.waitFor("s", "the hanging provider to time out", func(s hook.Subscription) bool {
		return s.Status == hook.SubscriptionFailed && strings.Contains(s.LastError, "did not answer in time")
	})
	got := h.waitFor("g", "a failure", func(s hook.Subscription) bool { return s.Status == hook.SubscriptionFailed })
	if !strings.Contains(got.LastError, "503") || !strings.Contains(got.LastError, "trying again at") {
		t.Errorf("error %q", got.LastError)
	}
	h.clock.WaitForWaiters(2)
	if p := h.clock.Pending(); p[0] != 5*time.Second {
		t.Errorf("first retry after %v, want 5s", p)
	}
	st.Set(func(s *subscribetest.Server) { s.Fail = 0 })
	h.clock.Advance(5 * time.Second)
	h.waitFor("g", "registered after the retry", func(s hook.Subscription) bool { return s.Status == hook.SubscriptionRegistered })
}

func TestDiagralKeysFromTheAccount(t *testing.T) {
	st := subscribetest.New()
	defer st.Close()
	client := &http.Client{Timeout: 5 * time.Second}
	key, secret, err := DiagralKeys(context.Background(), client, st.DiagralURLBase(), subscribetest.DiagralEmail, subscribetest.DiagralPassword, subscribetest.DiagralSerial)
	if err != nil || key != subscribetest.DiagralKey || secret != subscribetest.DiagralSecret {
		t.Errorf("%q %q %v", key, secret, err)
	}
	if _, _, err := DiagralKeys(context.Background(), client, st.DiagralURLBase(), subscribetest.DiagralEmail, "wrong", subscribetest.DiagralSerial); err == nil ||
		!strings.Contains(err.Error(), "refused the e-mail and password") {
		t.Errorf("wrong password: %v", err)
	}
}

// Diagral's read lags (or another client registered at the same moment): it says there is no
// subscription, then refuses to create one because one exists. That means it exists: Hooktray
// updates it, once, and records the forced update, instead of looping GET 404 → POST 409.
func TestDiagralAlreadyExistsIsAForcedUpdateNotALoop(t *testing.T) {
	st := subscribetest.New()
	defer st.Close()
	st.Set(func(s *subscribetest.Server) {
		s.DiagralURL = "https://another-client.example/hook"
		s.DiagralStaleReads = 1000 // every read says none
	})
	diag := Settings{"base_url": st.DiagralURLBase(), "serial_id": subscribetest.DiagralSerial, "api_key": subscribetest.DiagralKey,
		"secret_key": subscribetest.DiagralSecret, "subscribe_alert": true, "subscribe_anomaly": true, "subscribe_state": true}
	h := newHarness(t, map[string]Settings{"d": diag}, 5*time.Second)
	h.url = "https://one.trycloudflare.com/webhook/e"
	h.m.Set(hook.Subscription{ID: "d", EndpointID: "e", Provider: "diagral", Enabled: true, Status: hook.SubscriptionPending})
	got := h.waitFor("d", "registered", func(s hook.Subscription) bool { return s.Status == hook.SubscriptionRegistered })
	if st.State().DiagralURL != h.url {
		t.Errorf("Diagral holds %q, want Hooktray's URL", st.State().DiagralURL)
	}
	if st.Count("POST /diagral") != 1 || st.Count("PUT /diagral") != 1 {
		t.Errorf("%d POSTs and %d PUTs, want one each", st.Count("POST /diagral"), st.Count("PUT /diagral"))
	}
	if got.Forced == nil || got.Forced.To != h.url || got.Forced.At.IsZero() {
		t.Errorf("forced update %+v not recorded", got.Forced)
	}
	if !strings.Contains(h.logged(), "the provider held another URL for front door; forcing it to this one") {
		t.Errorf("the forced update was not logged as seed 000 says:\n%s", h.logged())
	}
}
