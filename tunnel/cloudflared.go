package tunnel

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"time"
	"unicode"

	"github.com/hooktray/hooktray/clock"
)

// ErrNoBinary means no cloudflared binary was found.
var ErrNoBinary = errors.New("cloudflared is not installed")

// binaryName is cloudflared's file name on this OS.
func binaryName() string {
	if runtime.GOOS == "windows" {
		return "cloudflared.exe"
	}
	return "cloudflared"
}

// FindCloudflared looks for the binary where Hooktray expects it, in order: explicit (the
// setting or --cloudflared), the data dir (where "Download cloudflared" puts it: the user asked
// for that one, also to replace an old copy elsewhere), next to the running executable (release
// packages ship it there), then on PATH.
func FindCloudflared(explicit, dataDir string) (string, error) {
	if explicit != "" {
		if st, err := os.Stat(explicit); err != nil || st.IsDir() {
			return "", fmt.Errorf("%w at %s, the path given for it", ErrNoBinary, explicit)
		}
		return explicit, nil
	}
	var candidates []string
	if dataDir != "" {
		candidates = append(candidates, InstalledPath(dataDir))
	}
	if exe, err := os.Executable(); err == nil {
		candidates = append(candidates, filepath.Join(filepath.Dir(exe), binaryName()))
	}
	if p, err := exec.LookPath(binaryName()); err == nil {
		candidates = append(candidates, p)
	}
	for _, c := range candidates {
		if st, err := os.Stat(c); err == nil && !st.IsDir() {
			return c, nil
		}
	}
	return "", fmt.Errorf("%w: download it with Hooktray, install Cloudflare's package, or give its path; until then endpoints are reachable on this computer only", ErrNoBinary)
}

// CheckBinary runs `cloudflared --version` and returns its first line, checking that the binary runs.
func CheckBinary(ctx context.Context, binary string) (string, error) {
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	out, err := exec.CommandContext(ctx, binary, "--version").Output()
	if err != nil {
		return "", fmt.Errorf("%s does not run (%v); reinstall cloudflared", binary, err)
	}
	line, _, _ := strings.Cut(strings.TrimSpace(string(out)), "\n")
	if !strings.Contains(line, "cloudflared") {
		return "", fmt.Errorf("%s is not cloudflared (it printed %q)", binary, line)
	}
	return line, nil
}

// Cloudflared runs a quick or named tunnel through the cloudflared binary as a child process it
// owns: starts it, reads readiness and the hostname from its metrics server, restarts it with
// exponential backoff when it exits, and stops it gracefully.
type Cloudflared struct {
	Binary string
	Mode   Mode   // Quick or Token
	Token  string // Token mode: passed in TUNNEL_TOKEN, never on the command line
	// Hostname, in token mode, is the public hostname when the user gave one; else it is read
	// from the ingress configuration cloudflared logs.
	Hostname string
	Origin   string // the receiver's URL: the only thing the tunnel may reach
	// StateDir keeps the rate-limit cool-down across restarts ("" keeps it in memory only).
	StateDir string
	// Watchdog, when set, is Hooktray's own executable: cloudflared then runs under it (see
	// WatchdogCommand), for OSes that cannot tie a child to its parent.
	Watchdog string
	Log      *LogBuffer
	// OnStatus is called with every state change, from the runner's goroutine.
	OnStatus func(Status)

	MinBackoff   time.Duration // default 1 s
	MaxBackoff   time.Duration // default 5 min
	ReadyTimeout time.Duration // default 45 s: not connected by then is reported as failed
	StopGrace    time.Duration // default 5 s between SIGTERM and kill
	Cooldown     time.Duration // default 15 min after a rate-limit answer
	// Clock schedules the restarts and the cool-down (default the system clock); tests give a
	// fake one and assert on the schedule.
	Clock clock.Clock
}

// cooldownFile records until when Cloudflare asked us to stop requesting quick tunnels.
const cooldownFile = "tunnel-cooldown"

func (c *Cloudflared) defaults() {
	if c.MinBackoff <= 0 {
		c.MinBackoff = time.Second
	}
	if c.MaxBackoff <= 0 {
		c.MaxBackoff = 5 * time.Minute
	}
	if c.ReadyTimeout <= 0 {
		c.ReadyTimeout = 45 * time.Second
	}
	if c.StopGrace <= 0 {
		c.StopGrace = 5 * time.Second
	}
	if c.Cooldown <= 0 {
		c.Cooldown = 15 * time.Minute
	}
	if c.Log == nil {
		c.Log = NewLogBuffer(500)
	}
	c.Clock = clock.Or(c.Clock)
}

func (c *Cloudflared) publish(st Status) {
	st.Mode = c.Mode
	if c.OnStatus != nil {
		c.OnStatus(st)
	}
}

// Run keeps the tunnel up until ctx ends, then stops cloudflared and reports StateOff.
func (c *Cloudflared) Run(ctx context.Context) {
	c.defaults()
	if pid := StopLeftover(c.StateDir, c.StopGrace); pid != 0 {
		c.Log.Add(fmt.Sprintf("hooktray: stopped cloudflared (pid %d) left over from an earlier run", pid))
	}
	failures := 0
	for {
		// The stored time is a wall time: a clock set back since must not stretch the wait
		// beyond the cool-down that was asked.
		if until, asked := c.cooldownUntil(); min(until.Sub(c.Clock.Now()), asked) > 0 {
			wait := min(until.Sub(c.Clock.Now()), asked)
			c.publish(Status{State: StateFailed, Error: fmt.Sprintf(
				"Cloudflare is rate-limiting new quick tunnels; Hooktray tries again at %s", c.Clock.Now().Add(wait).Local().Format("15:04"))})
			if !c.sleep(ctx, wait) {
				break
			}
		}
		state := StateStarting
		if failures > 0 {
			state = StateReconnecting
		}
		c.publish(Status{State: state})
		res := c.runOnce(ctx, state)
		if ctx.Err() != nil {
			break
		}
		if res.rateLimited {
			c.setCooldown(c.Clock.Now(), c.Cooldown)
			continue
		}
		if res.onlineFor > time.Minute {
			failures = 0 // it worked for a while: start the backoff over
		}
		failures++
		delay := min(c.MinBackoff<<min(failures-1, 20), c.MaxBackoff)
		c.publish(Status{State: StateFailed, Error: fmt.Sprintf("%s; retrying in %s", res.reason, delay.Round(time.Second))})
		if !c.sleep(ctx, delay) {
			break
		}
	}
	c.publish(Status{State: StateOff})
}

type runResult struct {
	reason      string
	onlineFor   time.Duration
	rateLimited bool
}

// runOnce runs cloudflared until it exits or ctx ends.
func (c *Cloudflared) runOnce(ctx context.Context, state State) runResult {
	metrics, err := freeLoopbackAddr()
	if err != nil {
		return runResult{reason: "no free port for cloudflared's metrics: " + err.Error()}
	}
	ch, err := c.start(metrics)
	if err != nil {
		return runResult{reason: "cannot start cloudflared: " + err.Error()}
	}
	defer ch.cleanup()
	onlineAt, exitErr, stopped := c.watch(ctx, ch, state)
	if stopped {
		return runResult{}
	}
	return c.outcome(ch.seen, onlineAt, exitErr)
}

// child is one cloudflared process: what its log said so far, and its exit.
type child struct {
	cmd     *exec.Cmd
	metrics string // its metrics server, where readiness and the quick tunnel's URL are read
	seen    *logFindings
	exited  chan error
	cleanup func()
}

// command is cloudflared's command line for the mode (the token goes in its environment, never
// on the command line).
func (c *Cloudflared) command(metrics string) *exec.Cmd {
	args := []string{"tunnel", "--no-autoupdate", "--metrics", metrics}
	if c.Mode == Token {
		args = append(args, "run")
	} else {
		args = append(args, "--url", c.Origin)
	}
	cmd := exec.Command(c.Binary, args...)
	if c.Watchdog != "" {
		cmd = exec.Command(c.Watchdog, append([]string{WatchdogCommand, c.Binary}, args...)...)
	}
	cmd.Env = os.Environ()
	if c.Mode == Token {
		cmd.Env = append(cmd.Env, "TUNNEL_TOKEN="+c.Token)
	}
	return cmd
}

// start starts cloudflared, tied to Hooktray's lifetime, with its log followed.
func (c *Cloudflared) start(metrics string) (*child, error) {
	cmd := c.command(metrics)
	tie(cmd)
	var lifeline io.Closer // the watchdog's standard input: closed when Hooktray stops or dies
	if c.Watchdog != "" {
		w, err := cmd.StdinPipe()
		if err != nil {
			return nil, err
		}
		lifeline = w
	}
	output, err := cmd.StderrPipe()
	if err != nil {
		return nil, err
	}
	cmd.Stdout = cmd.Stderr // usage errors go to stdout: keep them in the same log
	if err := cmd.Start(); err != nil {
		return nil, err
	}
	release, err := afterStart(cmd)
	if err != nil {
		c.Log.Add("hooktray: cloudflared could not be tied to Hooktray's lifetime: " + err.Error())
	}
	c.recordChild(cmd.Process, cmd.Path)
	c.Log.Add(fmt.Sprintf("hooktray: started %s (pid %d)", strings.Join(cmd.Args, " "), cmd.Process.Pid))
	ch := &child{cmd: cmd, metrics: metrics, seen: &logFindings{changed: make(chan struct{}, 1)}, exited: make(chan error, 1)}
	ch.cleanup = func() {
		c.forgetChild()
		if lifeline != nil {
			lifeline.Close()
		}
		release()
	}
	logDone := c.follow(output, ch.seen)
	go func() {
		<-logDone
		ch.exited <- cmd.Wait()
	}()
	return ch, nil
}

// follow copies cloudflared's output to the log and notes what it says; the channel closes at
// its end.
func (c *Cloudflared) follow(output io.Reader, seen *logFindings) <-chan struct{} {
	done := make(chan struct{})
	go func() {
		defer close(done)
		sc := bufio.NewScanner(output)
		sc.Buffer(make([]byte, 64<<10), 1<<20) // a configuration line can be long
		for sc.Scan() {
			line := printable(sc.Text()) // it reaches status, the CLI and the log window
			c.Log.Add(line)
			seen.note(line)
		}
	}()
	return done
}

// watch publishes the child's status until it exits (or ctx ends: stopped, after stopping it):
// starting until its metrics say it is ready, then online at its URL, with the causes its log
// gives.
func (c *Cloudflared) watch(ctx context.Context, ch *child, state State) (onlineAt time.Time, exitErr error, stopped bool) {
	client := &http.Client{Timeout: 2 * time.Second}
	start := time.Now()
	last := Status{Mode: c.Mode, State: state} // what Run has published
	publish := func(st Status) {
		st.Mode = c.Mode
		if st != last {
			last = st
			c.publish(st)
		}
	}
	poll := time.NewTicker(250 * time.Millisecond)
	defer poll.Stop()
	reportedSlow := false
	for {
		select {
		case <-ctx.Done():
			c.stop(ch.cmd, ch.exited)
			return onlineAt, nil, true
		case exitErr = <-ch.exited:
			return onlineAt, exitErr, false
		case <-ch.seen.changed:
			// A cause to tell, or a named tunnel's new configuration.
			if onlineAt.IsZero() {
				if _, why := ch.seen.get(); why != "" {
					publish(Status{State: last.State, Error: why})
				}
				continue
			}
			if url, problem, err := c.publicURL(client, ch.metrics, ch.seen); err == nil {
				publish(Status{State: StateOnline, URL: url, Error: problem})
			}
		case <-poll.C:
			if !onlineAt.IsZero() {
				continue
			}
			if ready(client, ch.metrics) {
				url, problem, err := c.publicURL(client, ch.metrics, ch.seen)
				if err != nil {
					publish(Status{State: StateStarting, Error: err.Error()})
					continue
				}
				onlineAt = time.Now()
				publish(Status{State: StateOnline, URL: url, Error: problem})
				poll.Reset(5 * time.Second) // only to notice a lost edge connection
			} else if !reportedSlow && time.Since(start) > c.ReadyTimeout {
				reportedSlow = true
				publish(Status{State: StateFailed, Error: c.slowReason(ch.seen)})
			}
		}
	}
}

// slowReason says why cloudflared has not connected in time: its log's cause, or a guess.
func (c *Cloudflared) slowReason(seen *logFindings) string {
	if _, cause := seen.get(); cause != "" {
		return cause
	}
	return fmt.Sprintf("cloudflared runs but has not connected to Cloudflare after %s: is this computer online?", c.ReadyTimeout.Round(time.Second))
}

// outcome says how a run ended, for Run to decide when to try again.
func (c *Cloudflared) outcome(seen *logFindings, onlineAt time.Time, exitErr error) runResult {
	kind, why := seen.get()
	res := runResult{rateLimited: kind == causeRateLimit && c.Mode == Quick}
	if !onlineAt.IsZero() {
		res.onlineFor = time.Since(onlineAt)
	}
	switch {
	case why != "":
		res.reason = why
	case res.onlineFor > 0:
		res.reason = fmt.Sprintf("cloudflared stopped after %s online (%v)", res.onlineFor.Round(time.Second), exitStatus(exitErr))
	default:
		res.reason = fmt.Sprintf("cloudflared exited before connecting (%v); see the tunnel log", exitStatus(exitErr))
	}
	return res
}

// exitStatus describes how cloudflared ended; a clean exit before connecting is still a failure.
func exitStatus(err error) string {
	if err == nil {
		return "exit status 0"
	}
	return err.Error()
}

// logFindings is what cloudflared's log has told so far: the latest failure cause, and a named
// tunnel's ingress rules.
type logFindings struct {
	mu      sync.Mutex
	kind    cause
	why     string
	ingress []IngressRule
	config  bool // a configuration line was seen
	changed chan struct{}
}

func (f *logFindings) note(line string) {
	kind, why := explainLine(line)
	rules, isConfig := parseConfigLine(line)
	if kind == causeNone && !isConfig {
		return
	}
	f.mu.Lock()
	if kind != causeNone {
		f.kind, f.why = kind, why
	}
	if isConfig {
		f.ingress, f.config = rules, true
	}
	f.mu.Unlock()
	select {
	case f.changed <- struct{}{}:
	default:
	}
}

func (f *logFindings) get() (cause, string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.kind, f.why
}

func (f *logFindings) rules() ([]IngressRule, bool) {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.ingress, f.config
}

// publicURL is the tunnel's public base URL: the quick tunnel's hostname from the metrics server;
// for a named tunnel the hostname given in the settings, else the one its dashboard configuration
// routes to the receiver. problem is a sentence when the configuration does not reach the receiver.
func (c *Cloudflared) publicURL(client *http.Client, metrics string, seen *logFindings) (publicURL, problem string, err error) {
	if c.Mode == Token {
		if c.Hostname != "" {
			return "https://" + strings.TrimPrefix(strings.TrimPrefix(c.Hostname, "https://"), "http://"), "", nil
		}
		rules, ok := seen.rules()
		if !ok {
			return "", "connected; waiting for Cloudflare to send the tunnel's public hostname", nil
		}
		u, problem := publicFromIngress(rules, c.Origin)
		return u, problem, nil
	}
	resp, err := client.Get("http://" + metrics + "/quicktunnel")
	if err != nil {
		return "", "", fmt.Errorf("read the quick tunnel's hostname: %w", err)
	}
	defer resp.Body.Close()
	var qt struct {
		Hostname string `json:"hostname"`
	}
	if err := json.NewDecoder(io.LimitReader(resp.Body, 4096)).Decode(&qt); err != nil || qt.Hostname == "" {
		return "", "", errors.New("cloudflared did not report the quick tunnel's hostname")
	}
	return "https://" + qt.Hostname, "", nil
}

func ready(client *http.Client, metrics string) bool {
	resp, err := client.Get("http://" + metrics + "/ready")
	if err != nil {
		return false
	}
	io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	return resp.StatusCode == http.StatusOK
}

// stop asks cloudflared's process group to finish (SIGTERM, or kill on Windows) and kills it
// after StopGrace.
func (c *Cloudflared) stop(cmd *exec.Cmd, exited <-chan error) {
	stopGroup(cmd.Process.Pid, false)
	select {
	case <-exited:
	case <-time.After(c.StopGrace):
		c.Log.Add("hooktray: cloudflared did not stop in time; killing it")
		stopGroup(cmd.Process.Pid, true)
		<-exited
	}
}

// cooldownUntil reads the cool-down a run recorded: until when, and how long it was (which
// bounds the wait when the clock has been set back since). Zero when there is none.
func (c *Cloudflared) cooldownUntil() (until time.Time, asked time.Duration) {
	if c.StateDir == "" {
		return time.Time{}, 0
	}
	b, err := os.ReadFile(filepath.Join(c.StateDir, cooldownFile))
	if err != nil {
		return time.Time{}, 0
	}
	f := strings.Fields(string(b))
	if len(f) == 0 {
		return time.Time{}, 0
	}
	n, err := strconv.ParseInt(f[0], 10, 64)
	if err != nil {
		return time.Time{}, 0
	}
	asked = c.Cooldown
	if len(f) > 1 {
		if s, err := strconv.ParseInt(f[1], 10, 64); err == nil {
			asked = time.Duration(s) * time.Second
		}
	}
	return time.Unix(n, 0), asked
}

// setCooldown records a cool-down of length from now: until when, and its length.
func (c *Cloudflared) setCooldown(now time.Time, length time.Duration) {
	until := now.Add(length)
	c.Log.Add("hooktray: Cloudflare rate-limited quick tunnels; waiting until " + until.Format(time.RFC3339))
	if c.StateDir != "" {
		os.WriteFile(filepath.Join(c.StateDir, cooldownFile), fmt.Appendf(nil, "%d %d", until.Unix(), int64(length/time.Second)), 0o600)
	}
}

func freeLoopbackAddr() (string, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", err
	}
	addr := ln.Addr().String()
	ln.Close()
	return addr, nil
}

// sleep waits d on the Clock, or returns false when ctx ends first.
func (c *Cloudflared) sleep(ctx context.Context, d time.Duration) bool {
	select {
	case <-ctx.Done():
		return false
	case <-c.Clock.After(d):
		return true
	}
}

// printable escapes the control characters of a line cloudflared printed (its usage text, say), so
// that quoting it in status or on a terminal cannot move the cursor or set the title.
func printable(line string) string {
	if !strings.ContainsFunc(line, unicode.IsControl) {
		return line
	}
	var b strings.Builder
	for _, r := range line {
		switch {
		case r == '\t':
			b.WriteRune(r)
		case unicode.IsControl(r):
			fmt.Fprintf(&b, "\\x%02x", r)
		default:
			b.WriteRune(r)
		}
	}
	return b.String()
}

// LogBuffer keeps the last lines of cloudflared's log for the user to read ("Tunnel log").
type LogBuffer struct {
	mu    sync.Mutex
	lines []string
	max   int
}

// NewLogBuffer keeps up to n lines.
func NewLogBuffer(n int) *LogBuffer { return &LogBuffer{max: n} }

// Add appends a line, dropping the oldest beyond the limit.
func (b *LogBuffer) Add(line string) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.lines = append(b.lines, line)
	if len(b.lines) > b.max {
		b.lines = append(b.lines[:0:0], b.lines[len(b.lines)-b.max:]...)
	}
}

// Lines returns a copy of the kept lines, oldest first.
func (b *LogBuffer) Lines() []string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return append([]string(nil), b.lines...)
}
