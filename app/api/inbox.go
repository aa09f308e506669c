package api

import (
	"errors"
	"net/http"
	"net/url"

	"github.com/hooktray/hooktray/app/apijson"
	"github.com/hooktray/hooktray/app/inbox"
	"github.com/hooktray/hooktray/app/netmsg"
)

// inboxJSON is the inbox as the API shows it; nil when none is set up.
func inboxJSON(st inbox.Status) *apijson.Inbox {
	if !st.Configured {
		return nil
	}
	out := &apijson.Inbox{URL: st.URL, Account: apijson.Optional(st.Account), Script: apijson.Optional(st.Script),
		Connected: st.Connected, Waiting: st.Waiting, Bytes: st.Bytes, Drained: st.Drained,
		Error: apijson.Optional(st.Error), Step: apijson.Optional(st.Step),
		Cap: apijson.InboxCap{Requests: st.Cap.Requests, Bytes: st.Cap.Bytes}}
	if !st.Oldest.IsZero() {
		t := st.Oldest.UTC()
		out.OldestAt = &t
	}
	if !st.LastDrain.IsZero() {
		t := st.LastDrain.UTC()
		out.LastDrainAt = &t
	}
	return out
}

func capOf(c *apijson.InboxCap) inbox.Cap {
	if c == nil {
		return inbox.Cap{}
	}
	return inbox.Cap{Requests: c.Requests, Bytes: c.Bytes}
}

func (s *Server) getInbox(w http.ResponseWriter, r *http.Request) {
	writeJSON(w, http.StatusOK, struct {
		Inbox *apijson.Inbox `json:"inbox"`
	}{inboxJSON(s.svc.Inbox.Status())})
}

// setupInbox puts the inbox on the user's Cloudflare account; it answers when it is done.
func (s *Server) setupInbox(w http.ResponseWriter, r *http.Request) {
	var req apijson.InboxSetup
	if !readJSON(w, r, &req) {
		return
	}
	err := s.svc.Inbox.Setup(r.Context(), inbox.SetupRequest{Token: req.Token, Account: req.Account, Script: req.Script, Cap: capOf(req.Cap)})
	if err != nil {
		s.inboxFailed(w, err)
		return
	}
	writeJSON(w, http.StatusOK, inboxJSON(s.svc.Inbox.Status()))
}

// useInbox points Hooktray at an inbox that already runs.
func (s *Server) useInbox(w http.ResponseWriter, r *http.Request) {
	var req apijson.InboxUse
	if !readJSON(w, r, &req) {
		return
	}
	if err := s.svc.Inbox.Use(r.Context(), req.URL, req.Secret, capOf(req.Cap)); err != nil {
		s.inboxFailed(w, err)
		return
	}
	writeJSON(w, http.StatusOK, inboxJSON(s.svc.Inbox.Status()))
}

// removeInbox drains the inbox, then stops using it (deleting a Worker Hooktray set up).
func (s *Server) removeInbox(w http.ResponseWriter, r *http.Request) {
	if err := s.svc.Inbox.Remove(r.Context()); err != nil {
		s.inboxFailed(w, err)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

// inboxFailed answers a refusal of Cloudflare's, or a Cloudflare or an inbox that cannot be
// reached, as 502 with its sentence; no inbox to remove as 404; the rest as fail does.
func (s *Server) inboxFailed(w http.ResponseWriter, err error) {
	var apiErr *inbox.APIError
	var netErr *netmsg.Error
	var urlErr *url.Error
	switch {
	case errors.As(err, &apiErr), errors.As(err, &netErr), errors.As(err, &urlErr):
		writeError(w, http.StatusBadGateway, err.Error())
	case errors.Is(err, inbox.ErrNoInbox):
		writeError(w, http.StatusNotFound, err.Error())
	default:
		s.fail(w, err)
	}
}
