package endpoints

import (
	"bytes"
	"context"
	"fmt"
	"net/http"
	"time"

	"github.com/hooktray/hooktray/app/live"
	"github.com/hooktray/hooktray/app/useragent"
	"github.com/hooktray/hooktray/app/verify"
	"github.com/hooktray/hooktray/hook"
)

// Recorded is where a test webhook is found once stored, with the deliveries it queued: the
// history.
type Recorded interface {
	Follow(size int) *live.Subscription[hook.Event]
	Event(ctx context.Context, id int64) (hook.Event, error)
	Deliveries(ctx context.Context, q hook.DeliveryQuery) ([]hook.Delivery, int64, error)
}

// Test sends a webhook.test event to the endpoint as a provider would (seed 003's testWebhook):
// through its public URL when that is known to be reachable, else the local one; signed with the
// endpoint's secret when its scheme signs. It reports the round trip, the stored event and the
// deliveries it queued.
func (s *Service) Test(ctx context.Context, id string) (hook.TestResult, error) {
	ep, err := s.Get(id)
	if err != nil {
		return hook.TestResult{}, err
	}
	to := s.URL(id)
	if base := s.peers.Reachable(); base != "" && base == s.peers.PublicURL() {
		to = s.PublicURL(id)
	}
	stored := s.peers.Recorded.Follow(64)
	defer stored.Close()
	req, err := s.testRequest(ctx, ep, to)
	if err != nil {
		return hook.TestResult{}, err
	}
	start := time.Now()
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return hook.TestResult{}, fmt.Errorf("test endpoint: send to %s: %w", to, err)
	}
	resp.Body.Close()
	res := hook.TestResult{SentTo: to, RoundTrip: time.Since(start)}
	return s.awaitTest(ctx, stored, id, res)
}

// testRequest is the test webhook, signed when the endpoint's scheme signs.
func (s *Service) testRequest(ctx context.Context, ep hook.Endpoint, to string) (*http.Request, error) {
	now := s.opts.Clock.Now()
	body := []byte(fmt.Sprintf(`{"type":"webhook.test","id":"test_%d","message":"Test webhook sent by Hooktray","sent_at":%q}`,
		now.UnixNano(), now.UTC().Format(time.RFC3339)))
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, to, bytes.NewReader(body))
	if err != nil {
		return nil, fmt.Errorf("test endpoint: %w", err)
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("User-Agent", useragent.String(s.opts.Version))
	if !verify.CanSign(ep.VerifyScheme) {
		return req, nil
	}
	if open, _, err := s.openSecrets(ctx, ep.ID, now); err == nil && len(open) > 0 {
		if sig, err := verify.Sign(ep.VerifyScheme, open[0], body, fmt.Sprintf("msg_test_%d", now.UnixNano()), now); err == nil {
			for k, v := range sig {
				req.Header[k] = v
			}
		}
	}
	return req, nil
}

// awaitTest waits for the test webhook to be stored and reads it back with its deliveries.
func (s *Service) awaitTest(ctx context.Context, stored *live.Subscription[hook.Event], id string, res hook.TestResult) (hook.TestResult, error) {
	for {
		m, err := stored.Next(ctx)
		if err != nil {
			return hook.TestResult{}, fmt.Errorf("test endpoint: waiting for the event: %w", err)
		}
		if m.Event.EndpointID != id || m.Event.Method != http.MethodPost {
			continue
		}
		if res.Event, err = s.peers.Recorded.Event(ctx, m.Event.ID); err != nil {
			return hook.TestResult{}, err
		}
		if res.Deliveries, _, err = s.peers.Recorded.Deliveries(ctx, hook.DeliveryQuery{EventID: res.Event.ID}); err != nil {
			return hook.TestResult{}, err
		}
		return res, nil
	}
}
