// Package app is Hooktray's core, shared by the desktop app and `hooktray serve`: the Hub owns the
// database, the receiver, the admin API and the live feed. It imports nothing of the GUI.
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
	"sync/atomic"
	"syscall"
	"time"

	"github.com/hooktray/hooktray/app/api"
	"github.com/hooktray/hooktray/app/ingest"
	"github.com/hooktray/hooktray/app/instance"
	"github.com/hooktray/hooktray/app/live"
	"github.com/hooktray/hooktray/app/receiver"
	"github.com/hooktray/hooktray/app/secrets"
	"github.com/hooktray/hooktray/app/subscribe"
	"github.com/hooktray/hooktray/app/useragent"
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
	// ProgramSupervisor is the command line program targets run under, so that everything a
	// program starts ends with it (deliver.Options.Supervisor): Hooktray's binary and
	// deliver.SuperviseCommand. Empty: programs run directly, in a process group of their own.
	ProgramSupervisor []string
}

// Hub is a running Hooktray core. Create it with Start; stop it with Stop.
type Hub struct {
	opts     Options
	log      *slog.Logger
	lock     *instance.Lock
	token    string
	store    *storage.Store
	box      *secrets.Box // seals endpoint secrets; the master key is in the keychain or a file
	queue    *ingest.Queue
	dir      directory
	feed     live.Feed[hook.Event]
	changes  live.Feed[hook.Change]
	activity activity
	health   health
	fwd      forwarding
	subs     *subscribe.Manager
	tunnel   tunnelState
	probe    prober

	recvSrv, apiSrv *http.Server
	rcv             *receiver.Receiver
	api             *api.Server
	recvIdle        idleNew // the receiver's connections that never sent a byte
	apiIdle         idleNew // the same for the admin API
	recvURL, apiURL string

	ctx        context.Context // ends when Stop begins: long-lived requests (SSE) end with it
	cancel     context.CancelFunc
	background sync.WaitGroup
	indexKick  chan struct{}
	// committedEvents counts events stored since start: the indexer reads ingest's pace from it.
	committedEvents atomic.Int64
	// checkpointKick is signalled after writes; the checkpointer sleeps otherwise.
	checkpointKick chan struct{}
	mu             sync.Mutex // serialises endpoint writes so the in-memory directory follows the database
	// secretGrace is when each secret in a rotation's grace period stops being valid, on the
	// monotonic clock (under mu).
	secretGrace map[int64]time.Duration
	stopOnce    sync.Once
	stopErr     error
}

// Start opens the data dir and database, listens, and writes runtime.json. On error everything it
// opened is closed again. A second Start on the same data dir returns *instance.ErrRunning.
func Start(ctx context.Context, opts Options) (*Hub, error) {
	if opts.DataDir == "" {
		return nil, errors.New("start hub: no data dir")
	}
	if opts.Listen == "" {
		opts.Listen = DefaultListen
	}
	if opts.APIListen == "" {
		opts.APIListen = DefaultAPIListen
	}
	if opts.Retention == nil {
		opts.Retention = &hook.DefaultRetention
	}
	if opts.RetentionEvery <= 0 {
		opts.RetentionEvery = time.Minute
	}
	if opts.Logger == nil {
		opts.Logger = slog.Default()
	}
	if opts.Receiver.Logger == nil {
		opts.Receiver.Logger = opts.Logger
	}
	opts.Clock = clock.Or(opts.Clock)
	opts.Receiver.Clock = opts.Clock
	h := &Hub{opts: opts, log: opts.Logger, indexKick: make(chan struct{}, 1), checkpointKick: make(chan struct{}, 1),
		secretGrace: map[int64]time.Duration{}}
	h.ctx, h.cancel = context.WithCancel(context.Background())
	if err := h.start(ctx); err != nil {
		h.shutdown(context.Background())
		return nil, err
	}
	return h, nil
}

func (h *Hub) start(ctx context.Context) error {
	dataDir := h.opts.DataDir
	tightened, err := instance.Prepare(dataDir)
	if err != nil {
		return err
	}
	if len(tightened) > 0 {
		h.log.Warn("the data dir was readable by other users; made it private", "changed", tightened)
	}
	lock, err := instance.Acquire(dataDir)
	if err != nil {
		return err
	}
	h.lock = lock
	if h.token, err = instance.LoadOrCreateToken(dataDir); err != nil {
		return err
	}
	keys := h.opts.Keyring
	if keys == nil {
		keys = secrets.OSKeyring{}
	}
	if h.store, err = storage.Open(ctx, filepath.Join(dataDir, DatabaseFile)); err != nil {
		return err
	}
	sealed, err := h.store.HasSecrets(ctx)
	if err != nil {
		return err
	}
	if h.box, err = secrets.Open(dataDir, keys, sealed); err != nil {
		return err
	}
	if err := h.loadEndpoints(ctx); err != nil {
		return err
	}
	// Before forwarding starts: requests a crash left in the journal are imported first, with
	// their deliveries.
	if h.queue, err = ingest.Open(ctx, h.store, ingest.Options{
		Dir:          filepath.Join(dataDir, JournalDir),
		Committed:    h.committed,
		ImportFailed: h.importFailed,
	}); err != nil {
		return err
	}
	if !ingest.Durable {
		h.log.Error("this is the benchmark's ceiling build: webhooks are answered but NOT stored")
	}
	if n := h.queue.Recovered(); n > 0 {
		h.log.Info("stored the webhooks a crash left in the ingest journal", "events", n)
	}
	h.noteJournalDamage(h.queue.Damage())
	if err := h.startForwarding(ctx); err != nil {
		return err
	}

	recvLn, err := listen(ReceiverListener, h.opts.Listen)
	if err != nil {
		return err
	}
	if err := CheckAPIListen(h.opts.APIListen); err != nil {
		recvLn.Close()
		return err
	}
	apiLn, err := listen(APIListener, h.opts.APIListen)
	if err != nil {
		recvLn.Close()
		return err
	}
	h.recvURL = "http://" + recvLn.Addr().String()
	h.apiURL = "http://" + apiLn.Addr().String()
	probeChanges := h.SubscribeChanges() // before the tunnel can change
	if pid := tunnel.StopLeftover(dataDir, 3*time.Second); pid != 0 {
		h.log.Warn("stopped a cloudflared left running by an earlier run that did not end cleanly", "pid", pid)
	}
	if err := h.loadTunnelSettings(ctx); err != nil {
		recvLn.Close()
		apiLn.Close()
		return err
	}
	h.startTunnel(ctx)
	if err := h.startSubscriptions(ctx); err != nil {
		return err
	}

	h.probe.secret, h.probe.kick, h.probe.client = newProbeSecret(), make(chan struct{}, 1), h.opts.ProbeClient
	if h.probe.client == nil {
		h.probe.client = useragent.Client(h.opts.Version, 15*time.Second)
	}
	recvOpts := h.opts.Receiver
	recvOpts.ProbeSecret = h.probe.secret
	recvOpts.SpoolDir = ingest.SpoolDir(filepath.Join(dataDir, JournalDir))
	rcv := receiver.New(&h.dir, watchedQueue{h}, recvOpts)
	h.rcv = rcv
	h.recvSrv = rcv.Server()
	h.recvSrv.ConnState = h.recvIdle.track
	apiHandler := api.New(h, h.token, apiLn.Addr().(*net.TCPAddr).Port, h.log)
	apiHandler.ShowWindow, apiHandler.HideWindow = h.opts.ShowWindow, h.opts.HideWindow
	h.api = apiHandler
	h.apiSrv = &http.Server{
		Handler:           apiHandler,
		ReadHeaderTimeout: 10 * time.Second,
		IdleTimeout:       2 * time.Minute,
		BaseContext:       func(net.Listener) context.Context { return h.ctx },
		ConnState:         h.apiIdle.track,
	}
	for _, s := range []struct {
		srv *http.Server
		ln  net.Listener
	}{{h.recvSrv, recvLn}, {h.apiSrv, apiLn}} {
		h.background.Add(1)
		go func() {
			defer h.background.Done()
			if err := s.srv.Serve(s.ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
				h.log.Error("server stopped", "addr", s.ln.Addr(), "err", err)
			}
		}()
	}
	h.reloadActivity()
	if h.store.NeedsCheck() {
		h.background.Add(1)
		go func() {
			defer h.background.Done()
			// The check at open ran out of time on a large history: finish it, out of the way.
			if err := h.store.CheckIntegrity(h.ctx); err != nil && h.ctx.Err() == nil {
				h.noteStorageError(err)
			}
		}()
	}
	h.background.Add(4)
	go h.probeLoop(probeChanges)
	go h.indexLoop()
	go h.retentionLoop()
	go h.checkpointLoop()

	if err := instance.WriteRuntime(dataDir, h.runtime()); err != nil {
		return err
	}
	h.log.Info("hooktray started", "receiver", h.recvURL, "api", h.apiURL, "data_dir", dataDir)
	return nil
}

// ErrNotLoopback means an admin API address is not on loopback. The admin API can change every
// setting and read every event, so it never listens where another machine could reach it.
var ErrNotLoopback = errors.New("the admin API listens on loopback only (127.0.0.1, [::1] or localhost)")

// CheckAPIListen refuses an admin API address that is not on loopback.
func CheckAPIListen(addr string) error {
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		return fmt.Errorf("%q is not host:port: %w", addr, err)
	}
	if host == "localhost" {
		return nil
	}
	if ip := net.ParseIP(host); ip == nil || !ip.IsLoopback() {
		return fmt.Errorf("%s: %w", addr, ErrNotLoopback)
	}
	return nil
}

// Listener names what a ListenError is about.
type Listener string

// Hooktray's two listeners.
const (
	ReceiverListener Listener = "receiver"
	APIListener      Listener = "admin API"
)

// ListenError is a listener that could not open; the CLI and the GUI say how to choose another
// address in their own words.
type ListenError struct {
	Listener Listener
	Addr     string
	InUse    bool // another program has the port
	Err      error
}

func (e *ListenError) Error() string {
	if e.InUse {
		return fmt.Sprintf("%s: address %s is already in use by another program", e.Listener, e.Addr)
	}
	return fmt.Sprintf("%s: listen on %s: %v", e.Listener, e.Addr, e.Err)
}

func (e *ListenError) Unwrap() error { return e.Err }

// listen opens a TCP listener with an error a user can act on.
func listen(what Listener, addr string) (net.Listener, error) {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, &ListenError{Listener: what, Addr: addr, InUse: errors.Is(err, syscall.EADDRINUSE), Err: err}
	}
	return ln, nil
}

func (h *Hub) runtime() instance.Runtime {
	rt := instance.Runtime{PID: os.Getpid(), Receiver: h.recvURL, API: h.apiURL, Version: h.opts.Version}
	if u := h.PublicURL(); u != "" {
		rt.PublicURL = &u
	}
	return rt
}

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
	if h.queue != nil {
		if err := h.queue.Close(); err != nil {
			h.log.Error("the ingest journal keeps webhooks not yet in the history; they are stored at next start", "err", err)
		}
	}
	if h.fwd.engine != nil && !h.fwd.engine.Stop(ctx) {
		// An attempt cut off here is made again at next start, with the same delivery id.
		h.log.Warn("forwarding did not stop in time; attempts still running are made again at next start")
	}
	if h.subs != nil {
		h.subs.Stop()
	}
	h.cancel() // ends SSE streams and background loops
	if h.apiSrv != nil {
		if err := h.apiSrv.Shutdown(ctx); err != nil {
			errs = append(errs, fmt.Errorf("stop admin API: %w", err))
			h.apiSrv.Close()
		}
	}
	h.background.Wait()
	if h.store != nil {
		if err := h.store.Close(); err != nil {
			errs = append(errs, fmt.Errorf("close database: %w", err))
		}
	}
	if h.lock != nil {
		if h.recvURL != "" {
			if err := instance.RemoveRuntime(h.opts.DataDir); err != nil {
				errs = append(errs, err)
			}
		}
		if err := h.lock.Release(); err != nil {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}

// committed runs on the ingest writer after each commit: it must not block.
func (h *Hub) committed(evs []*hook.Event) {
	summaries := make([]hook.Event, len(evs))
	for i, ev := range evs {
		summaries[i] = summary(ev)
	}
	h.committedEvents.Add(int64(len(evs)))
	h.activity.observe(summaries)
	h.kickDeliveries(evs)
	h.feed.Publish(summaries...)
	select {
	case h.indexKick <- struct{}{}:
	default:
	}
	h.kickCheckpoint()
}

// summary is what the live feed carries: an event without headers and body.
func summary(ev *hook.Event) hook.Event {
	s := *ev
	s.Header, s.Body, s.Decrypted = nil, nil, nil
	return s
}

// Settle returns once every webhook acknowledged before the call is in the history.
func (h *Hub) Settle(ctx context.Context) error {
	if h.queue == nil {
		return nil // not started: nothing was acknowledged
	}
	return h.queue.Settle(ctx)
}

// settleBriefly lets a read see every webhook acknowledged before it (ingest answers before the
// event reaches SQLite, by milliseconds), waiting at most settleLimit: past it, the read shows
// what is there.
func (h *Hub) settleBriefly(ctx context.Context) {
	ctx, cancel := context.WithTimeout(ctx, settleLimit)
	defer cancel()
	_ = h.Settle(ctx)
}

// settleLimit bounds how long a read waits for acknowledged webhooks to reach the history.
const settleLimit = 2 * time.Second

// Subscribe returns a live feed of newly stored events (summaries without headers and body) with
// room for size of them; see live.Subscription for what happens when the subscriber falls behind.
func (h *Hub) Subscribe(size int) *live.Subscription[hook.Event] {
	return h.feed.Follow(size)
}

// SubscribeChanges returns a feed of what changed besides new events.
func (h *Hub) SubscribeChanges() *live.Subscription[hook.Change] {
	return h.changes.Follow(16)
}

// DeleteEvent removes one event from the history.
func (h *Hub) DeleteEvent(ctx context.Context, id int64) error {
	if err := h.store.DeleteEvent(ctx, id); err != nil {
		return err
	}
	h.reloadActivity()
	h.changes.Publish(hook.HistoryChanged)
	return nil
}

// reloadActivity counts events per endpoint in the background: at start, and after events were
// removed.
func (h *Hub) reloadActivity() {
	h.background.Add(1)
	go func() {
		defer h.background.Done()
		if err := h.activity.load(h.ctx, h.store, h.opts.Clock.Now()); err != nil && h.ctx.Err() == nil {
			h.log.Error("counting events failed", "err", err)
		}
	}()
}

// ReleaseMemory hands back memory held for speed (SQLite's caches) when the desktop app's window
// closes; it comes back as it is used.
func (h *Hub) ReleaseMemory(ctx context.Context) { h.store.ReleaseMemory(ctx) }

// ReceiverURL is the receiver's local base URL, e.g. http://127.0.0.1:8791.
func (h *Hub) ReceiverURL() string { return h.recvURL }

// APIURL is the admin API's base URL.
func (h *Hub) APIURL() string { return h.apiURL }

// DataDir is where the database and runtime files live.
func (h *Hub) DataDir() string { return h.opts.DataDir }

// Version is the running build's version.
func (h *Hub) Version() string { return h.opts.Version }

// Events returns a page of history; see hook.EventQuery.
func (h *Hub) Events(ctx context.Context, q hook.EventQuery) (hook.Page, error) {
	h.settleBriefly(ctx)
	p, err := h.store.ListEvents(ctx, q)
	h.noteStorageError(err)
	return p, err
}

// Event returns one event with headers and body.
func (h *Hub) Event(ctx context.Context, id int64) (hook.Event, error) {
	h.settleBriefly(ctx)
	ev, err := h.store.Event(ctx, id)
	h.noteStorageError(err)
	return ev, err
}

// IndexBacklog is how many events are not yet searchable.
func (h *Hub) IndexBacklog(ctx context.Context) (int64, error) {
	return h.store.IndexBacklog(ctx)
}
