// Package cli is Hooktray's command line: `serve`, which runs the core headless, and the management
// commands, which talk to a running instance through its admin API.
package cli

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	"github.com/hooktray/hooktray/app"
	"github.com/hooktray/hooktray/app/deliver"
	"github.com/hooktray/hooktray/hook"
	"github.com/hooktray/hooktray/storage"
	"github.com/hooktray/hooktray/tunnel"
)

// Exit codes, which scripts rely on (docs/api.md).
const (
	exitOK    = 0
	exitFail  = 1 // the operation failed
	exitUsage = 2 // bad usage, or no instance to talk to
)

// Env is what a command runs with. GUI, when set, starts the desktop app (the default command);
// when nil, the default command runs the core headless, as `serve` does.
type Env struct {
	Stdout, Stderr io.Writer
	// Stdin is where secrets given to a command are read from (never its arguments).
	Stdin io.Reader
	// Terminal is true when Stdout is a terminal: text from webhooks is then escaped.
	Terminal bool
	Version  string
	GUI      func(ctx context.Context, opts app.Options, startHidden bool) error
}

// hint is what the command line adds to an error of a lower layer: the flag that mends it.
func hint(err error) string {
	var le *app.ListenError
	switch {
	case errors.As(err, &le) && le.Listener == app.ReceiverListener:
		return "choose another address with --listen (port 0 picks a free one)"
	case errors.As(err, &le):
		return "choose another address with --api-listen (port 0 picks a free one)"
	case errors.Is(err, storage.ErrNoFTS5):
		return "build it with -tags sqlite_fts5 (make build)"
	case errors.Is(err, storage.ErrNotDatabase):
		return "or choose another --data-dir"
	}
	return ""
}

// helperExit carries the exit code of a hidden helper (the cloudflared watchdog, a program
// target's supervisor) out through Main.
type helperExit int

func (w helperExit) Error() string { return fmt.Sprintf("exited with %d", int(w)) }

// usageError is bad usage: the CLI prints it with a hint and exits 2.
type usageError struct{ msg string }

func (e *usageError) Error() string { return e.msg }

func usagef(format string, args ...any) error { return &usageError{fmt.Sprintf(format, args...)} }

const usage = `Hooktray receives webhooks on your computer, keeps every one, and shows them live.

Usage:
  hooktray [--data-dir DIR]              start Hooktray (the desktop app when built with it)
  hooktray serve [flags]                 run headless: receiver, history and admin API
  hooktray status [--json]
  hooktray endpoints list|add|show|shape|enable|disable|rm|rotate-secret|test [--json]
  hooktray events list|show|tail|search|replay|diff [--endpoint ID] [--json]
  hooktray subscriptions list|add|show|register|unregister|test|rm [--json]
                                         register endpoints' URLs with providers
  hooktray targets list|add|rm|resume [--json]      forward events to local targets
                                         (add --when RULE --transform RULE: filter and reshape)
  hooktray rules try --endpoint E --when RULE --transform RULE [--json]
                                         try rules on the endpoint's last events, saving nothing
  hooktray deliveries list|retry|retry-all [--json]
  hooktray tunnel status|set|install-cloudflared [--json]
  hooktray inbox setup|use|status|remove [--json]  an always-on inbox on your Cloudflare account
  hooktray mcp [--allow-replay]          an MCP server over the history, for AI assistants (stdio)
  hooktray db recover                    copy what can be read of a damaged history into a new file
  hooktray version

Global flags:
  --data-dir DIR   where the database, api-token and runtime.json live
                   (env HOOKTRAY_DATA_DIR; default: %s)

Run 'hooktray COMMAND --help' for a command's flags.
`

// Main runs the command line and returns the process exit code.
func Main(ctx context.Context, args []string, env Env) int {
	err := run(ctx, args, env)
	var ue *usageError
	var ni *errNoInstance
	var wd helperExit
	switch {
	case err == nil:
		return exitOK
	case errors.As(err, &wd):
		return int(wd)
	case errors.Is(err, flag.ErrHelp):
		return exitOK
	case errors.As(err, &ue):
		fmt.Fprintf(env.Stderr, "hooktray: %s\nRun 'hooktray --help' for usage.\n", ue.msg)
		return exitUsage
	case errors.As(err, &ni):
		fmt.Fprintf(env.Stderr, "hooktray: %s\n", ni.msg)
		return exitUsage
	case hint(err) != "":
		fmt.Fprintf(env.Stderr, "hooktray: %s; %s\n", err, hint(err))
		return exitFail
	case errors.Is(err, hook.ErrDamaged):
		fmt.Fprintf(env.Stderr, "hooktray: %s\nMove the file aside to start a new history, or run 'hooktray db recover' to copy what can be read into a new file.\n", err)
		return exitFail
	default:
		fmt.Fprintf(env.Stderr, "hooktray: %s\n", err)
		return exitFail
	}
}

func run(ctx context.Context, args []string, env Env) error {
	if len(args) > 0 && args[0] == tunnel.WatchdogCommand {
		return helperExit(tunnel.RunWatchdog(args[1:]))
	}
	if len(args) > 0 && args[0] == deliver.SuperviseCommand {
		return helperExit(deliver.Supervise(args[1:]))
	}
	global := flag.NewFlagSet("hooktray", flag.ContinueOnError)
	global.SetOutput(io.Discard)
	dataDir := global.String("data-dir", "", "")
	showVersion := global.Bool("version", false, "")
	if err := global.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			fmt.Fprintf(env.Stdout, usage, defaultDataDirHint())
			return err
		}
		// `hooktray --listen …`: flags of the default command, which knows the global ones too.
		return (&command{env: env}).start(ctx, args)
	}
	if *showVersion {
		fmt.Fprintln(env.Stdout, "hooktray", env.Version)
		return nil
	}
	rest := global.Args()
	cmd := ""
	if len(rest) > 0 {
		cmd, rest = rest[0], rest[1:]
	}
	c := &command{env: env, dataDir: *dataDir}
	switch cmd {
	case "", "gui":
		return c.start(ctx, rest)
	case "serve":
		return c.serve(ctx, rest)
	case "status":
		return c.status(ctx, rest)
	case "endpoints", "endpoint":
		return c.endpoints(ctx, rest)
	case "events", "event":
		return c.events(ctx, rest)
	case "db":
		return c.db(ctx, rest)
	case "tunnel":
		return c.tunnel(ctx, rest)
	case "targets", "target":
		return c.targets(ctx, rest)
	case "deliveries", "delivery":
		return c.deliveries(ctx, rest)
	case "subscriptions", "subscription":
		return c.subscriptions(ctx, rest)
	case "inbox":
		return c.inbox(ctx, rest)
	case "rules":
		return c.rules(ctx, rest)
	case "mcp":
		return c.mcpServe(ctx, rest)
	case "version":
		fmt.Fprintln(env.Stdout, "hooktray", env.Version)
		return nil
	case "help":
		fmt.Fprintf(env.Stdout, usage, defaultDataDirHint())
		return nil
	}
	return usagef("unknown command %q", cmd)
}

// command carries what every subcommand needs.
type command struct {
	env     Env
	dataDir string // from the global flag; a subcommand's own --data-dir overrides it
}

// resolveDataDir applies the precedence flag > HOOKTRAY_DATA_DIR > the user's config dir.
func (c *command) resolveDataDir() (string, error) {
	dir := c.dataDir
	if dir == "" {
		dir = os.Getenv("HOOKTRAY_DATA_DIR")
	}
	if dir == "" {
		cfg, err := os.UserConfigDir()
		if err != nil {
			return "", usagef("no --data-dir given and no user config dir (%v)", err)
		}
		dir = filepath.Join(cfg, "hooktray")
	}
	abs, err := filepath.Abs(dir)
	if err != nil {
		return "", usagef("data dir %q: %v", dir, err)
	}
	return abs, nil
}

func defaultDataDirHint() string {
	if cfg, err := os.UserConfigDir(); err == nil {
		return filepath.Join(cfg, "hooktray")
	}
	return "the user config dir"
}

// flags returns a flag set for a subcommand with the shared --data-dir and, optionally, --json.
func (c *command) flags(name, synopsis string) *flagSet {
	fs := &flagSet{FlagSet: flag.NewFlagSet(name, flag.ContinueOnError), synopsis: synopsis, out: c.env.Stdout}
	fs.SetOutput(io.Discard)
	fs.StringVar(&c.dataDir, "data-dir", c.dataDir, "data dir (default: the global --data-dir)")
	return fs
}

// flagSet is flag.FlagSet with flags allowed after positional arguments (`events show 12 --json`)
// and usage printed on --help.
type flagSet struct {
	*flag.FlagSet
	synopsis string
	out      io.Writer
}

// parse returns the positional arguments.
func (fs *flagSet) parse(args []string) ([]string, error) {
	var pos []string
	for {
		if err := fs.Parse(args); err != nil {
			if errors.Is(err, flag.ErrHelp) {
				fmt.Fprintf(fs.out, "Usage: hooktray %s\n\nFlags:\n", strings.TrimPrefix(fs.synopsis, "hooktray "))
				fs.SetOutput(fs.out)
				fs.PrintDefaults()
				fs.SetOutput(io.Discard)
				return nil, err
			}
			if fs.Name() == "hooktray" { // the default command: Main already says "hooktray:"
				return nil, usagef("%v", err)
			}
			return nil, usagef("%s: %v", fs.Name(), err)
		}
		args = fs.Args()
		if len(args) == 0 {
			return pos, nil
		}
		if args[0] == "--" {
			return append(pos, args[1:]...), nil
		}
		pos, args = append(pos, args[0]), args[1:]
	}
}

// client connects to the running instance of this data dir.
func (c *command) client() (*client, error) {
	dir, err := c.resolveDataDir()
	if err != nil {
		return nil, err
	}
	return connect(dir)
}

// printRaw writes an API answer exactly as received (for --json).
func (c *command) printRaw(b []byte) {
	c.env.Stdout.Write(b)
	if len(b) > 0 && b[len(b)-1] != '\n' {
		io.WriteString(c.env.Stdout, "\n")
	}
}

// printJSON writes v as JSON, for --json output the CLI puts together from several answers.
func (c *command) printJSON(v any) error {
	b, err := json.Marshal(v)
	if err != nil {
		return err
	}
	c.printRaw(b)
	return nil
}

// idCall is a command that acts on one id: it takes the id (and --json), sends method to path(id)
// and decodes the answer into out. It returns the id, whether --json was given, and the answer's
// exact bytes (nil for an answer without a body).
func (c *command) idCall(ctx context.Context, name, what string, args []string, method string, path func(id string) string, out any) (id string, asJSON bool, raw []byte, err error) {
	fs := c.flags(name, name+" "+strings.ToUpper(strings.ReplaceAll(what, " ", "_"))+" [--json]")
	jsonFlag := fs.Bool("json", false, "print the API's JSON")
	pos, err := fs.parse(args)
	if err != nil {
		return "", false, nil, err
	}
	if id, err = oneArg(pos, what); err != nil {
		return "", false, nil, err
	}
	cl, err := c.client()
	if err != nil {
		return "", false, nil, err
	}
	err = cl.do(ctx, method, path(id), nil, out, &raw)
	return id, *jsonFlag, raw, err
}

func oneArg(pos []string, what string) (string, error) {
	if len(pos) != 1 || strings.TrimSpace(pos[0]) == "" {
		return "", usagef("expected one %s", what)
	}
	return pos[0], nil
}
