package app

import (
	"context"
	"errors"
	"net/http"
	"os"
	"strings"
	"sync"
	"time"

	"github.com/hooktray/hooktray/app/instance"
	"github.com/hooktray/hooktray/hook"
	"github.com/hooktray/hooktray/tunnel"
)

// tunnelState holds the current tunnel status and the cloudflared log.
type tunnelState struct {
	mu      sync.Mutex
	st      tunnel.Status
	log     *tunnel.LogBuffer
	missing bool               // no cloudflared binary was found
	stop    context.CancelFunc // ends the running cloudflared, if any
	done    chan struct{}      // closed when it has ended
}

func (t *tunnelState) get() tunnel.Status {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.st
}

// startTunnel decides the tunnel from the options and, for quick and named tunnels, runs
// cloudflared in the background. Without a binary, or with a bad one, the state says why and
// everything works locally.
func (h *Hub) startTunnel(ctx context.Context) {
	h.tunnel.mu.Lock()
	o := h.opts.Tunnel
	h.tunnel.mu.Unlock()
	mode := o.Mode
	if mode == "" {
		mode = tunnel.Off
		if o.PublicURL != "" {
			mode = tunnel.External
		}
	}
	if h.tunnel.log == nil {
		h.tunnel.log = tunnel.NewLogBuffer(500)
	}
	st := tunnel.Status{Mode: mode, State: tunnel.StateOff}
	missing := false
	var cf *tunnel.Cloudflared
	switch {
	case o.PublicURL != "" && mode != tunnel.Token:
		// An external URL the user already has wins over any tunnel.
		st.State, st.URL = tunnel.StateOnline, strings.TrimRight(o.PublicURL, "/")
	case mode == tunnel.External:
		st.State, st.Error = tunnel.StateFailed, "the external tunnel mode needs the public URL you already have (reverse proxy, port forward)"
	case mode == tunnel.Token && o.Token == "":
		st.State, st.Error = tunnel.StateFailed, "a named tunnel needs its token: copy it from the Cloudflare dashboard"
	case mode == tunnel.Quick || mode == tunnel.Token:
		bin, err := tunnel.FindCloudflared(o.Cloudflared, h.opts.DataDir)
		if err == nil {
			_, err = tunnel.Version(ctx, bin)
		}
		if err != nil {
			st.State, st.Error = tunnel.StateFailed, err.Error()
			missing = errors.Is(err, tunnel.ErrNoBinary)
			break
		}
		cf = &tunnel.Cloudflared{
			Binary: bin, Mode: mode, Token: o.Token, Hostname: o.PublicURL,
			Origin: h.recvURL, StateDir: h.opts.DataDir, Log: h.tunnel.log, Watchdog: watchdogExe(),
			OnStatus: h.setTunnel,
			// Leaves time within the 5 s in which a stopping Hooktray exits.
			StopGrace: 3 * time.Second,
		}
		st.State = tunnel.StateStarting
	}
	h.tunnel.mu.Lock()
	h.tunnel.st, h.tunnel.missing = st, missing
	h.tunnel.mu.Unlock()
	if cf != nil {
		ctx, cancel := context.WithCancel(h.ctx)
		done := make(chan struct{})
		h.tunnel.mu.Lock()
		h.tunnel.stop, h.tunnel.done = cancel, done
		h.tunnel.mu.Unlock()
		h.background.Add(1)
		go func() {
			defer h.background.Done()
			defer close(done)
			cf.Run(ctx)
		}()
	}
	h.changes.Publish(hook.TunnelChanged)
}

// restartTunnel stops the running cloudflared, if any, and starts the tunnel again.
func (h *Hub) restartTunnel(ctx context.Context) {
	h.tunnel.mu.Lock()
	stop, done := h.tunnel.stop, h.tunnel.done
	h.tunnel.stop, h.tunnel.done = nil, nil
	h.tunnel.mu.Unlock()
	if stop != nil {
		stop()
		<-done
	}
	h.startTunnel(ctx)
}

// SetTunnel changes how endpoints become public (the desktop app's tunnel settings) and restarts
// the tunnel. Invalid options give *hook.FieldError naming the field.
func (h *Hub) SetTunnel(ctx context.Context, o tunnel.Settings) error {
	if _, err := tunnel.ParseMode(string(o.Mode)); err != nil {
		return &hook.FieldError{Field: "mode", Message: err.Error()}
	}
	if o.PublicURL != "" {
		if err := tunnel.ValidatePublicURL(o.PublicURL); err != nil {
			return &hook.FieldError{Field: "public_url", Message: err.Error()}
		}
	}
	if o.Mode == tunnel.External && o.PublicURL == "" {
		return &hook.FieldError{Field: "public_url", Message: "give the public URL you already have"}
	}
	if o.Mode == tunnel.Token && o.PublicURL == "" {
		return &hook.FieldError{Field: "public_url", Message: "give the named tunnel's public hostname"}
	}
	h.tunnel.mu.Lock()
	if o.Cloudflared == "" {
		o.Cloudflared = h.opts.Tunnel.Cloudflared
	}
	if o.Token == "" && o.Mode == tunnel.Token {
		o.Token = h.opts.Tunnel.Token // keep the one given at start unless replaced
	}
	h.opts.Tunnel = o
	h.tunnel.mu.Unlock()
	h.restartTunnel(ctx)
	return nil
}

// TunnelSettings returns the tunnel options in force, without the token (HasToken says whether
// one is set).
func (h *Hub) TunnelSettings() (o tunnel.Settings, hasToken bool) {
	h.tunnel.mu.Lock()
	defer h.tunnel.mu.Unlock()
	o = h.opts.Tunnel
	hasToken, o.Token = o.Token != "", ""
	return o, hasToken
}

// CloudflaredMissing reports whether a tunnel was asked for but no cloudflared was found, so the
// desktop app can offer to download it.
func (h *Hub) CloudflaredMissing() bool {
	h.tunnel.mu.Lock()
	defer h.tunnel.mu.Unlock()
	return h.tunnel.missing
}

// InstallCloudflared downloads the cloudflared release pinned in the repository into the data
// dir, checks its SHA-256, and restarts the tunnel with it. progress gets bytes done and total.
func (h *Hub) InstallCloudflared(ctx context.Context, progress func(done, total int64)) error {
	rel, err := tunnel.PinnedRelease()
	if err != nil {
		return err
	}
	path, err := tunnel.Download(ctx, &http.Client{Timeout: 10 * time.Minute}, rel, tunnel.Platform(), h.opts.DataDir, progress)
	if err != nil {
		return err
	}
	h.tunnel.log.Add("hooktray: installed cloudflared " + rel.Version + " at " + path)
	h.restartTunnel(ctx)
	return nil
}

// setTunnel records a new tunnel status; a change of public URL rewrites runtime.json and is
// published so that views (and subscriptions, later) follow it.
func (h *Hub) setTunnel(st tunnel.Status) {
	h.tunnel.mu.Lock()
	old := h.tunnel.st
	h.tunnel.st = st
	h.tunnel.mu.Unlock()
	if st == old {
		return
	}
	if st.URL != old.URL && h.ctx.Err() == nil {
		if err := instance.WriteRuntime(h.opts.DataDir, h.runtime()); err != nil {
			h.log.Error("update runtime.json", "err", err)
		}
		h.log.Info("public URL changed", "url", st.URL)
	}
	if st.State != old.State && st.Error != "" {
		h.log.Warn("tunnel", "state", st.State, "reason", st.Error)
	}
	h.changes.Publish(hook.TunnelChanged)
}

// TunnelStatus reports the tunnel's mode, state, public URL and last error.
func (h *Hub) TunnelStatus() tunnel.Status { return h.tunnel.get() }

// TunnelLog returns the last lines of cloudflared's log, oldest first.
func (h *Hub) TunnelLog() []string {
	if h.tunnel.log == nil {
		return nil
	}
	return h.tunnel.log.Lines()
}

// PublicURL is the public base URL endpoints are reachable at, or "" when local only.
func (h *Hub) PublicURL() string {
	st := h.tunnel.get()
	if st.State == tunnel.StateOnline {
		return st.URL
	}
	return ""
}

// watchdogExe is this executable where cloudflared must run under its watchdog (macOS), else "".
func watchdogExe() string {
	if !tunnel.NeedsWatchdog() {
		return ""
	}
	exe, err := os.Executable()
	if err != nil {
		return ""
	}
	return exe
}
