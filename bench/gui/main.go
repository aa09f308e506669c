// Command gui measures the desktop app under Xvfb beside a minimal Fyne window measured the same
// way in the same run: launch-to-window time, CPU while idle, and resident memory with 100,000
// events in its history; then CPU and memory while a steady stream of webhooks arrives, for
// `serve`, the app started hidden, the app shown and then closed, and the app shown (with the
// time from a click on a row to its detail). It prints figures and ratios against the targets;
// it asserts nothing. Needs Xvfb and xdotool (make bench installs them on Debian).
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/hooktray/hooktray/bench/fill"
	"github.com/hooktray/hooktray/bench/proc"
)

func main() {
	hooktray := flag.String("hooktray", "bin/hooktray", "hooktray binary")
	minimal := flag.String("minimal", "bin/bench-minimalwindow", "minimal Fyne window binary")
	events := flag.Int("events", 100_000, "events in Hooktray's history")
	idle := flag.Duration("idle", 30*time.Second, "how long CPU is measured while idle")
	dir := flag.String("dir", "bench/out/gui", "where the history is kept between runs")
	rates := flag.String("rates", "20,200", "webhooks per second to stream, comma-separated")
	streamFor := flag.Duration("stream", 30*time.Second, "how long each stream lasts (10m shows whether memory follows it)")
	only := flag.String("scenarios", "serve,hidden,closed,shown", "which scenarios to stream into; skips the idle part unless all are given")
	bigOnly := flag.Bool("big-body", false, "only measure selecting a 10 MiB JSON body")
	flag.Parse()
	if *bigOnly {
		if err := runBigBody(*hooktray); err != nil {
			fmt.Fprintln(os.Stderr, "gui:", err)
			os.Exit(1)
		}
		return
	}
	scenarios, err := parseScenarios(*only)
	if err != nil {
		fmt.Fprintln(os.Stderr, "gui:", err)
		os.Exit(2)
	}
	if len(scenarios) == 4 {
		if err := run(*hooktray, *minimal, *dir, *events, *idle); err != nil {
			fmt.Fprintln(os.Stderr, "gui:", err)
			os.Exit(1)
		}
	}
	if err := runStreams(*hooktray, *minimal, *rates, *streamFor, scenarios); err != nil {
		fmt.Fprintln(os.Stderr, "gui:", err)
		os.Exit(1)
	}
	if err := runBigBody(*hooktray); err != nil {
		fmt.Fprintln(os.Stderr, "gui:", err)
		os.Exit(1)
	}
}

func run(hooktray, minimal, dir string, events int, idle time.Duration) error {
	display, stopX, err := startXvfb()
	if err != nil {
		return err
	}
	defer stopX()
	if err := fill.History(context.Background(), dir, events); err != nil {
		return err
	}
	env := append(os.Environ(), "DISPLAY="+display)
	addr := []string{"--data-dir", dir, "--listen", "127.0.0.1:0", "--api-listen", "127.0.0.1:0"}

	fmt.Printf("desktop: under Xvfb, idle CPU over %s and RSS, Hooktray hidden to the tray with %d events\n", idle, events)
	minLaunch, err := launchToWindow(env, "Minimal", minimal)
	if err != nil {
		return err
	}
	hookLaunch, err := launchToWindow(env, "Hooktray", hooktray, addr...)
	if err != nil {
		return err
	}
	minCPU, minRSS, err := idleCost(env, idle, minimal)
	if err != nil {
		return err
	}
	hookCPU, hookRSS, err := idleCost(env, idle, hooktray, append(addr, "--hidden")...)
	if err != nil {
		return err
	}
	fmt.Printf("  %-28s launch to window %6.0f ms | idle CPU %6.2f %% | RSS %6.1f MiB\n", "minimal Fyne window", ms(minLaunch), minCPU, mib(minRSS))
	fmt.Printf("  %-28s launch to window %6.0f ms | idle CPU %6.2f %% | RSS %6.1f MiB\n", "hooktray (hidden, in tray)", ms(hookLaunch), hookCPU, mib(hookRSS))
	fmt.Printf("\nidle CPU hooktray − minimal: %+.2f points (target ≤ 0); RSS hooktray/minimal: %.2f (target ≤ 1.30)\n",
		hookCPU-minCPU, float64(hookRSS)/float64(minRSS))
	return nil
}

func startXvfb() (string, func(), error) {
	for n := 150; n < 250; n++ {
		if _, err := os.Stat(fmt.Sprintf("/tmp/.X11-unix/X%d", n)); err == nil {
			continue
		}
		display := fmt.Sprintf(":%d", n)
		cmd := exec.Command("Xvfb", display, "-screen", "0", "1366x860x24", "-nolisten", "tcp")
		if err := cmd.Start(); err != nil {
			return "", nil, fmt.Errorf("start Xvfb: %w (apt-get install xvfb)", err)
		}
		stop := func() { cmd.Process.Kill(); cmd.Wait() }
		for range 100 {
			if _, err := os.Stat(fmt.Sprintf("/tmp/.X11-unix/X%d", n)); err == nil {
				return display, stop, nil
			}
			time.Sleep(50 * time.Millisecond)
		}
		stop()
		return "", nil, fmt.Errorf("the X server (Xvfb) on %s did not start", display)
	}
	return "", nil, fmt.Errorf("no free X display")
}

// launchToWindow starts bin and returns how long until a window titled title is mapped.
func launchToWindow(env []string, title, bin string, args ...string) (time.Duration, error) {
	cmd := exec.Command(bin, args...)
	cmd.Env = env
	start := time.Now()
	if err := cmd.Start(); err != nil {
		return 0, fmt.Errorf("start %s: %w", bin, err)
	}
	defer stop(cmd)
	for time.Since(start) < 30*time.Second {
		find := exec.Command("xdotool", "search", "--onlyvisible", "--name", "^"+title+"$")
		find.Env = env
		if out, err := find.Output(); err == nil && len(strings.TrimSpace(string(out))) > 0 {
			return time.Since(start), nil
		}
		time.Sleep(10 * time.Millisecond)
	}
	return 0, fmt.Errorf("%s showed no window %q (is xdotool installed?)", bin, title)
}

// idleCost starts bin, lets it settle, then measures its CPU share over d and its RSS.
func idleCost(env []string, d time.Duration, bin string, args ...string) (float64, int64, error) {
	cmd := exec.Command(bin, args...)
	cmd.Env = env
	if err := cmd.Start(); err != nil {
		return 0, 0, fmt.Errorf("start %s: %w", bin, err)
	}
	defer stop(cmd)
	time.Sleep(5 * time.Second) // start-up work (loading counts, first page) is not idle
	pid := cmd.Process.Pid
	t0, err := proc.CPUTime(pid)
	if err != nil {
		return 0, 0, err
	}
	start := time.Now()
	time.Sleep(d)
	t1, err := proc.CPUTime(pid)
	if err != nil {
		return 0, 0, err
	}
	rss, err := proc.RSS(pid)
	return 100 * (t1 - t0).Seconds() / time.Since(start).Seconds(), rss, err
}

func stop(cmd *exec.Cmd) {
	cmd.Process.Signal(os.Interrupt)
	done := make(chan struct{})
	go func() { cmd.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(5 * time.Second):
		cmd.Process.Kill()
		<-done
	}
	os.Remove(filepath.Join("bench/out/gui", "runtime.json"))
}

func ms(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }
func mib(n int64) float64        { return float64(n) / (1 << 20) }

// runStreams measures every scenario at every rate, beside the minimal window idle as long.
func runStreams(hooktray, minimal, rates string, d time.Duration, scenarios []scenario) error {
	display, stopX, err := startXvfb()
	if err != nil {
		return err
	}
	defer stopX()
	env := append(os.Environ(), "DISPLAY="+display)
	minCPU, minRSS, err := idleCost(env, min(d, 30*time.Second), minimal)
	if err != nil {
		return err
	}
	fmt.Printf("\nstreams: small JSON webhooks at a steady rate for %s, under Xvfb (software OpenGL)\n", d)
	fmt.Printf("  %-16s %6s  %7s  %9s  %9s  %s\n", "", "rate/s", "CPU %", "RSS MiB", "after MiB", "")
	fmt.Printf("  %-16s %6s  %7.1f  %9.1f\n", "minimal window", "idle", minCPU, mib(minRSS))
	got := map[scenario]map[int]streamResult{}
	for _, field := range strings.Split(rates, ",") {
		rate, err := strconv.Atoi(strings.TrimSpace(field))
		if err != nil || rate <= 0 {
			return fmt.Errorf("bad rate %q", field)
		}
		for _, sc := range scenarios {
			r, err := measureStream(env, hooktray, sc, rate, d)
			if err != nil {
				return fmt.Errorf("%s at %d/s: %w", sc, rate, err)
			}
			if got[sc] == nil {
				got[sc] = map[int]streamResult{}
			}
			got[sc][rate] = r
			extra := ""
			if len(r.clicks) > 0 {
				extra = fmt.Sprintf("click to detail: median %.0f ms, max %.0f ms (%d clicks, %d without a detail in 3 s)", ms(median(r.clicks)), ms(slices.Max(r.clicks)), len(r.clicks), r.missed)
			}
			if r.rssFirstMin > 0 {
				extra += fmt.Sprintf(" RSS end/first minute %.2f", float64(r.rss)/float64(r.rssFirstMin))
			}
			fmt.Printf("  %-16s %6d  %7.1f  %9.1f  %9.1f  %s\n", sc, rate, r.cpu, mib(r.rss), mib(r.rssAfter), extra)
		}
	}
	fmt.Println("\ntargets:")
	if r, ok := got[closed][20]; ok {
		fmt.Printf("  closed at 20/s: %.1f %% CPU (target ≤ 5 %%; hidden: %.1f %%)\n", r.cpu, got[hidden][20].cpu)
		fmt.Printf("  closed, RSS after the stream / minimal window: %.2f (target ≤ 1.30)\n", float64(r.rssAfter)/float64(minRSS))
	}
	if r, ok := got[shown][20]; ok {
		fmt.Printf("  shown at 20/s: %.1f %% CPU (target ≤ 25 %%)\n", r.cpu)
	}
	if r, ok := got[shown][200]; ok {
		fmt.Printf("  shown at 200/s: %.1f %% CPU (target ≤ 40 %%); click to detail max %.0f ms (target ≤ 150 ms)\n", r.cpu, ms(slices.Max(append(r.clicks, 0))))
		if r.rssFirstMin > 0 {
			fmt.Printf("  shown at 200/s: RSS at the end / after the first minute %.2f (target ≤ 1.30)\n", float64(r.rss)/float64(r.rssFirstMin))
		}
	}
	return nil
}

func parseScenarios(list string) ([]scenario, error) {
	names := map[string]scenario{"serve": headless, "hidden": hidden, "closed": closed, "shown": shown}
	var out []scenario
	for _, n := range strings.Split(list, ",") {
		sc, ok := names[strings.TrimSpace(n)]
		if !ok {
			return nil, fmt.Errorf("unknown scenario %q (serve, hidden, closed, shown)", n)
		}
		out = append(out, sc)
	}
	return out, nil
}
