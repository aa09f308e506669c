package reach

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
	"github.com/hooktray/hooktray/app/netmsg"
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
}

// NewProbeSecret is a fresh secret probe path for the receiver and the prober.
func NewProbeSecret() string {
	var b [24]byte
	rand.Read(b[:])
	return hex.EncodeToString(b[:])
}

// ProbeSecret is the receiver's secret probe path (receiver.Options.ProbeSecret).
func (s *Service) ProbeSecret() string { return s.probe.secret }

// Reachability returns the last probe's result.
func (s *Service) Reachability() tunnel.Reachability {
	s.probe.mu.Lock()
	defer s.probe.mu.Unlock()
	return s.probe.last
}

// Reachable is the public base URL when the last probe found that it leads here, else "".
func (s *Service) Reachable() string {
	if r := s.Reachability(); r.Reachable {
		return r.URL
	}
	return ""
}

// ProbeNow asks for a reachability probe soon (the tray's "Check now").
func (s *Service) ProbeNow() {
	select {
	case s.probe.kick <- struct{}{}:
	default:
	}
}

// probeLoop probes the public URL when it appears or changes, every probeEvery while online, and
// on demand. It sleeps while there is no public URL.
func (s *Service) probeLoop(changes *live.Subscription[hook.Change]) {
	defer s.background.Done()
	defer changes.Close()
	timer := time.NewTimer(time.Hour)
	timer.Stop()
	defer timer.Stop()
	probe := func() {
		if s.probeAndRecord() {
			timer.Reset(probeEvery)
		}
	}
	probe()
	for {
		select {
		case <-s.ctx.Done():
			return
		case <-s.probe.kick:
			probe()
		case <-timer.C:
			probe()
		case <-changes.Ready():
			moved, inbox := drainChanges(changes)
			if inbox {
				s.replan()
			}
			if (moved || inbox) && (s.PublicURL() != s.Reachability().URL || s.Status().Mode == tunnel.Inbox) {
				probe()
			}
		}
	}
}

// drainChanges drains what changes holds and says whether the tunnel, or the inbox, was among it.
func drainChanges(changes *live.Subscription[hook.Change]) (tunnelChanged, inboxChanged bool) {
	for {
		m, ok, err := changes.TryNext()
		if err != nil || !ok {
			return tunnelChanged, inboxChanged
		}
		tunnelChanged = tunnelChanged || m.Event == hook.TunnelChanged
		inboxChanged = inboxChanged || m.Event == hook.InboxChanged
	}
}

// probeAndRecord probes the public URL, if there is one, and keeps the result; false when there
// was nothing to probe.
func (s *Service) probeAndRecord() bool {
	url := s.PublicURL()
	if url == "" {
		return false
	}
	var r tunnel.Reachability
	if s.Status().Mode == tunnel.Inbox {
		// The inbox answers for Hooktray, which reaches it from inside: reachable is connected.
		connected, why := s.opts.Inbox.Connected()
		if !connected && why == "" {
			return true // still connecting: nothing known yet
		}
		r = tunnel.Reachability{Checked: time.Now(), URL: url, Reachable: connected}
		if !connected {
			r.Error = "the always-on inbox keeps webhooks, but Hooktray cannot take them: " + why
		}
	} else {
		r = s.probeOnce(s.ctx, url)
	}
	s.probe.mu.Lock()
	changed := r.Reachable != s.probe.last.Reachable || r.Error != s.probe.last.Error || r.URL != s.probe.last.URL
	s.probe.last = r
	s.probe.mu.Unlock()
	if !r.Reachable && s.ctx.Err() == nil {
		s.opts.Log.Warn("public URL not reachable", "url", url, "reason", r.Error)
	}
	if changed {
		s.opts.Changes.Publish(hook.ReachabilityChanged)
	}
	return true
}

// probeOnce sends a signed probe through the public URL to the receiver's secret probe path.
func (s *Service) probeOnce(ctx context.Context, base string) tunnel.Reachability {
	r := tunnel.Reachability{Checked: time.Now(), URL: base}
	nonce := NewProbeSecret()
	ctx, cancel := context.WithTimeout(ctx, 15*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, strings.TrimRight(base, "/")+receiver.ProbePrefix+s.probe.secret, nil)
	if err != nil {
		r.Error = fmt.Sprintf("the public URL %s is not usable: %v", base, err)
		return r
	}
	req.Header.Set(receiver.ProbeNonceHeader, nonce)
	start := time.Now()
	resp, err := s.opts.ProbeClient.Do(req)
	if err != nil {
		var ue *url.Error
		if errors.As(err, &ue) {
			err = ue.Err // without the URL: its path is the probe secret
		}
		why := err.Error()
		if u, perr := url.Parse(base); perr == nil {
			if s := netmsg.Explain(u.Host, err); s != "" {
				why = s
			}
		}
		r.Error = fmt.Sprintf("a request to %s did not come back: %s", base, why)
		return r
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(io.LimitReader(resp.Body, 256))
	r.RTT = time.Since(start)
	if resp.StatusCode != http.StatusOK || strings.TrimSpace(string(body)) != receiver.ProbeAnswer(s.probe.secret, nonce) {
		r.Error = fmt.Sprintf("%s answered %s, but not as this Hooktray: the tunnel or proxy does not lead here", base, resp.Status)
		return r
	}
	r.Reachable = true
	return r
}
