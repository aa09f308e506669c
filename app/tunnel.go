package app

import (
	"strings"
	"sync"

	"github.com/hooktray/hooktray/tunnel"
)

// TunnelOptions choose how endpoints become public.
type TunnelOptions struct {
	Mode      tunnel.Mode // "" means external when PublicURL is set, else off
	Token     string      // named tunnel token (mode token)
	PublicURL string      // external base URL; takes priority over any tunnel
}

// tunnelState holds the current tunnel status.
type tunnelState struct {
	mu sync.Mutex
	st tunnel.Status
}

func (t *tunnelState) init(o TunnelOptions) {
	t.mu.Lock()
	defer t.mu.Unlock()
	mode := o.Mode
	if mode == "" {
		mode = tunnel.Off
		if o.PublicURL != "" {
			mode = tunnel.External
		}
	}
	t.st = tunnel.Status{Mode: mode, State: tunnel.StateOff}
	switch {
	case o.PublicURL != "":
		// An external URL the user already has wins over any tunnel.
		t.st.State, t.st.URL = tunnel.StateOnline, strings.TrimRight(o.PublicURL, "/")
	case mode == tunnel.Quick || mode == tunnel.Token:
		t.st.State = tunnel.StateFailed
		t.st.Error = "this build does not run cloudflared tunnels yet, so endpoints are reachable locally only; use --public-url for a public address you already have"
	case mode == tunnel.External:
		t.st.State = tunnel.StateFailed
		t.st.Error = "tunnel mode external needs --public-url"
	}
}

func (t *tunnelState) get() tunnel.Status {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.st
}

// TunnelStatus reports the tunnel's mode, state, public URL and last error.
func (h *Hub) TunnelStatus() tunnel.Status { return h.tunnel.get() }

// PublicURL is the public base URL endpoints are reachable at, or "" when local only.
func (h *Hub) PublicURL() string {
	st := h.tunnel.get()
	if st.State == tunnel.StateOnline {
		return st.URL
	}
	return ""
}
