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
	"math/rand/v2"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/hooktray/hooktray/storage"
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

const rareWord = "zyzzogeton"

func run(bin, bigDir string, events, runs int) error {
	ctx := context.Background()
	if err := populate(ctx, bigDir, events); err != nil {
		return err
	}
	emptyDir, err := os.MkdirTemp("", "hooktray-history-empty-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(emptyDir)
	if err := populate(ctx, emptyDir, 100); err != nil {
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
		page := s.measure(runs, "/api/v1/events?limit=100")
		search := s.measure(runs, "/api/v1/events?limit=100&q="+rareWord)
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

// populate fills dir's database with n events (bodies of about 400 bytes of JSON with varied
// words; one in 100,000 carries the rare word) and indexes them, unless it already holds n.
func populate(ctx context.Context, dir string, n int) error {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return err
	}
	s, err := storage.Open(ctx, filepath.Join(dir, "hooktray.db"))
	if err != nil {
		return err
	}
	defer s.Close()
	page, err := s.ListEvents(ctx, storage.EventQuery{Limit: 1})
	if err != nil {
		return err
	}
	have := int64(0)
	if len(page.Events) > 0 {
		have = page.Events[0].ID
	}
	if have >= int64(n) {
		return nil
	}
	fmt.Printf("populating %s with %d events (kept for the next run)…\n", dir, n-int(have))
	ep := storage.NewEndpoint("history")
	if err := s.CreateEndpoint(ctx, &ep); err != nil {
		return err
	}
	words := strings.Fields("alarm door window motion garage kitchen hall sensor battery low open closed armed disarmed temperature humidity light switch lock unlock zone status anomaly alert")
	rng := rand.New(rand.NewPCG(1, 2))
	hdr := http.Header{"Content-Type": {"application/json"}, "User-Agent": {"Diagral-Cloud/2.1"}, "X-Device-Id": {"dev-1"}}
	start := time.Now()
	for done := int(have); done < n; {
		batch := make([]*storage.Event, 0, 1000)
		for range min(1000, n-done) {
			var b strings.Builder
			b.WriteString(`{"type":"STATUS","device":"`)
			for range 40 {
				b.WriteString(words[rng.IntN(len(words))])
				b.WriteByte(' ')
			}
			if done%100_000 == 50_000 {
				b.WriteString(rareWord)
			}
			b.WriteString(`","n":` + strconv.Itoa(done) + `}`)
			body := []byte(b.String())
			batch = append(batch, &storage.Event{EndpointID: ep.ID, ReceivedAt: time.Now().UTC(), Method: "POST",
				Path: "/webhook/" + ep.ID, Header: hdr, Body: body, Size: int64(len(body)),
				RemoteAddr: "127.0.0.1:1", ClientIP: "127.0.0.1", ResponseStatus: 200})
			done++
		}
		if err := s.InsertBatch(ctx, batch); err != nil {
			return err
		}
		for {
			k, err := s.IndexPending(ctx, 5000)
			if err != nil {
				return err
			}
			if k == 0 {
				break
			}
		}
		if _, err := s.Checkpoint(ctx); err != nil {
			return err
		}
		if done%100_000 == 0 {
			fmt.Printf("  %d events (%s)\n", done, time.Since(start).Round(time.Second))
		}
	}
	return nil
}

type serve struct {
	cmd   *exec.Cmd
	api   string
	token string
}

func startServe(bin, dir string) (*serve, error) {
	os.Remove(filepath.Join(dir, "runtime.json"))
	cmd := exec.Command(bin, "serve", "--data-dir", dir, "--listen", "127.0.0.1:0", "--api-listen", "127.0.0.1:0", "--keep-days", "0")
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("start %s: %w", bin, err)
	}
	for deadline := time.Now().Add(30 * time.Second); time.Now().Before(deadline); time.Sleep(50 * time.Millisecond) {
		var rt struct{ API string }
		b, err := os.ReadFile(filepath.Join(dir, "runtime.json"))
		if err == nil && json.Unmarshal(b, &rt) == nil {
			tok, _ := os.ReadFile(filepath.Join(dir, "api-token"))
			return &serve{cmd: cmd, api: rt.API, token: strings.TrimSpace(string(tok))}, nil
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

// rss is the serve process's resident memory, from /proc (Linux).
func (s *serve) rss() int64 {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", s.cmd.Process.Pid))
	if err != nil {
		return 0
	}
	for _, line := range strings.Split(string(b), "\n") {
		if rest, ok := strings.CutPrefix(line, "VmRSS:"); ok {
			kb, _ := strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(rest), " kB"), 10, 64)
			return kb << 10
		}
	}
	return 0
}

func (s *serve) stop() {
	s.cmd.Process.Signal(os.Interrupt)
	s.cmd.Wait()
}
