package inbox

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/coder/websocket"

	"github.com/hooktray/hooktray/app/netmsg"
)

// run keeps Hooktray connected to the inbox until ctx ends, waiting longer after each failure.
func (s *Service) run(ctx context.Context) {
	wait := firstRetry
	for ctx.Err() == nil {
		took, err := s.session(ctx)
		if ctx.Err() != nil {
			return
		}
		if took {
			wait = firstRetry // it was connected: the next failure starts the count again
		}
		why := sentenceOf(err)
		s.setStatus(func(st *Status) { st.Connected, st.Error, st.CaughtUp = false, why, false })
		if errors.Is(err, errRefused) {
			wait = refusedRetry
		}
		s.opts.Log.Warn("the always-on inbox is not connected; trying again", "in", wait, "reason", why)
		select {
		case <-ctx.Done():
			return
		case <-s.opts.Clock.After(wait):
		}
		wait = min(2*wait, maxRetry)
	}
}

var errRefused = errors.New("the inbox refused Hooktray's secret: set the inbox up again, or give the right secret (hooktray inbox use)")

func sentenceOf(err error) string {
	if err == nil {
		return "the inbox closed the connection"
	}
	return netmsg.Sentence(err)
}

// session is one connection: it sends the endpoint list and what Hooktray holds, then takes
// batches until the connection ends. took says whether it connected at all.
func (s *Service) session(ctx context.Context) (took bool, err error) {
	secret, _, err := s.secrets.Get(ctx, secretInbox)
	if err != nil || secret == "" {
		return false, fmt.Errorf("the inbox secret cannot be read: set the inbox up again: %w", err)
	}
	conn, resp, err := websocket.Dial(ctx, wsURL(s.PublicURL()), &websocket.DialOptions{
		HTTPClient: s.opts.Client, HTTPHeader: http.Header{"Authorization": {"Bearer " + secret}},
	})
	if err != nil {
		if resp != nil && resp.StatusCode == http.StatusUnauthorized {
			return false, errRefused
		}
		return false, netmsg.Wrap("the inbox", err)
	}
	defer conn.CloseNow()
	conn.SetReadLimit(maxBatch)
	held, err := s.heldSeq(ctx)
	if err != nil {
		return true, err
	}
	if err := s.sendEndpoints(ctx, conn); err != nil {
		return true, err
	}
	if err := writeJSON(ctx, conn, hello{Type: "hello", Held: held}); err != nil {
		return true, err
	}
	s.setStatus(func(st *Status) { st.Connected, st.Error, st.CaughtUp = true, "", false })
	s.opts.Log.Info("connected to the always-on inbox", "url", s.PublicURL(), "holding_up_to", held)
	pushDone := make(chan struct{})
	pctx, stopPush := context.WithCancel(ctx)
	go func() {
		defer close(pushDone)
		s.pushEndpoints(pctx, conn)
	}()
	defer func() { stopPush(); <-pushDone }()
	return true, s.read(ctx, conn)
}

// heldSeq is the highest inbox sequence Hooktray holds: in the history, or journaled this run.
func (s *Service) heldSeq(ctx context.Context) (int64, error) {
	stored, err := s.opts.Store.MaxInboxSeq(ctx)
	if err != nil {
		return 0, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.held = max(s.held, stored)
	return s.held, nil
}

// read takes the inbox's messages: batches are stored, then acknowledged.
func (s *Service) read(ctx context.Context, conn *websocket.Conn) error {
	for {
		typ, msg, err := conn.Read(ctx)
		if err != nil {
			return err
		}
		if typ == websocket.MessageText {
			s.heard(msg)
			continue
		}
		arrivals, waiting, err := parseBatch(msg)
		if err != nil {
			return fmt.Errorf("the inbox sent a batch Hooktray cannot read: %w", err)
		}
		if len(arrivals) == 0 {
			continue
		}
		if _, err := s.opts.Ingest.Ingest(arrivals); err != nil {
			// Not acknowledged: the inbox keeps them, and sends them again on the next connection.
			return fmt.Errorf("the history did not take what the inbox sent: %w", err)
		}
		last := arrivals[len(arrivals)-1].InboxSeq
		s.mu.Lock()
		s.held = max(s.held, last)
		s.mu.Unlock()
		if err := writeJSON(ctx, conn, ack{Type: "ack", Seq: last}); err != nil {
			return err
		}
		now := s.opts.Clock.Now()
		s.mu.Lock()
		st := &s.status
		st.Waiting, st.LastDrain, st.Drained = max(0, waiting-int64(len(arrivals))), now, st.Drained+int64(len(arrivals))
		st.CaughtUp = false // until the inbox says it has no more
		announce := now.Sub(s.announced) >= time.Second || now.Before(s.announced)
		if announce {
			s.announced = now
		}
		s.mu.Unlock()
		if announce { // a drain announces its progress once a second, not once a batch
			s.changed()
		}
	}
}

// heard takes a JSON message of the inbox: what it holds when it has nothing more to send.
func (s *Service) heard(msg []byte) {
	var m incoming
	if json.Unmarshal(msg, &m) != nil || m.Type != "idle" {
		return
	}
	s.setStatus(func(st *Status) {
		st.Waiting, st.Bytes, st.Oldest, st.CaughtUp = m.Requests, m.Bytes, time.Time{}, true
		if m.Oldest != nil {
			st.Oldest = time.UnixMilli(*m.Oldest)
		}
	})
}

// pushEndpoints sends the endpoint list again each time it changes.
func (s *Service) pushEndpoints(ctx context.Context, conn *websocket.Conn) {
	for {
		select {
		case <-ctx.Done():
			return
		case <-s.push:
			if err := s.sendEndpoints(ctx, conn); err != nil {
				conn.Close(websocket.StatusGoingAway, "could not send the endpoints")
				return
			}
		}
	}
}

func (s *Service) sendEndpoints(ctx context.Context, conn *websocket.Conn) error {
	s.mu.Lock()
	cap := s.settings.Cap
	s.mu.Unlock()
	return writeJSON(ctx, conn, endpointsMsg{Type: "endpoints", Endpoints: edgeEndpoints(s.opts.Endpoints.Inventory()), Cap: cap})
}

func writeJSON(ctx context.Context, conn *websocket.Conn, v any) error {
	b, _ := json.Marshal(v)
	ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	return conn.Write(ctx, websocket.MessageText, b)
}

// wsURL is the inbox's WebSocket address for its base URL.
func wsURL(base string) string {
	switch {
	case strings.HasPrefix(base, "https://"):
		base = "wss://" + strings.TrimPrefix(base, "https://")
	case strings.HasPrefix(base, "http://"):
		base = "ws://" + strings.TrimPrefix(base, "http://")
	}
	return base + "/hooktray/connect"
}
