package inbox

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"regexp"
	"strings"
	"sync"
	"time"

	"github.com/hooktray/hooktray/app/live"
	"github.com/hooktray/hooktray/app/netmsg"
	"github.com/hooktray/hooktray/app/receiver"
	"github.com/hooktray/hooktray/app/secrets"
	"github.com/hooktray/hooktray/clock"
	"github.com/hooktray/hooktray/hook"
)

// Store keeps the inbox's settings and its sealed secrets, and knows what Hooktray holds of it:
// *storage.Store.
type Store interface {
	secrets.NamedStore
	Setting(ctx context.Context, key string) (string, bool, error)
	PutSetting(ctx context.Context, key, value string) error
	MaxInboxSeq(ctx context.Context) (int64, error)
}

// Ingester stores what is drained through the receiver's ingest path (receiver.Receiver).
type Ingester interface {
	Ingest(arrivals []receiver.Arrival) (int, error)
}

// Endpoints lists every endpoint, deleted ones included (endpoints.Service).
type Endpoints interface{ Inventory() []hook.Endpoint }

// Options configure the Service; Store, Box, Ingest, Endpoints and Changes are required.
type Options struct {
	Store     Store
	Box       *secrets.Box
	Ingest    Ingester
	Endpoints Endpoints
	Clock     clock.Clock
	Log       *slog.Logger
	Changes   *live.Feed[hook.Change] // InboxChanged is published there; EndpointsChanged is heard
	Version   string
	// Client talks to Cloudflare's API and to the inbox (default: 30 s per request).
	Client *http.Client
	// CloudflareAPI is where Cloudflare's API is (default DefaultCloudflareAPI; tests: a stand-in).
	CloudflareAPI string
	// WorkersDev is where a script's workers.dev address is (default DefaultWorkersDev); tests
	// point it at the stand-in's edge.
	WorkersDev string
}

// Settings are how Hooktray reaches its inbox, kept in the database (the secret and the
// Cloudflare token apart, sealed).
type Settings struct {
	URL     string `json:"url"`               // the public base URL, e.g. https://hooktray-inbox.me.workers.dev
	Account string `json:"account,omitempty"` // set up by Hooktray on this Cloudflare account…
	Script  string `json:"script,omitempty"`  // …as this Worker
	Cap     Cap    `json:"cap"`
}

// Status is how the inbox is doing.
type Status struct {
	Configured bool
	URL        string
	Account    string // "" for an inbox Hooktray did not set up (used by URL)
	Script     string
	Connected  bool
	Waiting    int64     // requests the inbox holds, as it last said
	Bytes      int64     // their bodies' bytes
	Oldest     time.Time // the oldest one's arrival, zero when none
	LastDrain  time.Time // when Hooktray last took requests from it
	Drained    int64     // requests taken since start
	CaughtUp   bool      // connected, and the inbox said it has nothing more to send
	Error      string    // why it is not connected, as a sentence
	Step       string    // the set-up's step while it runs
	Cap        Cap
}

const (
	settingInbox  = "inbox"
	secretInbox   = "inbox-secret"
	secretCFToken = "inbox-cloudflare-token"
	firstRetry    = time.Second
	maxRetry      = time.Minute
	refusedRetry  = 5 * time.Minute // a refused secret is not going to change by itself soon
)

// Service keeps Hooktray connected to its inbox and drains it.
type Service struct {
	opts    Options
	secrets secrets.Named

	mu        sync.Mutex
	settings  Settings
	status    Status
	held      int64              // the highest sequence committed this run
	announced time.Time          // when a drain last announced its progress
	stop      context.CancelFunc // ends the running connection loop
	done      chan struct{}
	push      chan struct{} // the endpoint list changed: send it

	unfollow  context.CancelFunc // ends following the change feed
	following chan struct{}
}

// New returns the service, idle until Start.
func New(opts Options) *Service {
	opts.Clock = clock.Or(opts.Clock)
	if opts.Log == nil {
		opts.Log = slog.Default()
	}
	if opts.Client == nil {
		opts.Client = &http.Client{Timeout: 30 * time.Second}
	}
	if opts.CloudflareAPI == "" {
		opts.CloudflareAPI = DefaultCloudflareAPI
	}
	if opts.WorkersDev == "" {
		opts.WorkersDev = DefaultWorkersDev
	}
	return &Service{opts: opts, secrets: secrets.Named{Box: opts.Box, Store: opts.Store}, push: make(chan struct{}, 1)}
}

// Start reads the settings and, if an inbox is set, connects to it and keeps connected; it
// sends the endpoint list again whenever endpoints change.
func (s *Service) Start(ctx context.Context) error {
	changes := s.opts.Changes.Follow(16)
	fctx, cancel := context.WithCancel(context.Background())
	s.following = make(chan struct{})
	s.unfollow = cancel
	go func() {
		defer close(s.following)
		defer changes.Close()
		for {
			m, err := changes.Next(fctx)
			if err != nil {
				return
			}
			if m.Event == hook.EndpointsChanged || m.Missed > 0 {
				s.EndpointsChanged()
			}
		}
	}()
	raw, ok, err := s.opts.Store.Setting(ctx, settingInbox)
	if err != nil || !ok {
		return err
	}
	var st Settings
	if err := json.Unmarshal([]byte(raw), &st); err != nil || st.URL == "" {
		s.opts.Log.Warn("the stored inbox setting is unreadable; no inbox is used", "setting", raw)
		return nil
	}
	s.apply(st)
	return nil
}

// Stop ends the connection and waits for it.
func (s *Service) Stop() {
	s.stopLoop()
	if s.unfollow != nil {
		s.unfollow()
		<-s.following
	}
}

// stopLoop ends the connection loop and waits for it.
func (s *Service) stopLoop() {
	s.mu.Lock()
	stop, done := s.stop, s.done
	s.stop, s.done = nil, nil
	s.mu.Unlock()
	if stop != nil {
		stop()
		<-done
	}
}

// apply takes settings into use: the loop (re)starts on them.
func (s *Service) apply(st Settings) {
	s.stopLoop()
	st.Cap = st.Cap.orDefault()
	s.mu.Lock()
	s.settings = st
	s.status = Status{Configured: st.URL != "", URL: st.URL, Account: st.Account, Script: st.Script, Cap: st.Cap}
	s.mu.Unlock()
	s.changed()
	if st.URL == "" {
		return
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	s.mu.Lock()
	s.stop, s.done = cancel, done
	s.mu.Unlock()
	go func() {
		defer close(done)
		s.run(ctx)
	}()
}

func (s *Service) changed() { s.opts.Changes.Publish(hook.InboxChanged) }

// Status reports how the inbox is doing.
func (s *Service) Status() Status {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.status
}

// PublicURL is the inbox's public base URL ("" when none is set): endpoints' public URLs follow it.
func (s *Service) PublicURL() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.settings.URL
}

// Connected reports whether Hooktray is connected to its inbox now, and if not, why ("" while
// it is connecting).
func (s *Service) Connected() (bool, string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.status.Connected, s.status.Error
}

// EndpointsChanged asks for the endpoint list to be sent to the inbox again.
func (s *Service) EndpointsChanged() {
	select {
	case s.push <- struct{}{}:
	default:
	}
}

// setStatus changes the status under the lock and announces it.
func (s *Service) setStatus(change func(*Status)) {
	s.mu.Lock()
	change(&s.status)
	s.mu.Unlock()
	s.changed()
}

// Use points Hooktray at an inbox that already runs (deployed by hand, or the local one): it
// checks that the inbox answers to the secret, then keeps the settings and connects.
func (s *Service) Use(ctx context.Context, base, secret string, cap Cap) error {
	base = strings.TrimRight(strings.TrimSpace(base), "/")
	if err := CheckUse(base, secret); err != nil {
		return err
	}
	if err := s.checkSecret(ctx, base, secret); err != nil {
		return err
	}
	return s.keep(ctx, Settings{URL: base, Cap: cap}, secret)
}

var baseURL = regexp.MustCompile(`^https?://[^/?#\s]+$`)

// CheckURL checks an inbox's base URL.
func CheckURL(base string) error {
	if base = strings.TrimRight(strings.TrimSpace(base), "/"); !baseURL.MatchString(base) {
		return &hook.FieldError{Field: "url", Message: fmt.Sprintf("%q is not the inbox's base URL, such as https://hooktray-inbox.you.workers.dev", base)}
	}
	return nil
}

// CheckUse checks what using an inbox that runs needs: its base URL and its secret.
func CheckUse(base, secret string) error {
	if err := CheckURL(base); err != nil {
		return err
	}
	if secret == "" {
		return &hook.FieldError{Field: "secret", Message: "give the inbox secret (the Worker's HOOKTRAY_INBOX_SECRET)"}
	}
	return nil
}

// checkSecret asks the inbox for its status with the secret.
func (s *Service) checkSecret(ctx context.Context, base, secret string) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, base+"/hooktray/status", nil)
	if err != nil {
		return err
	}
	req.Header.Set("Authorization", "Bearer "+secret)
	resp, err := s.opts.Client.Do(req)
	if err != nil {
		return netmsg.Wrap("the inbox", err)
	}
	resp.Body.Close()
	switch resp.StatusCode {
	case http.StatusOK:
		return nil
	case http.StatusUnauthorized:
		return &hook.FieldError{Field: "secret", Message: "the inbox refused this secret"}
	}
	return &hook.FieldError{Field: "url", Message: fmt.Sprintf("%s answered %s: it is not a Hooktray inbox", base, resp.Status)}
}

// keep stores the settings and the secret sealed, and takes them into use.
func (s *Service) keep(ctx context.Context, st Settings, secret string) error {
	st.Cap = st.Cap.orDefault()
	if err := s.secrets.Put(ctx, secretInbox, secret); err != nil {
		return err
	}
	b, _ := json.Marshal(st)
	if err := s.opts.Store.PutSetting(ctx, settingInbox, string(b)); err != nil {
		return err
	}
	s.opts.Log.Info("always-on inbox in use", "url", st.URL, "account", st.Account, "script", st.Script)
	s.apply(st)
	return nil
}

// newSecret is a fresh inbox secret.
func newSecret() string {
	var b [32]byte
	rand.Read(b[:])
	return base64.RawURLEncoding.EncodeToString(b[:])
}

// ErrNoInbox means no inbox is set up: there is nothing to remove.
var ErrNoInbox = errors.New("no always-on inbox is set up")
