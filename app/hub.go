// Package app is the composition root of Hooktray's core, shared by the desktop app and
// `hooktray serve`: the Hub opens the data dir and the database, makes the services (see
// core.Services) and wires them to each other, the ingest journal, the receiver and the admin
// API. It holds no feature of its own and imports nothing of the GUI.
package app

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"sync"
	"time"

	"github.com/hooktray/hooktray/app/api"
	"github.com/hooktray/hooktray/app/core"
	"github.com/hooktray/hooktray/app/housekeeping"
	"github.com/hooktray/hooktray/app/ingest"
	"github.com/hooktray/hooktray/app/instance"
	"github.com/hooktray/hooktray/app/receiver"
	"github.com/hooktray/hooktray/app/secrets"
	"github.com/hooktray/hooktray/clock"
	"github.com/hooktray/hooktray/hook"
	"github.com/hooktray/hooktray/storage"
	"github.com/hooktray/hooktray/tunnel"
)

// DatabaseFile is the history's file name inside the data dir.
const DatabaseFile = "hooktray.db"

// JournalDir holds the ingest journal inside the data dir: requests acknowledged and not yet in
// the database.
const JournalDir = "journal"

// Default listen addresses: loopback only. A tunnel, when there is one, connects to the receiver.
const (
	DefaultListen    = "127.0.0.1:8791"
	DefaultAPIListen = "127.0.0.1:8792"
)

// Options configure a Hub. Only DataDir is required.
type Options struct {
	DataDir   string
	Listen    string // receiver address; default DefaultListen; port 0 picks a free port
	APIListen string // admin API address; default DefaultAPIListen
	Version   string
	Tunnel    tunnel.Settings
	// TunnelDefault is the mode when neither Tunnel nor the settings stored in the database say
	// (the desktop app: a quick tunnel; serve: off).
	TunnelDefault tunnel.Mode
	// ReleasesAPI is where cloudflared releases are looked up ("" means GitHub's API).
	ReleasesAPI string
	// UpdateCheckEvery is how often to look for a newer cloudflared while a tunnel uses it
	// (default once a day; negative: never).
	UpdateCheckEvery time.Duration
	// SubscriptionCheckEvery is how often subscriptions are read back from providers (default 1 h).
	SubscriptionCheckEvery time.Duration
	// ProviderClient talks to providers' APIs (default: a client with a 15 s timeout).
	ProviderClient *http.Client
	Retention      *hook.Retention // nil means hook.DefaultRetention (30 days); hook.KeepForever removes nothing
	Receiver       receiver.Options
	Logger         *slog.Logger // default slog.Default()
	// RetentionEvery is how often retention runs (default 1 min).
	RetentionEvery time.Duration
	// Clock stamps events and schedules retention, secret expiry and activity (default the
	// system clock); tests give a fake one.
	Clock clock.Clock
	// Keyring holds the master key of secrets (default: the OS keychain, falling back to a file).
	Keyring secrets.Keyring
	// ProbeClient sends reachability probes (default: a client with a 15 s timeout). Tests point
	// it at the receiver, standing in for the Internet.
	ProbeClient *http.Client
	// ShowWindow, when set, is what a second launch asks the running instance to do (through the
	// admin API): the desktop app shows its window.
	ShowWindow func()
	// HideWindow, when set, closes the desktop app's window to the tray (for scripts and the
	// desktop benchmark, through the admin API).
	HideWindow func()
	// CloudflareAPI is where Cloudflare's API is, for setting the always-on inbox up ("" means
	// Cloudflare's; tests give a stand-in).
	CloudflareAPI string
	// InboxWorkersDev is where an inbox Worker's workers.dev address is (inbox.DefaultWorkersDev
	// when ""); tests point it at the stand-in's edge.
	InboxWorkersDev string
	// ProgramSupervisor is the command line program targets run under, so that everything a
	// program starts ends with it (deliver.Options.Supervisor): Hooktray's binary and
	// deliver.SuperviseCommand. Empty: programs run directly, in a process group of their own.
	ProgramSupervisor []string
}

// Hub is a running Hooktray core. Create it with Start; stop it with Stop.
type Hub struct {
	opts  Options
	log   *slog.Logger
	lock  *instance.Lock
	token string
	store *storage.Store
	box   *secrets.Box // seals secrets; the master key is in the keychain or a file
	queue *ingest.Queue
	svc   core.Services
	house *housekeeping.Housekeeping

	recvLn, apiLn   net.Listener // until the servers take them
	rcv             *receiver.Receiver
	recvSrv, apiSrv *http.Server
	api             *api.Server
	recvIdle        idleNew // the receiver's connections that never sent a byte
	apiIdle         idleNew // the same for the admin API

	ctx        context.Context // ends when Stop begins: long-lived requests (SSE) end with it
	cancel     context.CancelFunc
	background sync.WaitGroup // the two servers
	stopOnce   sync.Once
	stopErr    error
}

// Start opens the data dir and database, listens, and writes runtime.json. On error everything it
// opened is closed again. A second Start on the same data dir returns *instance.ErrRunning.
func Start(ctx context.Context, opts Options) (*Hub, error) {
	if opts.DataDir == "" {
		return nil, errors.New("start hub: no data dir")
	}
	opts.setDefaults()
	h := &Hub{opts: opts, log: opts.Logger}
	h.ctx, h.cancel = context.WithCancel(context.Background())
	if err := h.start(ctx); err != nil {
		h.shutdown(context.Background())
		return nil, err
	}
	return h, nil
}

func (o *Options) setDefaults() {
	if o.Listen == "" {
		o.Listen = DefaultListen
	}
	if o.APIListen == "" {
		o.APIListen = DefaultAPIListen
	}
	if o.Retention == nil {
		o.Retention = &hook.DefaultRetention
	}
	if o.Logger == nil {
		o.Logger = slog.Default()
	}
	if o.Receiver.Logger == nil {
		o.Receiver.Logger = o.Logger
	}
	if o.Keyring == nil {
		o.Keyring = secrets.OSKeyring{}
	}
	o.Clock = clock.Or(o.Clock)
	o.Receiver.Clock = o.Clock
}

// start opens everything in the order each part needs the others, then serves.
func (h *Hub) start(ctx context.Context) error {
	if err := h.open(ctx); err != nil {
		return err
	}
	if err := h.wire(ctx); err != nil {
		return err
	}
	// The inbox before reachability: its URL, if it has one, decides that no tunnel is needed.
	for _, start := range []func(context.Context) error{
		h.svc.Endpoints.Start, h.svc.Forwarding.Start, h.svc.Inbox.Start, h.svc.Reach.Start, h.svc.Subscriptions.Start,
	} {
		if err := start(ctx); err != nil {
			return err
		}
	}
	h.house.Start(h.queue)
	h.startShapes()
	h.serve()
	if err := instance.WriteRuntime(h.opts.DataDir, h.runtime()); err != nil {
		return err
	}
	h.log.Info("hooktray started", "receiver", h.svc.Info.ReceiverURL, "api", h.svc.Info.APIURL, "data_dir", h.opts.DataDir)
	return nil
}

// warmShapes is how many of the newest events the shapes are learnt from at start.
const warmShapes = 500

// startShapes learns the payloads' shapes from the newest events, then from each new one.
func (h *Hub) startShapes() {
	h.svc.Shapes.Start(func(ctx context.Context) []hook.Event {
		page, err := h.svc.History.Events(ctx, hook.EventQuery{Limit: warmShapes, WithBody: true})
		if err != nil {
			h.log.Warn("the payloads' shapes start without the history", "err", err)
		}
		return page.Events
	})
}

// open takes the data dir (one Hooktray per data dir), its listeners, the database and the
// master key.
func (h *Hub) open(ctx context.Context) error {
	dataDir := h.opts.DataDir
	tightened, err := instance.Prepare(dataDir)
	if err != nil {
		return err
	}
	if len(tightened) > 0 {
		h.log.Warn("the data dir was readable by other users; made it private", "changed", tightened)
	}
	if h.lock, err = instance.Acquire(dataDir); err != nil {
		return err
	}
	if h.token, err = instance.LoadOrCreateToken(dataDir); err != nil {
		return err
	}
	if h.recvLn, h.apiLn, err = listeners(h.opts.Listen, h.opts.APIListen); err != nil {
		return err
	}
	if h.store, err = storage.Open(ctx, filepath.Join(dataDir, DatabaseFile)); err != nil {
		return err
	}
	sealed, err := h.store.HasSecrets(ctx)
	if err != nil {
		return err
	}
	h.box, err = secrets.Open(dataDir, h.opts.Keyring, sealed)
	return err
}

// serve starts the receiver and the admin API on their listeners.
func (h *Hub) serve() {
	h.recvSrv = h.rcv.Server()
	h.recvSrv.ConnState = h.recvIdle.track
	h.api = api.New(&h.svc, h.token, h.apiLn.Addr().(*net.TCPAddr).Port, h.log)
	h.api.ShowWindow, h.api.HideWindow = h.opts.ShowWindow, h.opts.HideWindow
	h.apiSrv = &http.Server{
		Handler:           h.api,
		ReadHeaderTimeout: 10 * time.Second,
		IdleTimeout:       2 * time.Minute,
		BaseContext:       func(net.Listener) context.Context { return h.ctx },
		ConnState:         h.apiIdle.track,
	}
	for _, s := range []struct {
		srv *http.Server
		ln  net.Listener
	}{{h.recvSrv, h.recvLn}, {h.apiSrv, h.apiLn}} {
		h.background.Add(1)
		go func() {
			defer h.background.Done()
			if err := s.srv.Serve(s.ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
				h.log.Error("server stopped", "addr", s.ln.Addr(), "err", err)
			}
		}()
	}
	h.recvLn, h.apiLn = nil, nil // the servers close them
}

func (h *Hub) runtime() instance.Runtime {
	rt := instance.Runtime{PID: os.Getpid(), Receiver: h.svc.Info.ReceiverURL, API: h.svc.Info.APIURL, Version: h.opts.Version}
	if u := h.svc.Reach.PublicURL(); u != "" {
		rt.PublicURL = &u
	}
	return rt
}

// publicURLChanged rewrites runtime.json, which scripts read the public URL from.
func (h *Hub) publicURLChanged(string) {
	if err := instance.WriteRuntime(h.opts.DataDir, h.runtime()); err != nil {
		h.log.Error("update runtime.json", "err", err)
	}
}

// Services are the running services, for the desktop app and tests.
func (h *Hub) Services() *core.Services { return &h.svc }

// ReceiverURL is the receiver's local base URL, e.g. http://127.0.0.1:8791.
func (h *Hub) ReceiverURL() string { return h.svc.Info.ReceiverURL }

// APIURL is the admin API's base URL.
func (h *Hub) APIURL() string { return h.svc.Info.APIURL }

// DataDir is where the database and runtime files live.
func (h *Hub) DataDir() string { return h.opts.DataDir }

// Stop stops accepting requests, lets in-flight ones finish and commit, flushes the database and
// removes runtime.json. Requests still running when ctx ends are cut off. It is safe to call more
// than once.
func (h *Hub) Stop(ctx context.Context) error {
	h.stopOnce.Do(func() { h.stopErr = h.shutdown(ctx) })
	return h.stopErr
}

func (h *Hub) shutdown(ctx context.Context) error {
	var errs []error
	if h.api != nil {
		h.api.CloseStreams() // first: a stream whose client stopped reading must not hold up the rest
	}
	h.recvIdle.closeAll()
	h.apiIdle.closeAll()
	if h.recvSrv != nil {
		// First the receiver: every handler still running waits for its commit and answers.
		if err := h.recvSrv.Shutdown(ctx); err != nil {
			errs = append(errs, fmt.Errorf("stop receiver: %w", err))
			h.recvSrv.Close()
		}
	}
	if h.svc.Inbox != nil {
		h.svc.Inbox.Stop() // before the journal closes: what it took is committed, or taken again
	}
	if h.queue != nil {
		if err := h.queue.Close(); err != nil {
			h.log.Error("the ingest journal keeps webhooks not yet in the history; they are stored at next start", "err", err)
		}
	}
	h.stopServices(ctx)
	h.cancel() // ends SSE streams
	if h.apiSrv != nil {
		if err := h.apiSrv.Shutdown(ctx); err != nil {
			errs = append(errs, fmt.Errorf("stop admin API: %w", err))
			h.apiSrv.Close()
		}
	}
	h.background.Wait()
	return errors.Join(append(errs, h.release()...)...)
}

// stopServices stops the services that run work of their own, the deliveries first.
func (h *Hub) stopServices(ctx context.Context) {
	if s := h.svc.Forwarding; s != nil && !s.Stop(ctx) {
		// An attempt cut off here is made again at next start, with the same delivery id.
		h.log.Warn("forwarding did not stop in time; attempts still running are made again at next start")
	}
	if h.svc.Subscriptions != nil {
		h.svc.Subscriptions.Stop()
	}
	if h.svc.Reach != nil {
		h.svc.Reach.Stop()
	}
	if h.house != nil {
		h.house.Stop()
	}
	if h.svc.Shapes != nil {
		h.svc.Shapes.Stop()
	}
	if h.svc.Endpoints != nil {
		h.svc.Endpoints.Stop()
	}
}

// release closes what open opened: listeners not yet served, the database, runtime.json and the
// data dir's lock.
func (h *Hub) release() []error {
	var errs []error
	for _, ln := range []net.Listener{h.recvLn, h.apiLn} {
		if ln != nil {
			ln.Close()
		}
	}
	if h.store != nil {
		if err := h.store.Close(); err != nil {
			errs = append(errs, fmt.Errorf("close database: %w", err))
		}
	}
	if h.lock != nil {
		if h.svc.Info.ReceiverURL != "" {
			if err := instance.RemoveRuntime(h.opts.DataDir); err != nil {
				errs = append(errs, err)
			}
		}
		if err := h.lock.Release(); err != nil {
			errs = append(errs, err)
		}
	}
	return errs
}
