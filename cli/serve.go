package cli

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"os/signal"
	"runtime"
	"runtime/pprof"
	"syscall"
	"time"

	"github.com/hooktray/hooktray/app"
	"github.com/hooktray/hooktray/app/deliver"
	"github.com/hooktray/hooktray/app/inbox"
	"github.com/hooktray/hooktray/app/instance"
	"github.com/hooktray/hooktray/hook"
	"github.com/hooktray/hooktray/tunnel"
)

// ServeOptions are the hub options the command line sets, for `serve` and the desktop app alike.
type ServeOptions struct {
	Hub app.Options
}

func (c *command) serveFlags(name string) (*flagSet, func() (ServeOptions, error)) {
	fs := c.flags(name, name+" [flags]")
	listen := fs.String("listen", app.DefaultListen, "webhook receiver address (port 0: any free port)")
	apiListen := fs.String("api-listen", app.DefaultAPIListen, "admin API address, loopback only (port 0: any free port)")
	tunnelMode := fs.String("tunnel", "", "off | quick | token | external (default: external with --public-url; else what was last set in the app or with 'hooktray tunnel set'; else quick for the desktop app, off for serve)")
	tunnelToken := fs.String("tunnel-token", "", "named tunnel token (prefer env HOOKTRAY_TUNNEL_TOKEN: flags are visible to other users)")
	publicURL := fs.String("public-url", "", "public base URL you already have (reverse proxy, port forward); takes priority over tunnels")
	cloudflared := fs.String("cloudflared", "", "path to the cloudflared binary")
	keepDays := fs.Int("keep-days", 30, "delete events older than this many days (0: keep forever)")
	keepEvents := fs.Int64("keep-events", 0, "keep only the newest N events (0: no limit)")
	keepMB := fs.Int64("keep-mb", 0, "keep the database under N MiB by deleting the oldest events (0: no limit)")
	verbose := fs.Bool("verbose", false, "log debug details")
	return fs, func() (ServeOptions, error) {
		dir, err := c.resolveDataDir()
		if err != nil {
			return ServeOptions{}, err
		}
		var mode tunnel.Mode
		if *tunnelMode != "" {
			if mode, err = tunnel.ParseMode(*tunnelMode); err != nil {
				return ServeOptions{}, usagef("--tunnel: %v", err)
			}
		}
		if *publicURL != "" {
			if err := tunnel.ValidatePublicURL(*publicURL); err != nil {
				return ServeOptions{}, usagef("--public-url: %v", err)
			}
		}
		if err := app.CheckAPIListen(*apiListen); err != nil {
			return ServeOptions{}, usagef("--api-listen: %v", err)
		}
		token := *tunnelToken
		if token == "" {
			token = os.Getenv("HOOKTRAY_TUNNEL_TOKEN")
		}
		if *keepDays < 0 || *keepEvents < 0 || *keepMB < 0 {
			return ServeOptions{}, usagef("--keep-days, --keep-events and --keep-mb must not be negative")
		}
		level := slog.LevelInfo
		if *verbose {
			level = slog.LevelDebug
		}
		opts := app.Options{
			DataDir:   dir,
			Listen:    *listen,
			APIListen: *apiListen,
			Version:   c.env.Version,
			Tunnel:    tunnel.Settings{Mode: mode, Token: token, PublicURL: *publicURL, Cloudflared: *cloudflared},
			// A mirror of GitHub's Releases API (or a local stand-in) to provision cloudflared from.
			ReleasesAPI: os.Getenv(tunnel.ReleasesAPIEnv),
			// Cloudflare's API and the workers.dev edge, for a local stand-in.
			CloudflareAPI:   os.Getenv(inbox.CloudflareAPIEnv),
			InboxWorkersDev: os.Getenv(inbox.WorkersDevEnv),
			Logger:          slog.New(slog.NewTextHandler(c.env.Stderr, &slog.HandlerOptions{Level: level})),
		}
		if exe, err := os.Executable(); err == nil {
			// Program targets run under this binary, which ends whatever a program leaves behind.
			opts.ProgramSupervisor = []string{exe, deliver.SuperviseCommand}
		}
		opts.Retention = &hook.Retention{
			MaxAge:    time.Duration(*keepDays) * 24 * time.Hour,
			MaxEvents: *keepEvents,
			MaxBytes:  *keepMB << 20,
		} // all zero (--keep-days 0 alone) is hook.KeepForever
		return ServeOptions{Hub: opts}, nil
	}
}

// cpuProfile writes a CPU profile of the whole run to $HOOKTRAY_CPUPROFILE, for benchmarks
// (bench/README.md); stop ends it.
func cpuProfile() (stop func(), err error) {
	path := os.Getenv("HOOKTRAY_CPUPROFILE")
	if path == "" {
		return func() {}, nil
	}
	f, err := os.Create(path)
	if err != nil {
		return nil, fmt.Errorf("cpu profile: %w", err)
	}
	if err := pprof.StartCPUProfile(f); err != nil {
		f.Close()
		return nil, fmt.Errorf("cpu profile: %w", err)
	}
	return func() { pprof.StopCPUProfile(); f.Close() }, nil
}

func (c *command) serve(ctx context.Context, args []string) error {
	fs, options := c.serveFlags("serve")
	pos, err := fs.parse(args)
	if err != nil {
		return err
	}
	if len(pos) > 0 {
		return usagef("serve: unexpected argument %q", pos[0])
	}
	opts, err := options()
	if err != nil {
		return err
	}
	stop, err := cpuProfile()
	if err != nil {
		return err
	}
	defer stop()
	return Serve(ctx, opts, c.env.Stderr)
}

// start is the default command: the desktop app when this build has one, else serve.
func (c *command) start(ctx context.Context, args []string) error {
	fs, options := c.serveFlags("hooktray")
	hidden := fs.Bool("hidden", false, "start in the tray without showing the window (for starting at login)")
	pos, err := fs.parse(args)
	if err != nil {
		return err
	}
	if len(pos) > 0 {
		return usagef("unknown command %q", pos[0])
	}
	opts, err := options()
	if err != nil {
		return err
	}
	// A second launch on the same data dir hands over to the first, with or without a display.
	if lock, err := instance.Acquire(opts.Hub.DataDir); err == nil {
		lock.Release()
	} else if running := (*instance.ErrRunning)(nil); errors.As(err, &running) {
		fmt.Fprintln(c.env.Stderr, instance.HandOver(ctx, opts.Hub.DataDir))
		return nil
	}
	stop, err := cpuProfile()
	if err != nil {
		return err
	}
	defer stop()
	switch {
	case c.env.GUI == nil:
		fmt.Fprintln(c.env.Stderr, "hooktray: this build has no desktop app; running headless as `hooktray serve` does")
	case !displayAvailable():
		fmt.Fprintln(c.env.Stderr, "hooktray: no display (DISPLAY and WAYLAND_DISPLAY are unset); running headless as `hooktray serve` does")
	default:
		// The desktop app's promise is a public URL from a double-click: a quick tunnel unless
		// the flags or the saved settings say otherwise.
		opts.Hub.TunnelDefault = tunnel.Quick
		return c.env.GUI(ctx, opts.Hub, *hidden)
	}
	return Serve(ctx, opts, c.env.Stderr)
}

// displayAvailable reports whether a window can be opened: always on Windows and macOS; on other
// systems only with an X11 or Wayland display.
func displayAvailable() bool {
	switch runtime.GOOS {
	case "windows", "darwin":
		return true
	}
	return os.Getenv("DISPLAY") != "" || os.Getenv("WAYLAND_DISPLAY") != ""
}

// Serve runs the hub until SIGINT or SIGTERM (or ctx ends), then stops it cleanly.
func Serve(ctx context.Context, opts ServeOptions, stderr interface{ Write([]byte) (int, error) }) error {
	ctx, stop := signal.NotifyContext(ctx, os.Interrupt, syscall.SIGTERM)
	defer stop()
	hub, err := app.Start(ctx, opts.Hub)
	if err != nil {
		var running *instance.ErrRunning
		if errors.As(err, &running) {
			return fmt.Errorf("%v; stop it first, or use another --data-dir", err)
		}
		return err
	}
	reach := hub.Services().Reach
	st := reach.Status()
	fmt.Fprintf(stderr, "Hooktray %s is receiving webhooks at %s/webhook/<id>\n", opts.Hub.Version, hub.ReceiverURL())
	if u := reach.PublicURL(); u != "" {
		fmt.Fprintf(stderr, "Public URL: %s/webhook/<id>\n", u)
	} else if st.Error != "" {
		fmt.Fprintf(stderr, "Tunnel %s: %s\n", st.State, st.Error)
	}
	fmt.Fprintf(stderr, "Admin API at %s; data in %s. Create an endpoint with: hooktray endpoints add --name NAME\n", hub.APIURL(), hub.DataDir())
	<-ctx.Done()
	fmt.Fprintln(stderr, "Stopping: finishing requests in flight…")
	sctx, cancel := context.WithTimeout(context.Background(), instance.ShutdownGrace)
	defer cancel()
	if err := hub.Stop(sctx); err != nil {
		return fmt.Errorf("stop: %w", err)
	}
	return nil
}
