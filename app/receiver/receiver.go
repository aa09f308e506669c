// Package receiver is the webhook receiver: the one HTTP surface a tunnel may reach. It answers
// /webhook/{id} and nothing else, stores each request durably before acknowledging it, and refuses
// what it must (paused, deleted, oversized, overloaded) with the status codes providers expect.
package receiver

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/hooktray/hooktray/app/eventtype"
	"github.com/hooktray/hooktray/app/keypath"
	"github.com/hooktray/hooktray/clock"
	"github.com/hooktray/hooktray/hook"
)

// Prefix is the path under which endpoints receive.
const Prefix = "/webhook/"

// Directory finds endpoints by id. It is consulted on every request, so it must answer from
// memory.
type Directory interface {
	// Lookup returns the endpoint with id, or nil. gone is true when the id belonged to an
	// endpoint that was deleted.
	Lookup(id string) (t *Endpoint, gone bool)
	// Routed returns the endpoints whose keys include value, for routers.
	Routed(value string) []*Endpoint
}

// Committer stores events durably; see ingest.Queue.
type Committer interface {
	Commit(ev *hook.Event) error
	// CommitAll stores events that belong together (a router's copies) in one group.
	CommitAll(evs []*hook.Event) error
	// Backlog is the memory held by requests acknowledged and not yet in the history.
	Backlog() int64
}

// Options tune a Receiver and its server; zero values take the defaults.
type Options struct {
	MaxInFlight int // concurrent requests before shedding with 503 (default 1024)
	// MaxInFlightPerEndpoint and MaxInFlightPerClient keep the rest of MaxInFlight for others:
	// one endpoint may hold at most half of it, one client address (Cf-Connecting-Ip through the
	// tunnel, else the peer) half, and half of that on any one endpoint, by default.
	MaxInFlightPerEndpoint int
	MaxInFlightPerClient   int
	// MaxBodyBytesInFlight is the memory all request bodies being read may hold together, with
	// the requests acknowledged and not yet in the history (default 256 MiB); a request that
	// cannot get its share is answered 503 with Retry-After.
	MaxBodyBytesInFlight int64
	// SpoolDir, when set, is where a body larger than SpoolAbove (default 1 MiB) is written as it
	// arrives instead of being held in memory, so a body may be as large as its endpoint allows
	// (up to 1 GiB) whatever the memory budget. The folder is the ingest journal's
	// (ingest.SpoolDir): a committed event names its file, and the journal removes it once the
	// body is in the history. Without it, a body must fit in the budget.
	SpoolDir   string
	SpoolAbove int64
	// MinBodyRate (default 1 KiB/s) is the slowest average rate a body may arrive at once
	// BodyRateGrace (default 5 s) has passed; a slower client is cut off with 408.
	MinBodyRate       int
	BodyRateGrace     time.Duration
	ReadHeaderTimeout time.Duration // default 10 s: a client that dawdles over its headers is cut off
	ReadTimeout       time.Duration // default 2 min: whole request, body included
	WriteTimeout      time.Duration // default 2 min
	IdleTimeout       time.Duration // default 2 min between keep-alive requests
	MaxHeaderBytes    int           // default 64 KiB; larger headers get 431
	Logger            *slog.Logger  // default slog.Default()
	Clock             clock.Clock   // stamps events (default the system clock)
	// ProbeSecret, when set, makes ProbePrefix+ProbeSecret answer reachability probes.
	ProbeSecret string
}

func (o *Options) setDefaults() {
	if o.MaxInFlight <= 0 {
		o.MaxInFlight = 1024
	}
	if o.MaxInFlightPerEndpoint <= 0 {
		o.MaxInFlightPerEndpoint = max(o.MaxInFlight/2, 1)
	}
	if o.MaxInFlightPerClient <= 0 {
		o.MaxInFlightPerClient = max(o.MaxInFlight/2, 1)
	}
	if o.MaxBodyBytesInFlight <= 0 {
		o.MaxBodyBytesInFlight = 256 << 20
	}
	if o.SpoolAbove <= 0 {
		o.SpoolAbove = 1 << 20
	}
	if o.MinBodyRate <= 0 {
		o.MinBodyRate = 1 << 10
	}
	if o.BodyRateGrace <= 0 {
		o.BodyRateGrace = 5 * time.Second
	}
	if o.ReadHeaderTimeout <= 0 {
		o.ReadHeaderTimeout = 10 * time.Second
	}
	if o.ReadTimeout <= 0 {
		o.ReadTimeout = 2 * time.Minute
	}
	if o.WriteTimeout <= 0 {
		o.WriteTimeout = 2 * time.Minute
	}
	if o.IdleTimeout <= 0 {
		o.IdleTimeout = 2 * time.Minute
	}
	if o.MaxHeaderBytes <= 0 {
		o.MaxHeaderBytes = 64 << 10
	}
	if o.Logger == nil {
		o.Logger = slog.Default()
	}
	o.Clock = clock.Or(o.Clock)
}

// Receiver is the http.Handler for webhooks.
type Receiver struct {
	dir   Directory
	store Committer
	opts  Options
	adm   *admission
	// responses counts each endpoint's requests and draws their random numbers, for its rules.
	responses responses
}

// New returns a receiver that looks endpoints up in dir and commits through store.
func New(dir Directory, store Committer, opts Options) *Receiver {
	opts.setDefaults()
	adm := newAdmission(&opts)
	adm.backlog = store.Backlog
	return &Receiver{dir: dir, store: store, opts: opts, adm: adm}
}

// InFlight is how many requests are being received right now.
func (r *Receiver) InFlight() int {
	n, _ := r.adm.snapshot()
	return n
}

// Server returns an http.Server for r with the hardened limits of its Options.
func (r *Receiver) Server() *http.Server {
	return &http.Server{
		Handler:           r,
		ReadHeaderTimeout: r.opts.ReadHeaderTimeout,
		ReadTimeout:       r.opts.ReadTimeout,
		WriteTimeout:      r.opts.WriteTimeout,
		IdleTimeout:       r.opts.IdleTimeout,
		MaxHeaderBytes:    r.opts.MaxHeaderBytes,
		// Malformed requests from the Internet are not worth a log line each.
		ErrorLog: slog.NewLogLogger(r.opts.Logger.Handler(), slog.LevelDebug),
	}
}

// deliveryIDHeaders name the headers in which providers put a delivery's unique id; a repeat of
// one is a redelivery, not a new event.
var deliveryIDHeaders = []string{
	"X-Homecast-Delivery", // Homecast
	"Webhook-Id",          // Standard Webhooks
	"Svix-Id",             // Svix
	"X-Github-Delivery",   // GitHub
	"X-Shopify-Event-Id",  // Shopify
}

// ValidID reports whether id could be an endpoint id: URL-safe base64 of reasonable length.
// Anything else is answered 404 without a lookup.
func ValidID(id string) bool {
	if len(id) < 16 || len(id) > 64 {
		return false
	}
	for i := 0; i < len(id); i++ {
		c := id[i]
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-' || c == '_') {
			return false
		}
	}
	return true
}

func (r *Receiver) ServeHTTP(w http.ResponseWriter, req *http.Request) {
	ep := r.lookup(w, req)
	if ep == nil {
		return
	}
	client := shareKey(req)
	if r.adm.full() || !r.adm.enter(ep.ID, client) {
		w.Header().Set("Retry-After", "1")
		plain(w, http.StatusServiceUnavailable, "busy, retry shortly")
		return
	}
	defer r.adm.leave(ep.ID, client)

	start := time.Now()
	ev := r.newEvent(ep, req)
	signed := maskSharedSecret(ep, ev.Header) // before anything can be recorded
	if r.refuseEarly(w, ev, ep, req) {
		return
	}
	bd, err := r.readBody(w, req, ep.BodyLimit, start)
	defer bd.free() // after the commit: the body's buffer goes back to the pool
	if err != nil {
		r.bodyFailed(w, ev, ep, bd, err, start)
		return
	}
	body := bd.bytes()
	ev.Body, ev.Size = body, bd.size()
	if bd.spooled() {
		// The journal's frame names the file; body is only its beginning, for the type.
		ev.Body, ev.BodyFile = nil, bd.path
	}
	ev.Type = eventType(ep, req.Header, req.URL.Query(), body) // here, in parallel, not in the single writer
	if !check(ep, ev, signed, ev.ReceivedAt, bd) && ep.VerifyMode == hook.VerifyEnforce {
		// Kept with its body and the reason, so the user can see why it was refused.
		ev.Status, ev.Reason, ev.ResponseStatus = hook.Rejected, "signature check failed: "+ev.Verification.Reason, http.StatusUnauthorized
		if err := r.commit(ev, bd); err != nil {
			r.storageFailed(w, ev, err)
			return
		}
		jsonError(w, http.StatusUnauthorized, ev.Verification.Reason)
		return
	}
	a := r.pick(ep, ev)
	if a.problem != "" {
		r.opts.Logger.Debug("a response rule failed on a request", "endpoint", ep.ID, "problem", a.problem)
	}
	ev.ResponseStatus, ev.AnsweredBy = a.status, a.rule
	if err := r.route(ev, ep, req, body, bd); err != nil {
		r.storageFailed(w, ev, err)
		return
	}
	r.send(req.Context(), w, a)
}

// lookup finds the endpoint a request is for, or answers it (a probe, 404, 410) and returns nil.
func (r *Receiver) lookup(w http.ResponseWriter, req *http.Request) *Endpoint {
	id, ok := strings.CutPrefix(req.URL.EscapedPath(), Prefix)
	if !ok && r.serveProbe(w, req) {
		return nil
	}
	if !ok || !ValidID(id) {
		plain(w, http.StatusNotFound, "not found")
		return nil
	}
	ep, gone := r.dir.Lookup(id)
	switch {
	case ep == nil && gone:
		plain(w, http.StatusGone, "this webhook endpoint was deleted")
	case ep == nil:
		plain(w, http.StatusNotFound, "not found")
	}
	return ep
}

// newEvent is the event a request makes, before its body is read.
func (r *Receiver) newEvent(ep *Endpoint, req *http.Request) *hook.Event {
	ev := &hook.Event{
		EndpointID: ep.ID,
		ReceivedAt: r.opts.Clock.Now().UTC(),
		Method:     req.Method,
		Path:       req.URL.EscapedPath(),
		Query:      req.URL.RawQuery,
		Header:     req.Header,
		RemoteAddr: req.RemoteAddr,
		ClientIP:   clientIP(req),
		DeliveryID: deliveryID(req.Header),
	}
	// net/http moves Host out of the header map; keep it, as it was sent.
	req.Header["Host"] = []string{req.Host}
	return ev
}

// refuseEarly records and refuses, before reading the body, a request to a paused endpoint or
// one that announces a body over the limit.
func (r *Receiver) refuseEarly(w http.ResponseWriter, ev *hook.Event, ep *Endpoint, req *http.Request) bool {
	switch {
	case !ep.Enabled:
		ev.Size = max(req.ContentLength, 0)
		r.reject(w, ev, http.StatusServiceUnavailable, "endpoint is paused", "60")
		return true
	case req.ContentLength > ep.BodyLimit:
		ev.Size = req.ContentLength
		w.Header().Set("Connection", "close") // don't read the rest of a body we refuse
		r.reject(w, ev, http.StatusRequestEntityTooLarge,
			fmt.Sprintf("body of %d bytes exceeds the endpoint's limit of %d bytes", req.ContentLength, ep.BodyLimit), "")
		return true
	}
	return false
}

// bodyFailed answers a request whose body could not be read, recording why (unless it was only
// busy).
func (r *Receiver) bodyFailed(w http.ResponseWriter, ev *hook.Event, ep *Endpoint, bd *body, err error, start time.Time) {
	ev.Size = bd.size()
	w.Header().Set("Connection", "close")
	var tooLarge *http.MaxBytesError
	switch {
	case errors.Is(err, errNoBudget):
		// Not recorded, like any other busy answer: the sender retries, nothing is lost.
		w.Header().Set("Retry-After", "1")
		plain(w, http.StatusServiceUnavailable, "busy, retry shortly")
	case errors.As(err, &tooLarge):
		r.reject(w, ev, http.StatusRequestEntityTooLarge,
			fmt.Sprintf("body exceeds the endpoint's limit of %d bytes", ep.BodyLimit), "")
	case errors.Is(err, errTooSlow):
		r.reject(w, ev, http.StatusRequestTimeout, fmt.Sprintf(
			"body arrived too slowly (%d bytes in %s; at least %d bytes per second are needed)",
			len(bd.bytes()), time.Since(start).Round(time.Millisecond), r.opts.MinBodyRate), "")
	default:
		r.reject(w, ev, http.StatusBadRequest, "body could not be read: "+err.Error(), "")
	}
}

// eventType is the event's type: the endpoint's type path when it finds one, else what the
// provider's headers or body say.
func eventType(ep *Endpoint, header http.Header, query url.Values, body []byte) string {
	if ep.TypePath != nil {
		if typ, ok := ep.TypePath.Lookup(keypath.Request{Header: header, Query: query, Body: body}); ok {
			return typ
		}
	}
	return eventtype.Find(header, body)
}

// route stores an accepted request: as a copy for each endpoint a router passes it to, else as
// the endpoint's own event (saying why a router passed it to none).
func (r *Receiver) route(ev *hook.Event, ep *Endpoint, req *http.Request, body []byte, bd *body) error {
	if value, ok := routeValue(ep, req.Header, req.URL.Query(), body); ok {
		if targets := r.dir.Routed(value); len(targets) > 0 {
			return r.dispatch(ev, targets, bd)
		}
		ev.Reason = "routed to no endpoint: none has the key " + strconv.Quote(value)
	} else if isRouter(ep) {
		ev.Reason = "routed to no endpoint: the request has no routing value"
	}
	return r.commit(ev, bd)
}

// commit stores ev durably; a spooled body's file then belongs to the journal.
func (r *Receiver) commit(ev *hook.Event, bd *body) error {
	if err := r.store.Commit(ev); err != nil {
		return err
	}
	if ev.BodyFile != "" {
		bd.handOver()
	}
	return nil
}

// reject records a refused request (without its body) and answers it.
func (r *Receiver) reject(w http.ResponseWriter, ev *hook.Event, status int, reason, retryAfter string) {
	ev.Status, ev.Reason, ev.ResponseStatus, ev.Body, ev.BodyFile = hook.Rejected, reason, status, nil, ""
	if err := r.store.Commit(ev); err != nil {
		r.storageFailed(w, ev, err)
		return
	}
	if retryAfter != "" {
		w.Header().Set("Retry-After", retryAfter)
	}
	jsonError(w, status, reason)
}

func (r *Receiver) storageFailed(w http.ResponseWriter, ev *hook.Event, err error) {
	r.opts.Logger.Error("request not stored; answered 503", "endpoint", ev.EndpointID, "err", err)
	w.Header().Set("Retry-After", "5")
	msg := "storage unavailable, retry later"
	if errors.Is(err, hook.ErrStorageFull) {
		msg = "storage full, retry later"
	}
	jsonError(w, http.StatusServiceUnavailable, msg)
}

// shareKey is the client address whose share of capacity a request takes: Cloudflare's
// Cf-Connecting-Ip, which the edge sets on everything arriving through the tunnel, else the TCP
// peer. A local client that invents the header only spreads itself over more shares, which the
// per-endpoint share still bounds.
func shareKey(req *http.Request) string {
	if ip := strings.TrimSpace(req.Header.Get("Cf-Connecting-Ip")); ip != "" {
		return ip
	}
	host, _, err := net.SplitHostPort(req.RemoteAddr)
	if err != nil {
		return req.RemoteAddr
	}
	return host
}

// clientIP is the address the request came from as proxies report it: Cloudflare's
// Cf-Connecting-Ip, else the first X-Forwarded-For hop, else the TCP peer. It is recorded for the
// user to read; any client can send these headers.
func clientIP(req *http.Request) string {
	if ip := strings.TrimSpace(req.Header.Get("Cf-Connecting-Ip")); ip != "" {
		return ip
	}
	if xff := req.Header.Get("X-Forwarded-For"); xff != "" {
		first, _, _ := strings.Cut(xff, ",")
		if ip := strings.TrimSpace(first); ip != "" {
			return ip
		}
	}
	host, _, err := net.SplitHostPort(req.RemoteAddr)
	if err != nil {
		return req.RemoteAddr
	}
	return host
}

func deliveryID(h http.Header) string {
	for _, name := range deliveryIDHeaders {
		if v := h[name]; len(v) > 0 && v[0] != "" {
			return truncate(v[0], 256)
		}
	}
	return ""
}

func truncate(s string, n int) string {
	if len(s) > n {
		return s[:n]
	}
	return s
}

func plain(w http.ResponseWriter, status int, msg string) {
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	w.WriteHeader(status)
	io.WriteString(w, msg+"\n")
}

func jsonError(w http.ResponseWriter, status int, msg string) {
	b, _ := json.Marshal(map[string]string{"error": msg})
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	w.Write(append(b, '\n'))
}
