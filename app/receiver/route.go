package receiver

import (
	"net/http"

	"github.com/hooktray/hooktray/app/route"
	"github.com/hooktray/hooktray/hook"
)

func isRouter(t *Target) bool { return t.KeyPath != nil || t.Settings.Route.QueryParam != "" }

// routeValue is the value a router dispatches on: the query parameter first (Homey's option 1),
// else the key path (option 2).
func routeValue(t *Target, req *http.Request, body []byte) (string, bool) {
	if q := t.Settings.Route.QueryParam; q != "" {
		if v := req.URL.Query().Get(q); v != "" {
			return v, true
		}
	}
	if t.KeyPath != nil {
		return t.KeyPath.Lookup(route.Request{Header: req.Header, Query: req.URL.Query(), Body: body})
	}
	return "", false
}

// dispatch stores the request as an event of each target endpoint; a paused target records it as
// rejected, as a direct request would be.
func (r *Receiver) dispatch(ev *hook.Event, targets []*Target) error {
	for _, t := range targets {
		copyEv := *ev
		copyEv.EndpointID = t.ID
		copyEv.Header = ev.Header.Clone()  // each copy is stored later, with its own masking
		maskSharedSecret(t, copyEv.Header) // a target's own secret header is not stored either
		copyEv.ResponseStatus = ev.ResponseStatus
		if !t.Enabled {
			copyEv.Status, copyEv.Reason, copyEv.Body = hook.Rejected, "endpoint is paused", nil
		}
		if err := r.store.Commit(&copyEv); err != nil {
			return err
		}
	}
	return nil
}
