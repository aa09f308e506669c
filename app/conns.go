package app

import (
	"net"
	"net/http"
	"sync"
)

// idleNew tracks a server's connections that have not sent a byte yet. http.Server.Shutdown
// counts such a connection as busy for its first 5 s (it may be about to send a request), so one
// opened by a client's connection pool and never used would hold a shutdown past its deadline.
// Nothing was received on them, so closing them loses nothing.
type idleNew struct {
	mu      sync.Mutex
	conns   map[net.Conn]struct{}
	closing bool
}

// track is the server's ConnState hook.
func (t *idleNew) track(c net.Conn, state http.ConnState) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if state != http.StateNew {
		delete(t.conns, c)
		return
	}
	if t.closing {
		c.Close()
		return
	}
	if t.conns == nil {
		t.conns = map[net.Conn]struct{}{}
	}
	t.conns[c] = struct{}{}
}

// closeAll closes the connections that never sent anything, now and from now on.
func (t *idleNew) closeAll() {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.closing = true
	for c := range t.conns {
		c.Close()
	}
	clear(t.conns)
}
