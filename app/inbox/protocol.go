// Package inbox is the always-on inbox service: a Worker with a Durable Object on the user's own
// Cloudflare account (edge/inbox.js) keeps the webhooks sent while Hooktray is away, at a URL
// that never changes; Hooktray connects out to it over a WebSocket, takes what it kept in order
// through the same ingest path as the receiver, and only then lets the inbox forget it.
package inbox

import (
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"time"

	"github.com/hooktray/hooktray/app/receiver"
	"github.com/hooktray/hooktray/hook"
)

// The messages between Hooktray and the inbox (edge/inbox.js). Hooktray sends JSON: hello (what
// it holds), ack (what it now holds), endpoints (the list the inbox answers by). The inbox sends
// batches as one binary message — a big-endian u32 length, the batch as JSON, then the bodies
// one after another — and JSON for the rest (idle, endpoints_ok).

type hello struct {
	Type string `json:"type"`
	Held int64  `json:"held"`
}

type ack struct {
	Type string `json:"type"`
	Seq  int64  `json:"seq"`
}

// endpointsMsg is the endpoint list the inbox answers by, and what it may hold.
type endpointsMsg struct {
	Type      string         `json:"type"`
	Endpoints []edgeEndpoint `json:"endpoints"`
	Cap       Cap            `json:"cap"`
}

type edgeEndpoint struct {
	ID          string `json:"id"`
	State       string `json:"state"` // enabled, paused, deleted
	Status      int    `json:"status"`
	ContentType string `json:"content_type"`
	Body        string `json:"body"`
	BodyLimit   int64  `json:"body_limit"`
}

// Cap is what the inbox holds at most; past it, it answers 507 and keeps nothing.
type Cap struct {
	Requests int64 `json:"requests"`
	Bytes    int64 `json:"bytes"`
}

// DefaultCap suits the free plan's 5 GB of Durable Object storage with room to spare.
var DefaultCap = Cap{Requests: 50_000, Bytes: 1 << 30}

// orDefault is c with DefaultCap's figure for what it leaves unset.
func (c Cap) orDefault() Cap {
	if c.Requests <= 0 {
		c.Requests = DefaultCap.Requests
	}
	if c.Bytes <= 0 {
		c.Bytes = DefaultCap.Bytes
	}
	return c
}

// incoming is a JSON message from the inbox.
type incoming struct {
	Type     string `json:"type"`
	Requests int64  `json:"requests"` // idle: what it holds
	Bytes    int64  `json:"bytes"`
	Oldest   *int64 `json:"oldest"` // Unix milliseconds of the oldest held, if any
	Waiting  int64  `json:"waiting"`
}

type batchHead struct {
	Requests []stored `json:"requests"`
	Waiting  int64    `json:"waiting"` // held when the batch was made, itself included
}

type stored struct {
	Seq      int64       `json:"seq"`
	Endpoint string      `json:"endpoint"`
	Method   string      `json:"method"`
	Path     string      `json:"path"`
	Query    string      `json:"query"`
	Headers  [][2]string `json:"headers"`
	Size     int64       `json:"size"`
	Remote   string      `json:"remote"`
	ClientIP string      `json:"client_ip"`
	Arrived  int64       `json:"arrived"` // Unix milliseconds
}

// maxBatch bounds a batch message Hooktray reads: the inbox's batch (4 MiB) or one body (at most
// 25 MiB), with room for the JSON.
const maxBatch = 40 << 20

// parseBatch reads a binary batch message into arrivals, in the inbox's order.
func parseBatch(msg []byte) ([]receiver.Arrival, int64, error) {
	if len(msg) < 4 {
		return nil, 0, errors.New("a batch too short for its header")
	}
	n := int(binary.BigEndian.Uint32(msg))
	if n > len(msg)-4 {
		return nil, 0, errors.New("a batch whose header runs past its end")
	}
	var head batchHead
	if err := json.Unmarshal(msg[4:4+n], &head); err != nil {
		return nil, 0, fmt.Errorf("a batch whose header does not decode: %w", err)
	}
	bodies := msg[4+n:]
	out := make([]receiver.Arrival, 0, len(head.Requests))
	var last int64
	for _, r := range head.Requests {
		if r.Size < 0 || r.Size > int64(len(bodies)) {
			return nil, 0, fmt.Errorf("request %d's body runs past the batch", r.Seq)
		}
		if r.Seq <= last {
			return nil, 0, fmt.Errorf("request %d out of order after %d", r.Seq, last)
		}
		last = r.Seq
		h := http.Header{}
		for _, kv := range r.Headers {
			h.Add(kv[0], kv[1])
		}
		out = append(out, receiver.Arrival{
			EndpointID: r.Endpoint, Method: r.Method, Path: r.Path, Query: r.Query, Header: h,
			Body: bodies[:r.Size:r.Size], RemoteAddr: r.Remote, ClientIP: r.ClientIP,
			ReceivedAt: time.UnixMilli(r.Arrived).UTC(), InboxSeq: r.Seq,
		})
		bodies = bodies[r.Size:]
	}
	return out, head.Waiting, nil
}

// edgeEndpoints is the endpoint list as the inbox answers by it.
func edgeEndpoints(all []hook.Endpoint) []edgeEndpoint {
	out := make([]edgeEndpoint, 0, len(all))
	for _, ep := range all {
		state := "enabled"
		switch {
		case ep.Deleted():
			state = "deleted"
		case !ep.Enabled:
			state = "paused"
		}
		out = append(out, edgeEndpoint{ID: ep.ID, State: state, Status: ep.ResponseStatus,
			ContentType: ep.ResponseContentType, Body: string(ep.ResponseBody), BodyLimit: ep.BodyLimit})
	}
	return out
}
