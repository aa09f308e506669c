// Package reach is the reachability service: how endpoints become public (a quick or named
// Cloudflare tunnel run as a child process, or a URL the user already has), the cloudflared binary
// it needs, and probes that check end to end that the public URL leads here. The tunnel package
// is the process layer beneath it.
package reach

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"os"
	"strings"
	"sync"
	"time"

	"github.com/hooktray/hooktray/app/live"
	"github.com/hooktray/hooktray/app/secrets"
	"github.com/hooktray/hooktray/app/useragent"
	"github.com/hooktray/hooktray/clock"
	"github.com/hooktray/hooktray/hook"
	"github.com/hooktray/hooktray/tunnel"
)

// Store keeps the tunnel settings and the named tunnel's sealed token: *storage.Store.
type Store interface {
	secrets.NamedStore
	Setting(ctx context.Context, key string) (string, bool, error)
	PutSetting(ctx context.Context, key, value string) error
}

// Reporter hears storage errors.
type Reporter interface{ NoteStorage(err error) }

// Options configure the Service.
type Options struct {
	Store   Store
	Box     *secrets.Box
	Clock   clock.Clock
	Log     *slog.Logger
	Health  Reporter
	Changes *live.Feed[hook.Change] // TunnelChanged and ReachabilityChanged are published there
	DataDir string                  // where cloudflared is installed and keeps its pid file
	Version string
	// ReceiverURL is where the tunnel leads (the receiver's local base URL).
	ReceiverURL string
	// Tunnel are the settings given at start (flags, environment); they win over the stored ones.
	Tunnel tunnel.Settings
	// TunnelDefault is the mode when neither Tunnel nor the stored settings say.
	TunnelDefault tunnel.Mode
	// ReleasesAPI is where cloudflared releases are looked up ("" means GitHub's API).
	ReleasesAPI string
	// UpdateCheckEvery is how often to look for a newer cloudflared while a tunnel uses it
	// (default once a day; negative: never).
	UpdateCheckEvery time.Duration
	// ProbeClient sends reachability probes (default: a client with a 15 s timeout).
	ProbeClient *http.Client
	// OnPublicURL, if set, hears the new public URL ("" when none) each time it changes.
	OnPublicURL func(url string)
	// ProbeSecret is the receiver's secret probe path (NewProbeSecret).
	ProbeSecret string
	// Inbox, if set, is the always-on inbox: its URL, when it has one, is the public URL unless
	// an external one is given, and no tunnel runs.
	Inbox Inbox
}

// Inbox is what reachability needs of the always-on inbox (inbox.Service).
type Inbox interface {
	PublicURL() string
	Connected() (bool, string) // and if not, why ("" while connecting)
}

// Service keeps endpoints reachable from the Internet.
type Service struct {
	opts  Options
	token secrets.Named

	mu       sync.Mutex
	settings tunnel.Settings // in force
	tunnel   tunnelState
	probe    prober

	ctx        context.Context // ends with Stop: cloudflared, downloads and probes end with it
	cancel     context.CancelFunc
	background sync.WaitGroup
}

// tunnelState is the current tunnel status, the cloudflared log, and what is known of the
// cloudflared binary; under Service.mu.
type tunnelState struct {
	st      tunnel.Status
	log     *tunnel.LogBuffer
	missing bool               // no cloudflared binary was found
	stop    context.CancelFunc // ends the running cloudflared, if any
	done    chan struct{}      // closed when it has ended
	binary  tunnel.Binary      // the cloudflared in use, its version and any newer release
	install tunnel.InstallStatus
	// installing is set while a download runs; one at a time.
	installing bool
	// checkedAt is when the Releases API was last asked for the newest release.
	checkedAt time.Time
	// tokenUnreadable is set when the stored token was sealed with another master key.
	tokenUnreadable bool
}

// New returns the service with its probe secret (the receiver needs it); Start starts the tunnel.
func New(opts Options) *Service {
	opts.Clock = clock.Or(opts.Clock)
	if opts.Log == nil {
		opts.Log = slog.Default()
	}
	if opts.ProbeClient == nil {
		opts.ProbeClient = useragent.Client(opts.Version, 15*time.Second)
	}
	s := &Service{opts: opts, token: secrets.Named{Box: opts.Box, Store: opts.Store}}
	s.tunnel.log = tunnel.NewLogBuffer(500)
	secret := opts.ProbeSecret
	if secret == "" {
		secret = NewProbeSecret()
	}
	s.probe = prober{secret: secret, kick: make(chan struct{}, 1)}
	s.ctx, s.cancel = context.WithCancel(context.Background())
	return s
}

// Start stops a cloudflared an earlier run left behind, decides the settings, starts the tunnel
// they ask for, and starts probing.
func (s *Service) Start(ctx context.Context) error {
	changes := s.opts.Changes.Follow(16) // before the tunnel can change
	if pid := tunnel.StopLeftover(s.opts.DataDir, 3*time.Second); pid != 0 {
		s.opts.Log.Warn("stopped a cloudflared left running by an earlier run that did not end cleanly", "pid", pid)
	}
	if err := s.loadSettings(ctx); err != nil {
		changes.Close()
		return err
	}
	s.startTunnel(ctx)
	s.background.Add(1)
	go s.probeLoop(changes)
	return nil
}

// Stop ends cloudflared, a download and the probes, and waits for them.
func (s *Service) Stop() {
	s.cancel()
	s.background.Wait()
}

// startTunnel starts the tunnel the settings ask for: quick and named tunnels run cloudflared in
// the background. Without a binary, or with a bad one, the state says why and everything works
// locally.
func (s *Service) startTunnel(ctx context.Context) {
	s.mu.Lock()
	o, tokenUnreadable := s.settings, s.tunnel.tokenUnreadable
	s.mu.Unlock()
	st, cf, bin, missing := s.plan(ctx, o, tokenUnreadable)
	s.mu.Lock()
	s.tunnel.st, s.tunnel.missing = st, missing
	if bin.Path != "" {
		bin.Latest, bin.UpdateAvailable = s.tunnel.binary.Latest, newer(s.tunnel.binary.Latest, bin.Version)
	}
	s.tunnel.binary = bin
	s.mu.Unlock()
	if cf != nil {
		s.run(cf)
		s.checkForUpdate()
	}
	s.opts.Changes.Publish(hook.TunnelChanged)
}

// plan decides what the settings amount to: a status, and the cloudflared to run if any.
func (s *Service) plan(ctx context.Context, o tunnel.Settings, tokenUnreadable bool) (st tunnel.Status, cf *tunnel.Cloudflared, bin tunnel.Binary, missing bool) {
	mode := o.EffectiveMode()
	st = tunnel.Status{Mode: mode, State: tunnel.StateOff}
	inbox := s.inboxURL()
	switch {
	case o.PublicURL != "" && mode != tunnel.Token:
		// An external URL the user already has wins over any tunnel.
		st.State, st.URL = tunnel.StateOnline, strings.TrimRight(o.PublicURL, "/")
	case inbox != "":
		// The inbox's URL never changes and answers while Hooktray is away: no tunnel is needed.
		st.Mode, st.State, st.URL = tunnel.Inbox, tunnel.StateOnline, inbox
	case mode == tunnel.External:
		st.State, st.Error = tunnel.StateFailed, "the external tunnel mode needs the public URL you already have (reverse proxy, port forward)"
	case mode == tunnel.Token && o.Token == "" && tokenUnreadable:
		st.State, st.Error = tunnel.StateFailed, "the stored tunnel token cannot be read (its master key is missing): enter the token again in the tunnel settings"
	case mode == tunnel.Token && o.Token == "":
		st.State, st.Error = tunnel.StateFailed, "a named tunnel needs its token: copy it from the Cloudflare dashboard into the tunnel settings"
	case mode == tunnel.Quick || mode == tunnel.Token:
		var err error
		if bin, err = s.findBinary(ctx, o); err != nil {
			st.State, st.Error = tunnel.StateFailed, err.Error()
			return st, nil, bin, errors.Is(err, tunnel.ErrNoBinary)
		}
		cf = &tunnel.Cloudflared{
			Binary: bin.Path, Mode: mode, Token: o.Token, Hostname: o.PublicURL,
			Origin: s.opts.ReceiverURL, StateDir: s.opts.DataDir, Log: s.tunnel.log, Watchdog: watchdogExe(),
			OnStatus: s.setStatus,
			// Leaves time within the 5 s in which a stopping Hooktray exits.
			StopGrace: 3 * time.Second,
		}
		st.State = tunnel.StateStarting
	}
	return st, cf, bin, false
}

// findBinary finds cloudflared and checks that it runs, warning when it is more than a year old.
func (s *Service) findBinary(ctx context.Context, o tunnel.Settings) (tunnel.Binary, error) {
	path, err := tunnel.FindCloudflared(o.Cloudflared, s.opts.DataDir)
	if err != nil {
		return tunnel.Binary{}, err
	}
	line, err := tunnel.CheckBinary(ctx, path)
	if err != nil {
		return tunnel.Binary{}, err
	}
	bin := tunnel.Binary{Path: path, Version: line}
	if v, err := tunnel.ParseVersion(line); err == nil && v.OlderThanAYear(s.opts.Clock.Now()) {
		bin.Warning = fmt.Sprintf("cloudflared %s is more than a year old and Cloudflare supports only the last year's releases: update it", v)
	}
	return bin, nil
}

// run runs cloudflared in the background until stopTunnel or Stop.
func (s *Service) run(cf *tunnel.Cloudflared) {
	ctx, cancel := context.WithCancel(s.ctx)
	done := make(chan struct{})
	s.mu.Lock()
	s.tunnel.stop, s.tunnel.done = cancel, done
	s.mu.Unlock()
	s.background.Add(1)
	go func() {
		defer s.background.Done()
		defer close(done)
		cf.Run(ctx)
	}()
}

// stopTunnel stops the running cloudflared, if any, and waits until it has ended.
func (s *Service) stopTunnel() {
	s.mu.Lock()
	stop, done := s.tunnel.stop, s.tunnel.done
	s.tunnel.stop, s.tunnel.done = nil, nil
	s.mu.Unlock()
	if stop != nil {
		stop()
		<-done
	}
}

// setStatus records a new tunnel status; a change of public URL is told to OnPublicURL and
// published so that views and subscriptions follow it.
func (s *Service) setStatus(st tunnel.Status) {
	s.mu.Lock()
	old := s.tunnel.st
	s.tunnel.st = st
	s.mu.Unlock()
	if st == old {
		return
	}
	if st.URL != old.URL && s.ctx.Err() == nil {
		if s.opts.OnPublicURL != nil {
			s.opts.OnPublicURL(s.PublicURL())
		}
		s.opts.Log.Info("public URL changed", "url", st.URL)
	}
	if st.Error != "" && st.Error != old.Error {
		s.opts.Log.Warn("tunnel", "state", st.State, "reason", st.Error)
	}
	s.opts.Changes.Publish(hook.TunnelChanged)
}

// inboxURL is the always-on inbox's URL, "" when there is none.
func (s *Service) inboxURL() string {
	if s.opts.Inbox == nil {
		return ""
	}
	return strings.TrimRight(s.opts.Inbox.PublicURL(), "/")
}

// replan starts the tunnel again when what it amounts to changed (the inbox came or went).
func (s *Service) replan() {
	if st := s.Status(); st.Mode == tunnel.Inbox && st.URL == s.inboxURL() || st.Mode != tunnel.Inbox && s.inboxURL() == "" {
		return
	}
	s.stopTunnel()
	s.startTunnel(s.ctx)
}

// Status reports the tunnel's mode, state, public URL and last error.
func (s *Service) Status() tunnel.Status {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.tunnel.st
}

// Log returns the last lines of cloudflared's log, oldest first.
func (s *Service) Log() []string { return s.tunnel.log.Lines() }

// PublicURL is the public base URL endpoints are reachable at, or "" when local only.
func (s *Service) PublicURL() string {
	if st := s.Status(); st.State == tunnel.StateOnline {
		return st.URL
	}
	return ""
}

// CloudflaredMissing reports whether a tunnel was asked for but no cloudflared was found, so the
// desktop app can offer to download it.
func (s *Service) CloudflaredMissing() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.tunnel.missing
}

// watchdogExe is this executable where cloudflared must run under its watchdog (macOS), else "".
func watchdogExe() string {
	if !tunnel.NeedsWatchdog() {
		return ""
	}
	exe, err := os.Executable()
	if err != nil {
		return ""
	}
	return exe
}
