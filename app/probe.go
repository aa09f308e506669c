package app

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"

	"github.com/hooktray/hooktray/app/live"
	"github.com/hooktray/hooktray/app/receiver"
	"github.com/hooktray/hooktray/hook"
	"github.com/hooktray/hooktray/tunnel"
)

// probeEvery is how often an online public URL is checked end to end.
const probeEvery = 5 * time.Minute

type prober struct {
	mu     sync.Mutex
	last   tunnel.Reachability
	secret string
	kick   chan struct{}
	client *http.Client
}

func newProbeSecret() string {
	var b [24]byte
	rand.Read(b[:])
	return hex.EncodeToString(b[:])
}

// Reachability returns the last probe's result.
func (h *Hub) Reachability() tunnel.Reachability {
	h.probe.mu.Lock()
	defer h.probe.mu.Unlock()
	return h.probe.last
}

// ProbeNow asks for a reachability probe soon (the tray's "Check now").
func (h *Hub) ProbeNow() {
	select {
	case h.probe.kick <- struct{}{}:
	default:
	}
}

// probeLoop probes the public URL when it appears or changes, every probeEvery while online, and
// on demand. It sleeps while there is no public URL.
func (h *Hub) probeLoop(changes *live.Subscription[hook.Change]) {
	defer h.background.Done()
	defer changes.Close()
	timer := time.NewTimer(time.Hour)
	timer.Stop()
	defer timer.Stop()
	probe := func() {
		url := h.PublicURL()
		if url == "" {
			return
		}
		r := h.probeOnce(h.ctx, url)
		h.probe.mu.Lock()
		changed := r.Reachable != h.probe.last.Reachable || r.Error != h.probe.last.Error || r.URL != h.probe.last.URL
		h.probe.last = r
		h.probe.mu.Unlock()
		if !r.Reachable && h.ctx.Err() == nil {
			h.log.Warn("public URL not reachable", "url", url, "reason", r.Error)
		}
		if changed {
			h.changes.Publish(hook.ReachabilityChanged)
		}
		timer.Reset(probeEvery)
	}
	probe()
	for {
		select {
		case <-h.ctx.Done():
			return
		case <-h.probe.kick:
			probe()
		case <-timer.C:
			probe()
		case <-changes.Ready():
			tunnelChanged := false
			for {
				m, ok, err := changes.TryNext()
				if err != nil || !ok {
					break
				}
				tunnelChanged = tunnelChanged || m.Event == hook.TunnelChanged
			}
			if tunnelChanged && h.PublicURL() != h.Reachability().URL {
				probe()
			}
		}
	}
}

// probeOnce sends a signed probe through the public URL to the receiver's secret probe path.
func (h *Hub) probeOnce(ctx context.Context, base string) tunnel.Reachability {
	r := tunnel.Reachability{Checked: time.Now(), URL: base}
	nonce := newProbeSecret()
	ctx, cancel := context.WithTimeout(ctx, 15*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, strings.TrimRight(base, "/")+receiver.ProbePrefix+h.probe.secret, nil)
	if err != nil {
		r.Error = fmt.Sprintf("the public URL %s is not usable: %v", base, err)
		return r
	}
	req.Header.Set(receiver.ProbeNonceHeader, nonce)
	start := time.Now()
	resp, err := h.probe.client.Do(req)
	if err != nil {
		var ue *url.Error
		if errors.As(err, &ue) {
			err = ue.Err // without the URL: its path is the probe secret
		}
		r.Error = fmt.Sprintf("a request to %s did not come back: %v", base, err)
		return r
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(io.LimitReader(resp.Body, 256))
	r.RTT = time.Since(start)
	if resp.StatusCode != http.StatusOK || strings.TrimSpace(string(body)) != receiver.ProbeAnswer(h.probe.secret, nonce) {
		r.Error = fmt.Sprintf("%s answered %s, but not as this Hooktray: the tunnel or proxy does not lead here", base, resp.Status)
		return r
	}
	r.Reachable = true
	return r
}
