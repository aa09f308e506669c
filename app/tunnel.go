package app

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"strings"
	"sync"
	"time"

	"github.com/hooktray/hooktray/app/instance"
	"github.com/hooktray/hooktray/hook"
	"github.com/hooktray/hooktray/tunnel"
)

// Where the tunnel settings made in the app or through the API are kept: a setting (JSON) and,
// for the named tunnel's token, a sealed secret.
const (
	settingTunnel     = "tunnel"
	secretTunnelToken = "tunnel-token"
)

// tunnelState holds the current tunnel status, the cloudflared log, and what is known of the
// cloudflared binary.
type tunnelState struct {
	mu      sync.Mutex
	st      tunnel.Status
	log     *tunnel.LogBuffer
	missing bool               // no cloudflared binary was found
	stop    context.CancelFunc // ends the running cloudflared, if any
	done    chan struct{}      // closed when it has ended
	binary  tunnel.Binary      // the cloudflared in use, its version and any newer release
	install tunnel.InstallStatus
	// installing is set while a download runs; one at a time.
	installing bool
	// checkedAt is when the Releases API was last asked for the newest release.
	checkedAt time.Time
	// tokenUnreadable is set when the stored token was sealed with another master key.
	tokenUnreadable bool
}

func (t *tunnelState) get() tunnel.Status {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.st
}

// storedTunnel is the tunnel setting as kept in the database.
type storedTunnel struct {
	Mode      tunnel.Mode `json:"mode"`
	PublicURL string      `json:"public_url,omitempty"`
}

// loadTunnelSettings decides the tunnel settings at start: flags and environment first, then what
// was set in the app or through the API, then Options.TunnelDefault. The stored token is used
// when none was given.
func (h *Hub) loadTunnelSettings(ctx context.Context) error {
	o := h.opts.Tunnel
	raw, ok, err := h.store.Setting(ctx, settingTunnel)
	if err != nil {
		return err
	}
	if o.Mode == "" && o.PublicURL == "" {
		var saved storedTunnel
		switch {
		case ok && json.Unmarshal([]byte(raw), &saved) == nil:
			if _, err := tunnel.ParseMode(string(saved.Mode)); err == nil {
				o.Mode, o.PublicURL = saved.Mode, saved.PublicURL
			}
		case ok:
			h.log.Warn("the stored tunnel setting is unreadable; using the default", "setting", raw)
		}
		if o.Mode == "" && o.PublicURL == "" {
			o.Mode = h.opts.TunnelDefault
		}
	}
	if o.Token == "" {
		nonce, ct, err := h.store.AppSecret(ctx, secretTunnelToken)
		if err != nil {
			return err
		}
		if nonce != nil {
			token, err := h.box.Unseal(nonce, ct, secretTunnelToken)
			if err != nil {
				h.tunnel.tokenUnreadable = true
				h.log.Error("the stored tunnel token cannot be read (the master key that sealed it is missing or another); enter it again", "key_looked_for_in", h.box.Where())
			}
			o.Token = token
		}
	}
	h.tunnel.mu.Lock()
	h.opts.Tunnel = o
	h.tunnel.mu.Unlock()
	return nil
}

// effectiveMode is the mode the settings amount to: an empty mode is external with a public URL,
// else off.
func effectiveMode(o tunnel.Settings) tunnel.Mode {
	if o.Mode != "" {
		return o.Mode
	}
	if o.PublicURL != "" {
		return tunnel.External
	}
	return tunnel.Off
}

// startTunnel starts the tunnel the settings ask for: quick and named tunnels run cloudflared in
// the background. Without a binary, or with a bad one, the state says why and everything works
// locally.
func (h *Hub) startTunnel(ctx context.Context) {
	h.tunnel.mu.Lock()
	o := h.opts.Tunnel
	tokenUnreadable := h.tunnel.tokenUnreadable
	if h.tunnel.log == nil {
		h.tunnel.log = tunnel.NewLogBuffer(500)
	}
	h.tunnel.mu.Unlock()
	mode := effectiveMode(o)
	st := tunnel.Status{Mode: mode, State: tunnel.StateOff}
	missing := false
	var cf *tunnel.Cloudflared
	var bin tunnel.Binary
	switch {
	case o.PublicURL != "" && mode != tunnel.Token:
		// An external URL the user already has wins over any tunnel.
		st.State, st.URL = tunnel.StateOnline, strings.TrimRight(o.PublicURL, "/")
	case mode == tunnel.External:
		st.State, st.Error = tunnel.StateFailed, "the external tunnel mode needs the public URL you already have (reverse proxy, port forward)"
	case mode == tunnel.Token && o.Token == "" && tokenUnreadable:
		st.State, st.Error = tunnel.StateFailed, "the stored tunnel token cannot be read (its master key is missing): enter the token again in the tunnel settings"
	case mode == tunnel.Token && o.Token == "":
		st.State, st.Error = tunnel.StateFailed, "a named tunnel needs its token: copy it from the Cloudflare dashboard into the tunnel settings"
	case mode == tunnel.Quick || mode == tunnel.Token:
		path, err := tunnel.FindCloudflared(o.Cloudflared, h.opts.DataDir)
		var line string
		if err == nil {
			line, err = tunnel.CheckBinary(ctx, path)
		}
		if err != nil {
			st.State, st.Error = tunnel.StateFailed, err.Error()
			missing = errors.Is(err, tunnel.ErrNoBinary)
			break
		}
		bin = tunnel.Binary{Path: path, Version: line}
		if v, err := tunnel.ParseVersion(line); err == nil && v.OlderThanAYear(h.opts.Clock.Now()) {
			bin.Warning = fmt.Sprintf("cloudflared %s is more than a year old and Cloudflare supports only the last year's releases: update it", v)
		}
		cf = &tunnel.Cloudflared{
			Binary: path, Mode: mode, Token: o.Token, Hostname: o.PublicURL,
			Origin: h.recvURL, StateDir: h.opts.DataDir, Log: h.tunnel.log, Watchdog: watchdogExe(),
			OnStatus: h.setTunnel,
			// Leaves time within the 5 s in which a stopping Hooktray exits.
			StopGrace: 3 * time.Second,
		}
		st.State = tunnel.StateStarting
	}
	h.tunnel.mu.Lock()
	h.tunnel.st, h.tunnel.missing = st, missing
	if bin.Path != "" {
		bin.Latest, bin.UpdateAvailable = h.tunnel.binary.Latest, newer(h.tunnel.binary.Latest, bin.Version)
	}
	h.tunnel.binary = bin
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
		h.checkForUpdate()
	}
	h.changes.Publish(hook.TunnelChanged)
}

// stopTunnel stops the running cloudflared, if any, and waits until it has ended.
func (h *Hub) stopTunnel() {
	h.tunnel.mu.Lock()
	stop, done := h.tunnel.stop, h.tunnel.done
	h.tunnel.stop, h.tunnel.done = nil, nil
	h.tunnel.mu.Unlock()
	if stop != nil {
		stop()
		<-done
	}
}

// restartTunnel stops the running cloudflared, if any, and starts the tunnel again.
func (h *Hub) restartTunnel(ctx context.Context) {
	h.stopTunnel()
	h.startTunnel(ctx)
}

// SetTunnel changes how endpoints become public, remembers it (the token sealed like endpoint
// secrets), and applies it at once. Invalid settings give *hook.FieldError naming the field.
func (h *Hub) SetTunnel(ctx context.Context, c tunnel.SettingsChange) error {
	h.tunnel.mu.Lock()
	o := h.opts.Tunnel
	h.tunnel.mu.Unlock()
	if c.Mode != nil {
		if _, err := tunnel.ParseMode(string(*c.Mode)); err != nil {
			return &hook.FieldError{Field: "mode", Message: err.Error()}
		}
		o.Mode = *c.Mode
	}
	if c.PublicURL != nil {
		o.PublicURL = strings.TrimSpace(*c.PublicURL)
	}
	if c.Token != nil {
		o.Token = strings.TrimSpace(*c.Token)
	}
	if o.Mode == "" {
		o.Mode = effectiveMode(o)
	}
	if o.PublicURL != "" {
		if o.Mode == tunnel.Token && !strings.Contains(o.PublicURL, "://") {
			o.PublicURL = "https://" + o.PublicURL // a named tunnel's hostname as the dashboard shows it
		}
		if err := tunnel.ValidatePublicURL(o.PublicURL); err != nil {
			return &hook.FieldError{Field: "public_url", Message: err.Error()}
		}
	}
	if o.Mode == tunnel.External && o.PublicURL == "" {
		return &hook.FieldError{Field: "public_url", Message: "give the public URL you already have"}
	}
	if o.Mode == tunnel.Token && o.Token == "" {
		return &hook.FieldError{Field: "token", Message: "a named tunnel needs its token: copy it from the Cloudflare dashboard (Networks → Tunnels → your tunnel)"}
	}
	saved, err := json.Marshal(storedTunnel{Mode: o.Mode, PublicURL: o.PublicURL})
	if err != nil {
		return err
	}
	if err := h.store.PutSetting(ctx, settingTunnel, string(saved)); err != nil {
		h.noteStorageError(err)
		return err
	}
	if c.Token != nil {
		if err := h.storeTunnelToken(ctx, o.Token); err != nil {
			return err
		}
	}
	h.tunnel.mu.Lock()
	h.opts.Tunnel.Mode, h.opts.Tunnel.PublicURL, h.opts.Tunnel.Token = o.Mode, o.PublicURL, o.Token
	h.tunnel.mu.Unlock()
	h.log.Info("tunnel settings changed", "mode", o.Mode, "public_url", o.PublicURL, "token_set", o.Token != "")
	h.restartTunnel(ctx)
	return nil
}

// storeTunnelToken seals and keeps the named tunnel's token, or removes it when empty.
func (h *Hub) storeTunnelToken(ctx context.Context, token string) error {
	if token == "" {
		err := h.store.DeleteAppSecret(ctx, secretTunnelToken)
		h.noteStorageError(err)
		return err
	}
	if h.box.Missing() {
		if err := h.box.Create(); err != nil {
			return err
		}
	}
	nonce, ct := h.box.Seal(token, secretTunnelToken)
	if err := h.store.PutAppSecret(ctx, secretTunnelToken, nonce, ct); err != nil {
		h.noteStorageError(err)
		return err
	}
	h.tunnel.mu.Lock()
	h.tunnel.tokenUnreadable = false
	h.tunnel.mu.Unlock()
	return nil
}

// TunnelSettings returns the tunnel settings in force, without the token (hasToken says whether
// one is set).
func (h *Hub) TunnelSettings() (o tunnel.Settings, hasToken bool) {
	h.tunnel.mu.Lock()
	defer h.tunnel.mu.Unlock()
	o = h.opts.Tunnel
	o.Mode = effectiveMode(o)
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
	if st.Error != "" && st.Error != old.Error {
		h.log.Warn("tunnel", "state", st.State, "reason", st.Error)
	}
	h.changes.Publish(hook.TunnelChanged)
}

// TunnelStatus reports the tunnel's mode, state, public URL and last error.
func (h *Hub) TunnelStatus() tunnel.Status { return h.tunnel.get() }

// TunnelLog returns the last lines of cloudflared's log, oldest first.
func (h *Hub) TunnelLog() []string {
	h.tunnel.mu.Lock()
	log := h.tunnel.log
	h.tunnel.mu.Unlock()
	if log == nil {
		return nil
	}
	return log.Lines()
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
