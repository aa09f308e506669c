package receiver

import (
	"fmt"
	"net/http"
	"net/url"
	"os"

	"github.com/hooktray/hooktray/app/keypath"
	"github.com/hooktray/hooktray/hook"
)

func isRouter(t *Endpoint) bool { return t.KeyPath != nil || t.Settings.Route.QueryParam != "" }

// routeValue is the value a router dispatches on: the query parameter first (Homey's option 1),
// else the key path (option 2).
func routeValue(t *Endpoint, header http.Header, query url.Values, body []byte) (string, bool) {
	if q := t.Settings.Route.QueryParam; q != "" {
		if v := query.Get(q); v != "" {
			return v, true
		}
	}
	if t.KeyPath != nil {
		return t.KeyPath.Lookup(keypath.Request{Header: header, Query: query, Body: body})
	}
	return "", false
}

// dispatch stores the request as an event of each target endpoint, all in one journal group; a
// paused target records it as rejected, as a direct request would be. A spooled body is given to
// each copy as a link of its own to the same file, since each is imported, and its file removed,
// on its own.
func (r *Receiver) dispatch(ev *hook.Event, targets []*Endpoint, bd *body) error {
	copies, err := routedCopies(ev, targets)
	if err != nil {
		return err
	}
	if err := r.store.CommitAll(copies); err != nil {
		removeBodies(copies)
		return err
	}
	return nil // the original file goes with the request's body: every copy has its own link
}

// routedCopies is ev as an event of each target endpoint.
func routedCopies(ev *hook.Event, targets []*Endpoint) ([]*hook.Event, error) {
	copies := make([]*hook.Event, 0, len(targets))
	for i, t := range targets {
		copyEv := *ev
		copyEv.EndpointID = t.ID
		copyEv.Header = ev.Header.Clone()  // each copy is stored later, with its own masking
		maskSharedSecret(t, copyEv.Header) // a target's own secret header is not stored either
		if !t.Enabled {
			copyEv.Status, copyEv.Reason, copyEv.Body, copyEv.BodyFile = hook.Rejected, "endpoint is paused", nil, ""
		}
		if copyEv.BodyFile != "" {
			link := fmt.Sprintf("%s-%d", ev.BodyFile, i)
			if err := os.Link(ev.BodyFile, link); err != nil {
				removeBodies(copies)
				return nil, fmt.Errorf("give a routed copy its body: %w", err)
			}
			copyEv.BodyFile = link
		}
		copies = append(copies, &copyEv)
	}
	return copies, nil
}

// removeBodies removes the spooled body links of copies that were not stored.
func removeBodies(copies []*hook.Event) {
	for _, c := range copies {
		if c.BodyFile != "" {
			os.Remove(c.BodyFile)
		}
	}
}
