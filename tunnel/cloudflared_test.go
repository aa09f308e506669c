package tunnel

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/hooktray/hooktray/clock"
	"github.com/hooktray/hooktray/tunnel/tunneltest"
)

var fake string // the fake cloudflared, built once

func TestMain(m *testing.M) {
	if len(os.Args) > 1 && os.Args[1] == WatchdogCommand {
		// The test binary stands in for Hooktray's as the watchdog.
		os.Exit(RunWatchdog(os.Args[2:]))
	}
	dir, err := os.MkdirTemp("", "fakecloudflared-")
	if err != nil {
		panic(err)
	}
	fake = filepath.Join(dir, binaryName())
	if out, err := exec.Command("go", "build", "-o", fake, "./internal/cloudflaredtest").CombinedOutput(); err != nil {
		fmt.Fprintf(os.Stderr, "build fake cloudflared: %v\n%s", err, out)
		os.Exit(1)
	}
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

// run starts a Cloudflared with the fake in the given misbehaviour and returns its statuses.
func run(t *testing.T, mode string, c *Cloudflared) (<-chan Status, context.CancelFunc, <-chan struct{}) {
	t.Helper()
	t.Setenv("FAKE_CLOUDFLARED", mode)
	c.Binary = fake
	if c.Mode == "" {
		c.Mode = Quick
	}
	if c.Origin == "" {
		c.Origin = "http://127.0.0.1:8791"
	}
	if c.MinBackoff == 0 {
		c.MinBackoff = 50 * time.Millisecond
	}
	statuses := make(chan Status, 100)
	c.OnStatus = func(s Status) {
		select {
		case statuses <- s:
		default:
		}
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { c.Run(ctx); close(done) }()
	t.Cleanup(func() { cancel(); <-done })
	return statuses, cancel, done
}

func waitState(t *testing.T, statuses <-chan Status, want State) Status {
	t.Helper()
	timeout := time.After(10 * time.Second)
	for {
		select {
		case s := <-statuses:
			if s.State == want {
				return s
			}
		case <-timeout:
			t.Fatalf("no %s state within 10 s", want)
		}
	}
}

func TestQuickTunnelComesOnlineAndStopsCleanly(t *testing.T) {
	args := filepath.Join(t.TempDir(), "args")
	t.Setenv("FAKE_CLOUDFLARED_ARGS", args)
	c := &Cloudflared{Origin: "http://127.0.0.1:4567"}
	statuses, cancel, done := run(t, "", c)
	waitState(t, statuses, StateStarting)
	online := waitState(t, statuses, StateOnline)
	if !regexp.MustCompile(`^https://[a-z]+-[a-z]+-\d+\.trycloudflare\.com$`).MatchString(online.URL) || online.Mode != Quick {
		t.Errorf("online status %+v", online)
	}
	argv, _ := os.ReadFile(args)
	for _, want := range []string{"tunnel", "--no-autoupdate", "--metrics\n127.0.0.1:", "--url\nhttp://127.0.0.1:4567"} {
		if !strings.Contains(string(argv), want) {
			t.Errorf("argv %q lacks %q", argv, want)
		}
	}
	pid := cloudflaredPID(t, c.Log)
	cancel()
	<-done
	if err := syscall.Kill(pid, 0); err == nil {
		t.Error("cloudflared still runs after Run returned")
	}
	if !strings.Contains(strings.Join(c.Log.Lines(), "\n"), "graceful shutdown") {
		t.Error("cloudflared was not asked to stop gracefully (SIGTERM)")
	}
}

func TestNamedTunnelKeepsTheTokenOffTheCommandLine(t *testing.T) {
	args := filepath.Join(t.TempDir(), "args")
	t.Setenv("FAKE_CLOUDFLARED_ARGS", args)
	secret := tunneltest.Token()
	statuses, _, _ := run(t, "", &Cloudflared{Mode: Token, Token: secret, Hostname: "hooks.example.com"})
	if s := waitState(t, statuses, StateOnline); s.URL != "https://hooks.example.com" {
		t.Errorf("URL %q", s.URL)
	}
	argv, _ := os.ReadFile(args)
	if strings.Contains(string(argv), secret) || !strings.Contains(string(argv), "TUNNEL_TOKEN set: true") || !strings.Contains(string(argv), "\nrun\n") {
		t.Errorf("argv %q", argv)
	}
}

func TestCrashesAreRetriedWithGrowingBackoff(t *testing.T) {
	clk := clock.NewFake(time.Date(2026, 12, 1, 12, 0, 0, 0, time.UTC))
	c := &Cloudflared{MinBackoff: time.Second, MaxBackoff: 6 * time.Second, Clock: clk}
	statuses, _, _ := run(t, "crash", c)
	var schedule []time.Duration
	for range 5 {
		s := waitState(t, statuses, StateFailed)
		if !strings.Contains(s.Error, "exited before connecting") || !strings.Contains(s.Error, "retrying in") {
			t.Fatalf("failure reason %q", s.Error)
		}
		clk.WaitForWaiters(1) // the runner waits for its next try
		wait := clk.Pending()[0]
		schedule = append(schedule, wait)
		clk.Advance(wait)
	}
	want := []time.Duration{time.Second, 2 * time.Second, 4 * time.Second, 6 * time.Second, 6 * time.Second}
	if fmt.Sprint(schedule) != fmt.Sprint(want) {
		t.Errorf("waits between restarts %v, want %v (doubling up to the maximum)", schedule, want)
	}
}

func TestRateLimitStartsACooldownThatSurvivesRestarts(t *testing.T) {
	dir := t.TempDir()
	statuses, cancel, done := run(t, "ratelimit", &Cloudflared{StateDir: dir, Cooldown: time.Hour})
	s := waitState(t, statuses, StateFailed)
	if !strings.Contains(s.Error, "rate-limiting") {
		t.Fatalf("status %+v", s)
	}
	cancel()
	<-done
	b, err := os.ReadFile(filepath.Join(dir, cooldownFile))
	if err != nil {
		t.Fatal(err)
	}
	until, _ := strconv.ParseInt(strings.Fields(string(b))[0], 10, 64)
	if time.Until(time.Unix(until, 0)) < 50*time.Minute {
		t.Errorf("cool-down until %v", time.Unix(until, 0))
	}
	// A new runner (an app restart) waits instead of asking again.
	args := filepath.Join(t.TempDir(), "args")
	t.Setenv("FAKE_CLOUDFLARED_ARGS", args)
	clk := clock.NewFake(time.Now())
	statuses, _, _ = run(t, "", &Cloudflared{StateDir: dir, Clock: clk})
	if s := waitState(t, statuses, StateFailed); !strings.Contains(s.Error, "tries again at") {
		t.Errorf("after restart: %+v", s)
	}
	clk.WaitForWaiters(1)
	if wait := clk.Pending()[0]; wait < 59*time.Minute || wait > time.Hour {
		t.Errorf("the new runner waits %v, want the rest of the hour's cool-down", wait)
	}
	if _, err := os.Stat(args); !errors.Is(err, os.ErrNotExist) {
		t.Error("cloudflared was started during the cool-down")
	}
}

// The cool-down is a wall time on disk: a clock set back a day since must not make it a day.
func TestACooldownIsNoLongerThanAskedWhenTheClockWasSetBack(t *testing.T) {
	dir := t.TempDir()
	now := time.Now()
	c := &Cloudflared{StateDir: dir, Log: NewLogBuffer(10)}
	c.setCooldown(now.Add(24*time.Hour), 15*time.Minute) // recorded before the clock went back a day
	args := filepath.Join(t.TempDir(), "args")
	t.Setenv("FAKE_CLOUDFLARED_ARGS", args)
	clk := clock.NewFake(now)
	statuses, _, _ := run(t, "", &Cloudflared{StateDir: dir, Clock: clk})
	waitState(t, statuses, StateFailed)
	clk.WaitForWaiters(1)
	if wait := clk.Pending()[0]; wait > 15*time.Minute {
		t.Errorf("waits %v, want at most the 15 minutes asked", wait)
	}
	if _, err := os.Stat(args); !errors.Is(err, os.ErrNotExist) {
		t.Error("cloudflared was started during the cool-down")
	}
}

func TestSilentCloudflaredIsReported(t *testing.T) {
	statuses, _, _ := run(t, "hang", &Cloudflared{ReadyTimeout: 300 * time.Millisecond})
	if s := waitState(t, statuses, StateFailed); !strings.Contains(s.Error, "has not connected") {
		t.Errorf("status %+v", s)
	}
}

func TestBadTokenIsASentence(t *testing.T) {
	// A token that is not one at all: cloudflared refuses it before connecting.
	statuses, _, _ := run(t, "", &Cloudflared{Mode: Token, Token: "x", Hostname: "h.example.com"})
	if s := waitState(t, statuses, StateFailed); !strings.Contains(s.Error, "not a valid token") {
		t.Errorf("malformed token: %+v", s)
	}
	// A well-formed token the edge refuses (the tunnel was deleted, or the token rotated).
	statuses, _, _ = run(t, "badtoken", &Cloudflared{Mode: Token, Token: tunneltest.Token()})
	if s := waitState(t, statuses, StateFailed); !strings.Contains(s.Error, "token was refused") {
		t.Errorf("refused token: %+v", s)
	}
}

func TestOfflineIsSaidInTheUsersWords(t *testing.T) {
	for _, c := range []*Cloudflared{{Mode: Quick}, {Mode: Token, Token: tunneltest.Token()}} {
		statuses, _, _ := run(t, "offline", c)
		s := waitState(t, statuses, StateFailed)
		if !strings.Contains(s.Error, "cannot reach Cloudflare (DNS lookup failed): is this computer online?") {
			t.Errorf("%s offline: %+v", c.Mode, s)
		}
		if !strings.Contains(strings.Join(c.Log.Lines(), "\n"), "no such host") {
			t.Errorf("%s: the raw line is not in the tunnel log", c.Mode)
		}
	}
}

func TestNamedTunnelLearnsItsHostnameFromTheDashboardConfiguration(t *testing.T) {
	ingress := filepath.Join(t.TempDir(), "ingress.json")
	setIngress := func(rules string) {
		t.Helper()
		if err := os.WriteFile(ingress, []byte(rules), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	setIngress(`[{"hostname":"hooks.example.com","service":"http://localhost:4567"},{"service":"http_status:404"}]`)
	t.Setenv("FAKE_CLOUDFLARED_INGRESS", ingress)
	c := &Cloudflared{Mode: Token, Token: tunneltest.Token(), Origin: "http://127.0.0.1:4567"}
	statuses, _, _ := run(t, "", c)
	waitFor := func(what string, ok func(Status) bool) Status {
		t.Helper()
		timeout := time.After(10 * time.Second)
		for {
			select {
			case s := <-statuses:
				if ok(s) {
					return s
				}
			case <-timeout:
				t.Fatalf("no status with %s within 10 s", what)
			}
		}
	}
	s := waitFor("the hostname", func(s Status) bool { return s.URL != "" })
	if s.State != StateOnline || s.URL != "https://hooks.example.com" || s.Error != "" {
		t.Errorf("from the configuration: %+v", s)
	}
	// The dashboard changes the hostname: the URL follows.
	setIngress(`[{"hostname":"webhooks.example.org","service":"http://127.0.0.1:4567"},{"service":"http_status:404"}]`)
	if s := waitFor("the new hostname", func(s Status) bool { return s.URL == "https://webhooks.example.org" }); s.Error != "" {
		t.Errorf("after the change: %+v", s)
	}
	// The hostname points elsewhere: still online, with a sentence saying what to change.
	setIngress(`[{"hostname":"hooks.example.com","service":"https://localhost:4567"},{"service":"http_status:404"}]`)
	s = waitFor("a problem", func(s Status) bool { return s.Error != "" })
	if s.State != StateOnline || s.URL != "https://hooks.example.com" ||
		s.Error != "the tunnel's hostname hooks.example.com points at https://localhost:4567, not at Hooktray's receiver: change its service in the Cloudflare dashboard to http://127.0.0.1:4567" {
		t.Errorf("misrouted: %+v", s)
	}
}

func TestAHostnameGivenInTheSettingsWins(t *testing.T) {
	statuses, _, _ := run(t, "", &Cloudflared{Mode: Token, Token: tunneltest.Token(), Hostname: "mine.example.net"})
	for {
		s := waitState(t, statuses, StateOnline)
		if s.URL != "https://mine.example.net" {
			t.Fatalf("status %+v", s)
		}
		if s.Error == "" {
			return
		}
	}
}

// TestTheStandInRefusesUnknownFlagsAsCloudflaredDoes checks the fake against what urfave/cli (which
// cloudflared uses) prints for a flag it does not define, and that Hooktray explains it.
func TestTheStandInRefusesUnknownFlagsAsCloudflaredDoes(t *testing.T) {
	out, err := exec.Command(fake, "tunnel", "--no-autoupdate", "--bogus", "x", "--url", "http://127.0.0.1:1").Output()
	if err != nil {
		t.Fatalf("cloudflared exits 0 after a usage error, the fake said %v", err)
	}
	first, _, _ := strings.Cut(string(out), "\n")
	if first != "Incorrect Usage. flag provided but not defined: -bogus" {
		t.Errorf("first line %q", first)
	}
	if kind, why := explainLine(first); kind != causeUsage || !strings.Contains(why, "update cloudflared") {
		t.Errorf("explained as %v %q", kind, why)
	}
}

func TestKilledCloudflaredRecoversWithANewURL(t *testing.T) {
	c := &Cloudflared{}
	statuses, _, _ := run(t, "", c)
	first := waitState(t, statuses, StateOnline)
	syscall.Kill(cloudflaredPID(t, c.Log), syscall.SIGKILL)
	waitState(t, statuses, StateReconnecting)
	second := waitState(t, statuses, StateOnline)
	if second.URL == "" || !strings.HasSuffix(second.URL, ".trycloudflare.com") {
		t.Errorf("after the restart: %+v (before: %+v)", second, first)
	}
}

func TestFindCloudflared(t *testing.T) {
	if _, err := FindCloudflared("/no/such/cloudflared", ""); !errors.Is(err, ErrNoBinary) {
		t.Errorf("explicit missing binary: %v", err)
	}
	dir := t.TempDir()
	os.MkdirAll(filepath.Join(dir, "bin"), 0o700)
	want := filepath.Join(dir, "bin", binaryName())
	os.WriteFile(want, []byte("#!/bin/sh\n"), 0o700)
	t.Setenv("PATH", t.TempDir())
	if got, err := FindCloudflared("", dir); err != nil || got != want {
		t.Errorf("data dir binary: %q, %v", got, err)
	}
	if v, err := CheckBinary(context.Background(), fake); err != nil || !strings.HasPrefix(v, "cloudflared version") {
		t.Errorf("CheckBinary = %q, %v", v, err)
	}
	if _, err := CheckBinary(context.Background(), want); err == nil {
		t.Error("a script that prints nothing passed as cloudflared")
	}
}

func cloudflaredPID(t *testing.T, log *LogBuffer) int {
	t.Helper()
	re := regexp.MustCompile(`\(pid (\d+)\)`)
	lines := log.Lines()
	for i := len(lines) - 1; i >= 0; i-- {
		if m := re.FindStringSubmatch(lines[i]); m != nil {
			pid, _ := strconv.Atoi(m[1])
			return pid
		}
	}
	t.Fatal("no pid in the tunnel log")
	return 0
}
