// Command history measures how Hooktray's history behaves when it is large: with N stored events
// (default 1,000,000) it times the newest page of 100 and a full-text search for a rare word
// through the admin API of a real `hooktray serve`, and compares the serve process's memory with
// the same queries on an empty history. It prints figures; it asserts nothing.
package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/hooktray/hooktray/bench/fill"
	"github.com/hooktray/hooktray/bench/proc"
)

func main() {
	hooktray := flag.String("hooktray", "bin/hooktray", "hooktray binary")
	events := flag.Int("events", 1_000_000, "events in the large history")
	dir := flag.String("dir", "bench/out/history", "where the large history is kept between runs (it is reused when it holds enough events)")
	runs := flag.Int("runs", 200, "requests per measurement")
	flag.Parse()
	if err := run(*hooktray, *dir, *events, *runs); err != nil {
		fmt.Fprintln(os.Stderr, "history:", err)
		os.Exit(1)
	}
}

func run(bin, bigDir string, events, runs int) error {
	ctx := context.Background()
	if err := fill.History(ctx, bigDir, events); err != nil {
		return err
	}
	emptyDir, err := os.MkdirTemp("", "hooktray-history-empty-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(emptyDir)
	if err := fill.History(ctx, emptyDir, 100); err != nil {
		return err
	}
	fmt.Printf("history: newest page of 100 and a search for a rare word, %d requests each, through the admin API\n", runs)
	var rss [2]int64
	for i, d := range []struct {
		name, dir string
		n         int
	}{{"100 events", emptyDir, 100}, {fmt.Sprintf("%d events", events), bigDir, events}} {
		s, err := startServe(bin, d.dir)
		if err != nil {
			return err
		}
		fmt.Printf("  %-16s serve ready (runtime.json written, status answered) %4.0f ms after it was started\n", d.name, float64(s.ready)/float64(time.Millisecond))
		page := s.measure(runs, "/api/v1/events?limit=100")
		search := s.measure(runs, "/api/v1/events?limit=100&q="+fill.RareWord)
		rss[i] = s.rss()
		s.stop()
		fmt.Printf("  %-16s newest page p50 %6.2f ms p95 %6.2f ms | search p50 %6.2f ms p95 %6.2f ms | serve RSS %5.1f MiB\n",
			d.name, page[0], page[1], search[0], search[1], float64(rss[i])/(1<<20))
		if i == 1 {
			fmt.Printf("\ntargets: newest page p95 ≤ 20 ms (%.2f), search p95 ≤ 100 ms (%.2f)\n", page[1], search[1])
		}
	}
	fmt.Printf("RSS with %d events / with 100 events: %.2f (the history's size should not matter)\n", events, float64(rss[1])/float64(rss[0]))
	return nil
}

type serve struct {
	cmd   *exec.Cmd
	api   string
	token string
	ready time.Duration // from start to the first answer of the admin API
}

func startServe(bin, dir string) (*serve, error) {
	os.Remove(filepath.Join(dir, "runtime.json"))
	cmd := exec.Command(bin, "serve", "--data-dir", dir, "--listen", "127.0.0.1:0", "--api-listen", "127.0.0.1:0", "--keep-days", "0")
	started := time.Now()
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("start %s: %w", bin, err)
	}
	for deadline := time.Now().Add(30 * time.Second); time.Now().Before(deadline); time.Sleep(2 * time.Millisecond) {
		var rt struct{ API string }
		b, err := os.ReadFile(filepath.Join(dir, "runtime.json"))
		if err == nil && json.Unmarshal(b, &rt) == nil {
			tok, _ := os.ReadFile(filepath.Join(dir, "api-token"))
			s := &serve{cmd: cmd, api: rt.API, token: strings.TrimSpace(string(tok))}
			s.measure(1, "/api/v1/status")
			s.ready = time.Since(started)
			return s, nil
		}
	}
	cmd.Process.Kill()
	return nil, fmt.Errorf("serve did not start on %s", dir)
}

// measure returns the p50 and p95 of runs GETs of path, in milliseconds.
func (s *serve) measure(runs int, path string) [2]float64 {
	var lat []time.Duration
	for range runs {
		req, _ := http.NewRequest(http.MethodGet, s.api+path, nil)
		req.Header.Set("Authorization", "Bearer "+s.token)
		t0 := time.Now()
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			continue
		}
		io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		lat = append(lat, time.Since(t0))
	}
	slices.Sort(lat)
	if len(lat) == 0 {
		return [2]float64{}
	}
	ms := func(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }
	return [2]float64{ms(lat[len(lat)/2]), ms(lat[len(lat)*95/100])}
}

// rss is the serve process's resident memory (0 when it cannot be read).
func (s *serve) rss() int64 {
	n, _ := proc.RSS(s.cmd.Process.Pid)
	return n
}

func (s *serve) stop() {
	s.cmd.Process.Signal(os.Interrupt)
	s.cmd.Wait()
}
