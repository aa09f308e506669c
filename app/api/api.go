// Package api is the admin API: JSON over HTTP on loopback, for the CLI, scripts and a second
// launch of the app. It is never reachable through a tunnel (it has its own listener), and it does
// not trust loopback either: every request needs the data dir's token and a loopback Host.
package api

import (
	"context"
	"crypto/subtle"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/hooktray/hooktray/app/apijson"
	"github.com/hooktray/hooktray/app/core"
	"github.com/hooktray/hooktray/app/deliver"
	"github.com/hooktray/hooktray/app/reach"
	"github.com/hooktray/hooktray/hook"
	"github.com/hooktray/hooktray/tunnel"
)

// The API's view of the core, by role, so each handler depends on just what it uses (as net/http
// keeps Handler to one method). *app.Hub implements all of them.

// Server is the admin API handler.
type Server struct {
	svc   *core.Services
	token []byte
	hosts map[string]bool
	log   *slog.Logger
	mux   *http.ServeMux
	// ShowWindow and HideWindow, when set, handle POST /api/v1/window/show (the desktop app's
	// second launch) and /window/hide (close to the tray, for scripts and benchmarks).
	ShowWindow, HideWindow func()

	streams       chan struct{}      // one token per open live stream: at most MaxStreams
	streamsCtx    context.Context    // ends when CloseStreams is called
	closeStreams  context.CancelFunc //
	streamTimeout time.Duration      // how long one write to a stream may block
}

// MaxStreams is how many live streams may be open at once; more are answered 503. Each holds a
// subscription buffer of streamBuffer events.
const (
	MaxStreams   = 64
	streamBuffer = 256
)

// New returns the API for the services, accepting requests with token and a Host naming loopback
// on port.
func New(svc *core.Services, token string, port int, log *slog.Logger) *Server {
	p := strconv.Itoa(port)
	s := &Server{
		svc:   svc,
		token: []byte(token),
		hosts: map[string]bool{"127.0.0.1:" + p: true, "localhost:" + p: true, "[::1]:" + p: true},
		log:   log,
		mux:   http.NewServeMux(),

		streams:       make(chan struct{}, MaxStreams),
		streamTimeout: 10 * time.Second,
	}
	s.streamsCtx, s.closeStreams = context.WithCancel(context.Background())
	s.mux.HandleFunc("GET /api/v1/status", s.status)
	s.mux.HandleFunc("POST /api/v1/rules/try", s.tryRules)
	s.mux.HandleFunc("GET /api/v1/inbox", s.getInbox)
	s.mux.HandleFunc("POST /api/v1/inbox/setup", s.setupInbox)
	s.mux.HandleFunc("POST /api/v1/inbox/use", s.useInbox)
	s.mux.HandleFunc("DELETE /api/v1/inbox", s.removeInbox)
	s.mux.HandleFunc("GET /api/v1/endpoints", s.listEndpoints)
	s.mux.HandleFunc("POST /api/v1/endpoints", s.createEndpoint)
	s.mux.HandleFunc("GET /api/v1/endpoints/{id}", s.getEndpoint)
	s.mux.HandleFunc("GET /api/v1/endpoints/{id}/shape", s.getShape)
	s.mux.HandleFunc("PATCH /api/v1/endpoints/{id}", s.patchEndpoint)
	s.mux.HandleFunc("DELETE /api/v1/endpoints/{id}", s.deleteEndpoint)
	s.mux.HandleFunc("POST /api/v1/endpoints/{id}/rotate-secret", s.rotateSecret)
	s.mux.HandleFunc("POST /api/v1/endpoints/{id}/reveal-secret", s.revealSecret)
	s.mux.HandleFunc("POST /api/v1/endpoints/{id}/test", s.testEndpoint)
	s.mux.HandleFunc("GET /api/v1/events", s.listEvents)
	s.mux.HandleFunc("GET /api/v1/events/stream", s.stream)
	s.mux.HandleFunc("GET /api/v1/events/diff", s.diffEvents)
	s.mux.HandleFunc("GET /api/v1/events/{id}", s.getEvent)
	s.mux.HandleFunc("POST /api/v1/events/{id}/replay", s.replay)
	s.mux.HandleFunc("GET /api/v1/endpoints/{id}/targets", s.listTargets)
	s.mux.HandleFunc("POST /api/v1/endpoints/{id}/targets", s.createTarget)
	s.mux.HandleFunc("GET /api/v1/targets/{tid}", s.getTarget)
	s.mux.HandleFunc("PATCH /api/v1/targets/{tid}", s.patchTarget)
	s.mux.HandleFunc("DELETE /api/v1/targets/{tid}", s.deleteTarget)
	s.mux.HandleFunc("POST /api/v1/targets/{tid}/resume", s.resumeTarget)
	s.mux.HandleFunc("POST /api/v1/targets/{tid}/reregister", s.reregisterTarget)
	s.mux.HandleFunc("GET /api/v1/deliveries", s.listDeliveries)
	s.mux.HandleFunc("POST /api/v1/deliveries/retry", s.retryDeliveries)
	s.mux.HandleFunc("GET /api/v1/deliveries/{did}", s.getDelivery)
	s.mux.HandleFunc("POST /api/v1/deliveries/{did}/retry", s.retryDelivery)
	s.mux.HandleFunc("GET /api/v1/subscriptions", s.listSubscriptions)
	s.mux.HandleFunc("POST /api/v1/subscriptions", s.createSubscription)
	s.mux.HandleFunc("GET /api/v1/subscriptions/{sid}", s.getSubscription)
	s.mux.HandleFunc("PATCH /api/v1/subscriptions/{sid}", s.patchSubscription)
	s.mux.HandleFunc("DELETE /api/v1/subscriptions/{sid}", s.deleteSubscription)
	s.mux.HandleFunc("POST /api/v1/subscriptions/{sid}/register", s.subscriptionAction(s.svc.Subscriptions.Register))
	s.mux.HandleFunc("POST /api/v1/subscriptions/{sid}/unregister", s.subscriptionAction(s.svc.Subscriptions.Unregister))
	s.mux.HandleFunc("POST /api/v1/subscriptions/{sid}/test", s.testSubscription)
	s.mux.HandleFunc("POST /api/v1/subscriptions/diagral-keys", s.diagralKeys)
	s.mux.HandleFunc("GET /api/v1/tunnel", s.getTunnel)
	s.mux.HandleFunc("PATCH /api/v1/tunnel", s.patchTunnel)
	s.mux.HandleFunc("POST /api/v1/tunnel/cloudflared/install", s.installCloudflared)
	s.mux.HandleFunc("POST /api/v1/window/show", s.windowAction(func() func() { return s.ShowWindow }))
	s.mux.HandleFunc("POST /api/v1/window/hide", s.windowAction(func() func() { return s.HideWindow }))
	s.mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		writeError(w, http.StatusNotFound, "no such API: "+r.Method+" "+r.URL.Path)
	})
	return s
}

func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	// A browser page on any site can make requests to loopback; the Host check stops DNS
	// rebinding, the token stops everything else.
	if !s.hosts[r.Host] {
		writeError(w, http.StatusForbidden, "requests must address the API as 127.0.0.1, localhost or [::1] with its port")
		return
	}
	auth, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
	if !ok || subtle.ConstantTimeCompare([]byte(strings.TrimSpace(auth)), s.token) != 1 {
		w.Header().Set("WWW-Authenticate", `Bearer realm="hooktray"`)
		writeError(w, http.StatusUnauthorized, "missing or wrong API token (it is in the data dir's api-token file)")
		return
	}
	if r.Method == http.MethodGet && r.URL.Path != "/api/v1/events/stream" {
		s.svc.History.Settle(r.Context()) // read your writes (docs/api.md)
	}
	s.mux.ServeHTTP(w, r)
}

func (s *Server) status(w http.ResponseWriter, r *http.Request) {
	writeJSON(w, http.StatusOK, statusJSON(r.Context(), s.svc))
}

func (s *Server) listEndpoints(w http.ResponseWriter, r *http.Request) {
	list := apijson.EndpointList{Endpoints: []apijson.Endpoint{}}
	for _, e := range s.svc.Endpoints.List() {
		list.Endpoints = append(list.Endpoints, endpointJSON(s.svc.Endpoints, e))
	}
	writeJSON(w, http.StatusOK, list)
}

func (s *Server) createEndpoint(w http.ResponseWriter, r *http.Request) {
	var c hook.EndpointChange
	if !readJSON(w, r, &c) {
		return
	}
	e, err := s.svc.Endpoints.Create(r.Context(), c)
	if err != nil {
		s.fail(w, err)
		return
	}
	writeJSON(w, http.StatusCreated, endpointJSON(s.svc.Endpoints, e))
}

func (s *Server) getEndpoint(w http.ResponseWriter, r *http.Request) {
	e, err := s.svc.Endpoints.Get(r.PathValue("id"))
	if err != nil {
		s.fail(w, err)
		return
	}
	writeJSON(w, http.StatusOK, endpointJSON(s.svc.Endpoints, e))
}

func (s *Server) patchEndpoint(w http.ResponseWriter, r *http.Request) {
	var c hook.EndpointChange
	if !readJSON(w, r, &c) {
		return
	}
	e, err := s.svc.Endpoints.Update(r.Context(), r.PathValue("id"), c)
	if err != nil {
		s.fail(w, err)
		return
	}
	writeJSON(w, http.StatusOK, endpointJSON(s.svc.Endpoints, e))
}

func (s *Server) deleteEndpoint(w http.ResponseWriter, r *http.Request) {
	if err := s.svc.Endpoints.Delete(r.Context(), r.PathValue("id")); err != nil {
		s.fail(w, err)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

// rotateSecret answers the new secret: rotating is a moment the user needs to see it (to give
// it to the provider). The previous secret stays valid for an hour.
func (s *Server) rotateSecret(w http.ResponseWriter, r *http.Request) {
	secret, err := s.svc.Endpoints.RotateSecret(r.Context(), r.PathValue("id"))
	if err != nil {
		s.fail(w, err)
		return
	}
	writeJSON(w, http.StatusOK, apijson.SecretAnswer{Secret: secret, PreviousValidFor: "1h"})
}

// revealSecret is the explicit call that returns an endpoint's secret; nothing else does.
func (s *Server) revealSecret(w http.ResponseWriter, r *http.Request) {
	secret, err := s.svc.Endpoints.RevealSecret(r.Context(), r.PathValue("id"))
	if err != nil {
		s.fail(w, err)
		return
	}
	writeJSON(w, http.StatusOK, apijson.SecretAnswer{Secret: secret})
}

func (s *Server) testEndpoint(w http.ResponseWriter, r *http.Request) {
	ctx, cancel := context.WithTimeout(r.Context(), 15*time.Second)
	defer cancel()
	res, err := s.svc.Endpoints.Test(ctx, r.PathValue("id"))
	if err != nil {
		s.fail(w, err)
		return
	}
	out := apijson.TestResult{Event: apijson.EventJSON(res.Event, -1), SentTo: res.SentTo, RoundTripMS: res.RoundTrip.Milliseconds(),
		Deliveries: []apijson.Delivery{}}
	for _, d := range res.Deliveries {
		out.Deliveries = append(out.Deliveries, apijson.DeliveryJSON(d))
	}
	writeJSON(w, http.StatusOK, out)
}

func (s *Server) listEvents(w http.ResponseWriter, r *http.Request) {
	q, err := eventQuery(r)
	if err != nil {
		writeError(w, http.StatusBadRequest, err.Error())
		return
	}
	page, err := s.svc.History.Events(r.Context(), q)
	if err != nil {
		s.fail(w, err)
		return
	}
	list := apijson.EventList{Events: make([]apijson.Event, 0, len(page.Events)), Next: apijson.Cursor(page.Next)}
	for _, ev := range page.Events {
		list.Events = append(list.Events, apijson.EventJSON(ev, apijson.ListBodyLimit))
	}
	writeJSON(w, http.StatusOK, list)
}

// eventQuery reads GET /events parameters: endpoint, q, limit, before, status, method, type.
func eventQuery(r *http.Request) (hook.EventQuery, error) {
	v := r.URL.Query()
	q := hook.EventQuery{EndpointID: v.Get("endpoint"), Text: v.Get("q"), Method: v.Get("method"), Type: v.Get("type"), WithBody: true}
	if s := v.Get("limit"); s != "" {
		n, err := strconv.Atoi(s)
		if err != nil || n < 1 {
			return q, fmt.Errorf("limit must be a whole number from 1 to %d", hook.MaxPage)
		}
		q.Limit = min(n, hook.MaxPage)
	}
	if s := v.Get("before"); s != "" {
		n, err := strconv.ParseInt(s, 10, 64)
		if err != nil || n < 1 {
			return q, errors.New("before must be a cursor from a previous page's next")
		}
		q.Before = n
	}
	if s := v.Get("status"); s != "" {
		st, ok := hook.ParseStatus(s)
		if !ok {
			return q, errors.New("status must be accepted, rejected or duplicate")
		}
		q.Status = &st
	}
	return q, nil
}

func (s *Server) getEvent(w http.ResponseWriter, r *http.Request) {
	id, ok := eventID(w, r)
	if !ok {
		return
	}
	ev, err := s.svc.History.Event(r.Context(), id)
	if err != nil {
		s.fail(w, err)
		return
	}
	writeJSON(w, http.StatusOK, apijson.EventJSON(ev, -1))
}

// replay re-sends a stored event: to a URL (the attempt's answer), or as new deliveries to the
// endpoint's targets or chosen ones; edited first when method, headers or body are given.
func (s *Server) replay(w http.ResponseWriter, r *http.Request) {
	id, ok := eventID(w, r)
	if !ok {
		return
	}
	var req apijson.ReplayRequest
	if r.ContentLength != 0 && !readJSON(w, r, &req) {
		return
	}
	edit, err := replayEdit(req)
	if err != nil {
		s.fail(w, err)
		return
	}
	if req.To != "" {
		res, err := s.svc.Forwarding.ReplayTo(r.Context(), id, req.To, edit)
		if err != nil {
			s.fail(w, err)
			return
		}
		writeJSON(w, http.StatusOK, apijson.ReplayResult{To: req.To, Status: res.Status, DurationMS: res.Duration.Milliseconds(), Body: res.Body})
		return
	}
	ds, err := s.svc.Forwarding.ReplayToTargets(r.Context(), id, req.Targets, edit)
	if err != nil {
		s.fail(w, err)
		return
	}
	writeJSON(w, http.StatusOK, deliveryList(ds, 0))
}

func replayEdit(req apijson.ReplayRequest) (*hook.Edit, error) {
	if req.Method == nil && req.Headers == nil && req.Body == nil {
		return nil, nil
	}
	e := &hook.Edit{Method: req.Method, Headers: req.Headers}
	if req.Body != nil {
		e.Body = []byte(*req.Body)
		switch req.BodyEncoding {
		case "":
		case "base64":
			b, err := base64.StdEncoding.DecodeString(*req.Body)
			if err != nil {
				return nil, &hook.FieldError{Field: "body", Message: "body_encoding is base64 but the body is not base64"}
			}
			e.Body = b
		default:
			return nil, &hook.FieldError{Field: "body_encoding", Message: `want "base64" or nothing`}
		}
		if e.Body == nil {
			e.Body = []byte{}
		}
	}
	return e, nil
}

// windowAction handles a window route with the action that action returns (read per request:
// the desktop app sets it after the API starts).
func (s *Server) windowAction(action func() func()) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		do := action()
		if do == nil {
			writeError(w, http.StatusConflict, "this instance runs headless (hooktray serve) and has no window")
			return
		}
		do()
		w.WriteHeader(http.StatusNoContent)
	}
}

func eventID(w http.ResponseWriter, r *http.Request) (int64, bool) {
	id, err := strconv.ParseInt(r.PathValue("id"), 10, 64)
	if err != nil || id < 1 {
		writeError(w, http.StatusNotFound, "no event "+strconv.Quote(r.PathValue("id")))
		return 0, false
	}
	return id, true
}

// stream is the live feed as Server-Sent Events: one "data:" line per new event (a summary
// without headers and body), an "event: missed" message when this client fell behind, and a
// comment every 15 s to keep proxies from closing an idle stream.
func (s *Server) stream(w http.ResponseWriter, r *http.Request) {
	select {
	case s.streams <- struct{}{}:
		defer func() { <-s.streams }()
	default:
		w.Header().Set("Retry-After", "5")
		writeError(w, http.StatusServiceUnavailable, fmt.Sprintf("too many live streams are open (at most %d)", MaxStreams))
		return
	}
	endpoint := r.URL.Query().Get("endpoint")
	sub := s.svc.History.Follow(streamBuffer)
	defer sub.Close()
	rc := http.NewResponseController(w)
	// A client that stops reading blocks a write at most streamTimeout; shutting down, or the
	// request's end, unblocks it at once.
	ctx, cancel := context.WithCancel(r.Context())
	defer cancel()
	stopStreams := context.AfterFunc(s.streamsCtx, cancel)
	defer stopStreams()
	unblock := context.AfterFunc(ctx, func() { rc.SetWriteDeadline(time.Now()) })
	defer unblock()
	rc.SetWriteDeadline(time.Now().Add(s.streamTimeout))
	h := w.Header()
	h.Set("Content-Type", "text/event-stream")
	h.Set("Cache-Control", "no-cache")
	h.Set("X-Accel-Buffering", "no")
	w.WriteHeader(http.StatusOK)
	io.WriteString(w, ": hooktray live events\n\n")
	if err := rc.Flush(); err != nil {
		return
	}
	heartbeat := time.NewTicker(15 * time.Second)
	defer heartbeat.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-heartbeat.C:
			rc.SetWriteDeadline(time.Now().Add(s.streamTimeout))
			io.WriteString(w, ": keep-alive\n\n")
		case <-sub.Ready():
			rc.SetWriteDeadline(time.Now().Add(s.streamTimeout))
			evs, missed, _ := sub.Drain()
			for _, ev := range evs {
				if endpoint != "" && ev.EndpointID != endpoint {
					continue
				}
				b, _ := json.Marshal(apijson.EventJSON(ev, 0))
				fmt.Fprintf(w, "id: %d\ndata: %s\n\n", ev.ID, b)
			}
			if missed > 0 {
				b, _ := json.Marshal(apijson.Missed{Missed: missed})
				fmt.Fprintf(w, "event: missed\ndata: %s\n\n", b)
			}
		}
		if err := rc.Flush(); err != nil {
			return
		}
	}
}

// CloseStreams ends every live stream, blocked writes included: the first step of a shutdown, so
// clients that stopped reading cannot hold it up.
func (s *Server) CloseStreams() { s.closeStreams() }

// fail turns a Backend error into a response: 404 for unknown things, 400 for invalid input,
// 409 for a replay of a rejected event, 502 for a replay target that did not answer, 500
// otherwise (logged).
func (s *Server) fail(w http.ResponseWriter, err error) {
	var fe *hook.FieldError
	switch {
	case errors.Is(err, hook.ErrNotFound):
		writeError(w, http.StatusNotFound, err.Error())
	case errors.As(err, &fe):
		writeJSON(w, http.StatusBadRequest, apijson.Error{Error: fe.Error(), Field: fe.Field})
	case errors.Is(err, deliver.ErrNothingToSend):
		writeError(w, http.StatusConflict, err.Error())
	case errors.Is(err, deliver.ErrTarget):
		writeError(w, http.StatusBadGateway, err.Error())
	case errors.Is(err, context.DeadlineExceeded):
		writeError(w, http.StatusGatewayTimeout, err.Error())
	default:
		s.log.Error("admin API request failed", "err", err)
		writeError(w, http.StatusInternalServerError, err.Error())
	}
}

// readJSON decodes a request body of at most 1 MiB, refusing unknown fields so that typos are
// reported rather than ignored. On failure it has answered 400.
func readJSON(w http.ResponseWriter, r *http.Request, v any) bool {
	dec := json.NewDecoder(http.MaxBytesReader(w, r.Body, 1<<20))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		writeError(w, http.StatusBadRequest, "invalid JSON body: "+err.Error())
		return false
	}
	return true
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	b, err := json.Marshal(v)
	if err != nil {
		status, b = http.StatusInternalServerError, []byte(`{"error":"encode response"}`)
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	w.Write(append(b, '\n'))
}

func writeError(w http.ResponseWriter, status int, msg string) {
	writeJSON(w, status, apijson.Error{Error: msg})
}

func tunnelSettingsJSON(r *reach.Service) apijson.TunnelSettings {
	o, hasToken := r.Settings()
	return apijson.TunnelSettings{Mode: string(o.Mode), PublicURL: apijson.Optional(o.PublicURL), HasToken: hasToken}
}

func (s *Server) getTunnel(w http.ResponseWriter, r *http.Request) {
	writeJSON(w, http.StatusOK, tunnelSettingsJSON(s.svc.Reach))
}

// patchTunnel changes mode, public URL or token at run time; the tunnel restarts with them.
func (s *Server) patchTunnel(w http.ResponseWriter, r *http.Request) {
	var c apijson.TunnelChange
	if !readJSON(w, r, &c) {
		return
	}
	change := tunnel.SettingsChange{PublicURL: c.PublicURL, Token: c.Token}
	if c.Mode != nil {
		m := tunnel.Mode(*c.Mode)
		change.Mode = &m
	}
	if err := s.svc.Reach.SetTunnel(r.Context(), change); err != nil {
		s.fail(w, err)
		return
	}
	writeJSON(w, http.StatusOK, tunnelSettingsJSON(s.svc.Reach))
}

// installCloudflared starts a download of cloudflared; progress is in status.tunnel.install.
func (s *Server) installCloudflared(w http.ResponseWriter, r *http.Request) {
	var req apijson.InstallRequest
	if r.ContentLength != 0 && !readJSON(w, r, &req) {
		return
	}
	if err := s.svc.Reach.InstallCloudflared(req.Version); err != nil {
		if errors.Is(err, tunnel.ErrInstallRunning) {
			writeError(w, http.StatusConflict, err.Error())
			return
		}
		s.fail(w, err)
		return
	}
	writeJSON(w, http.StatusAccepted, statusJSON(r.Context(), s.svc).Tunnel.Install)
}
