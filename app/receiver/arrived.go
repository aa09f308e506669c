package receiver

import (
	"net/http"
	"net/url"
	"strconv"
	"time"

	"github.com/hooktray/hooktray/hook"
)

// Arrival is a request another front door received and kept for Hooktray — the always-on inbox,
// while Hooktray was away — to be stored as if it had arrived here, at the time it arrived there.
type Arrival struct {
	EndpointID string
	Method     string
	Path       string
	Query      string // raw, without '?'
	Header     http.Header
	Body       []byte
	RemoteAddr string
	ClientIP   string
	ReceivedAt time.Time // when it reached the inbox: the event's time
	InboxSeq   int64
}

// Ingest stores arrivals as ServeHTTP stores requests — the same verification (as of their
// arrival), type, routing and forwarding — in one journal group, and returns once they are
// durable. The inbox answered them already, so none is refused: one that fails its signature
// check is kept as rejected, as it would have been here. It reports how many events it stored.
func (r *Receiver) Ingest(arrivals []Arrival) (int, error) {
	evs := make([]*hook.Event, 0, len(arrivals))
	for i := range arrivals {
		evs = append(evs, r.arrived(&arrivals[i])...)
	}
	if len(evs) == 0 {
		return 0, nil
	}
	return len(evs), r.store.CommitAll(evs)
}

// arrived is the events one arrival makes: one, a router's copies, or none for an endpoint this
// Hooktray never had.
func (r *Receiver) arrived(a *Arrival) []*hook.Event {
	ev := &hook.Event{
		EndpointID: a.EndpointID, ReceivedAt: a.ReceivedAt.UTC(), Method: a.Method, Path: a.Path, Query: a.Query,
		Header: a.Header, Body: a.Body, Size: int64(len(a.Body)), RemoteAddr: a.RemoteAddr, ClientIP: a.ClientIP,
		DeliveryID: deliveryID(a.Header), InboxSeq: a.InboxSeq, ResponseStatus: http.StatusOK,
	}
	if ev.Header == nil {
		ev.Header = http.Header{}
	}
	ep, gone := r.dir.Lookup(a.EndpointID)
	switch {
	case ep == nil && gone:
		// Deleted after the inbox kept it: kept, with the reason, as a deleted endpoint's history is.
		ev.Status, ev.Reason = hook.Rejected, "the endpoint was deleted before Hooktray took this from the inbox"
		return []*hook.Event{ev}
	case ep == nil:
		r.opts.Logger.Warn("the inbox kept a request for an endpoint this Hooktray does not know; it is dropped",
			"endpoint", a.EndpointID, "inbox_seq", a.InboxSeq)
		return nil
	}
	ev.ResponseStatus = ep.ResponseStatus
	signed := maskSharedSecret(ep, ev.Header)
	bd := &body{buf: &a.Body}
	query, _ := url.ParseQuery(a.Query)
	ev.Type = eventType(ep, a.Header, query, a.Body)
	if !check(ep, ev, signed, ev.ReceivedAt, bd) && ep.VerifyMode == hook.VerifyEnforce {
		ev.Status, ev.Reason = hook.Rejected, "signature check failed: "+ev.Verification.Reason
		return []*hook.Event{ev}
	}
	if value, ok := routeValue(ep, a.Header, query, a.Body); ok {
		if targets := r.dir.Routed(value); len(targets) > 0 {
			copies, err := routedCopies(ev, targets)
			if err == nil {
				return copies
			}
		}
		ev.Reason = "routed to no endpoint: none has the key " + strconv.Quote(value)
	} else if isRouter(ep) {
		ev.Reason = "routed to no endpoint: the request has no routing value"
	}
	return []*hook.Event{ev}
}
