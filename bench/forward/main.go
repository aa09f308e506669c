// Command forward measures forwarding beside ingest, in the same run: how many deliveries a
// second Hooktray makes to a local target that answers 200 while webhooks arrive at full speed,
// how much the forwarding costs ingest, and whether memory grows with a queue of deliveries for a
// dead target (it should not: the queue lives in SQLite). It prints figures and ratios; it
// asserts nothing.
package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/hooktray/hooktray/bench/load"
	"github.com/hooktray/hooktray/bench/proc"
	"github.com/hooktray/hooktray/bench/serve"
)

func main() {
	hooktray := flag.String("hooktray", "bin/hooktray", "hooktray binary")
	conns := flag.Int("conns", 64, "concurrent keep-alive connections")
	dur := flag.Duration("duration", 10*time.Second, "measured time per run")
	size := flag.Int("size", 1024, "body size in bytes")
	queued := flag.Int("queue", 100000, "deliveries to queue for a dead target (memory)")
	rulesOnly := flag.Bool("rules-only", false, "measure only what a filter and a transform cost forwarding")
	latencyOnly := flag.Bool("latency-only", false, "measure only the latency a webhook's forwarding adds")
	directTo := flag.String("direct-client", "", "(internal) post to this URL from one keep-alive connection and print the rate")
	directFor := flag.Duration("direct-for", 3*time.Second, "(internal) how long -direct-client posts")
	flag.Parse()
	if *directTo != "" {
		fmt.Printf("%.0f\n", load.Run(context.Background(), *directTo, load.JSONBody(*size), 1, *directFor).RPS())
		return
	}
	if *rulesOnly || *latencyOnly {
		in, err := serve.Start(context.Background(), *hooktray, "")
		if err == nil && *rulesOnly {
			err = rulesCost(context.Background(), in, load.JSONBody(*size))
		}
		for _, rate := range []int{50, 200} {
			if err == nil && *latencyOnly {
				err = latency(context.Background(), in, rate, 1000)
			}
		}
		if in != nil {
			in.Stop()
		}
		if err != nil {
			fmt.Fprintln(os.Stderr, "forward:", err)
			os.Exit(1)
		}
		return
	}
	if err := run(*hooktray, *conns, *dur, *size, *queued); err != nil {
		fmt.Fprintln(os.Stderr, "forward:", err)
		os.Exit(1)
	}
}

// endpoint creates an endpoint, forwarding to target when given, and returns its URL.
func endpoint(in *serve.Instance, name string, target map[string]any) (string, error) {
	var ep struct{ ID, URL string }
	if err := in.Call("POST", "/api/v1/endpoints", map[string]string{"name": name}, &ep); err != nil {
		return "", err
	}
	if target != nil {
		if err := in.Call("POST", "/api/v1/endpoints/"+ep.ID+"/targets", target, nil); err != nil {
			return "", err
		}
	}
	return ep.URL, nil
}

func run(bin string, conns int, dur time.Duration, size, queued int) error {
	ctx := context.Background()
	body := load.JSONBody(size)
	var received atomic.Int64
	target := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.Copy(io.Discard, r.Body)
		received.Add(1)
		w.Write([]byte("ok"))
	}))
	defer target.Close()

	in, err := serve.Start(ctx, bin, "")
	if err != nil {
		return err
	}
	defer in.Stop()
	plain, err := endpoint(in, "plain", nil)
	if err != nil {
		return err
	}
	forwarded, err := endpoint(in, "forwarded", map[string]any{"url": target.URL})
	if err != nil {
		return err
	}
	parallel, err := endpoint(in, "forwarded-parallel", map[string]any{"url": target.URL, "parallel": 8})
	if err != nil {
		return err
	}
	// A filter and a transform on every event (both let every event through, so the same number
	// of deliveries is made): what rules cost forwarding.
	ruled, err := endpoint(in, "forwarded-rules", map[string]any{"url": target.URL,
		"when":      `body.type == "state.changed" && body.device.online`,
		"transform": map[string]any{"body": `{"device": body.device.id, "room": body.device.room, "last": body.readings[size(body.readings) - 1].value}`}})
	if err != nil {
		return err
	}
	fmt.Printf("forward: %d connections, %d-byte JSON bodies, %s per run; a local target answering 200\n", conns, len(body), dur)
	for _, rate := range []int{50, 200} {
		if err := latency(ctx, in, rate, 1000); err != nil {
			return err
		}
	}
	load.Run(ctx, plain, body, conns, time.Second) // warm up
	base := load.Run(ctx, plain, body, conns, dur)
	fmt.Printf("  ingest, no target          %s\n", base)
	// What any in-order forwarder can reach here while ingest runs: one client posting to the
	// target directly, one request at a time, from its own process, beside the same load.
	underLoad, beside, err := directBeside(ctx, target.URL, plain, body, conns, dur)
	if err != nil {
		return err
	}
	fmt.Printf("  ingest, no target, one client posting in order to the target directly beside it: %.0f/s (ingest %.0f req/s)\n",
		underLoad, beside.RPS())
	var plainRate float64
	for _, c := range []struct{ name, url string }{{"in order, one at a time (default)", forwarded}, {"8 in parallel (order not kept)", parallel},
		{"in order, with a filter and a transform", ruled}} {
		before := received.Load()
		withFwd := load.Run(ctx, c.url, body, conns, dur)
		during := received.Load() - before
		fwdRate := float64(during) / withFwd.Elapsed.Seconds()
		fmt.Printf("  ingest, forwarded %-34s %s\n", c.name, withFwd)
		caughtUp := time.Now()
		for received.Load()-before < int64(withFwd.Requests) && time.Since(caughtUp) < 5*time.Minute {
			time.Sleep(50 * time.Millisecond)
		}
		backlog, drain := int64(withFwd.Requests)-during, time.Since(caughtUp)
		fmt.Printf("    forwarded while ingesting %.0f deliveries/s; the backlog of %d cleared %.1f s after ingest stopped (%.0f/s, no rate limit)\n",
			fwdRate, backlog, drain.Seconds(), float64(backlog)/drain.Seconds())
		fmt.Printf("    forwarding/ingest: %.2f (target ≥ 0.25); ingest with forwarding/without: %.2f (target ≥ 0.70)\n",
			fwdRate/withFwd.RPS(), withFwd.RPS()/base.RPS())
		switch c.url {
		case forwarded:
			plainRate = fwdRate
			fmt.Printf("    forwarding in order/one client posting in order directly under the same load: %.2f\n", fwdRate/underLoad)
		case ruled:
			fmt.Printf("    forwarding with rules/without: %.2f (target ≥ 0.80)\n", fwdRate/plainRate)
		}
	}

	if err := rulesCost(ctx, in, body); err != nil {
		return err
	}

	// Memory with a queue for a dead target: the breaker holds the deliveries; RSS must not follow.
	dead, err := endpoint(in, "dead", map[string]any{"url": "http://127.0.0.1:9/down", "max_retries": 50})
	if err != nil {
		return err
	}
	load.Run(ctx, dead, body, conns, time.Second)
	rss0, _ := proc.RSS(in.Cmd.Process.Pid)
	n := 0
	for n < queued {
		r := load.Run(ctx, dead, body, conns, 2*time.Second)
		n += r.Requests
	}
	rss1, _ := proc.RSS(in.Cmd.Process.Pid)
	fmt.Printf("memory: RSS %.1f MiB with a few deliveries queued, %.1f MiB with %d more queued for a dead target: %.2fx (target: does not grow with the queue)\n",
		float64(rss0)/(1<<20), float64(rss1)/(1<<20), n, float64(rss1)/float64(rss0))
	return nil
}

// directBeside runs one in-order client posting to target from its own process while conns
// connections post to ingest, and returns the client's rate and ingest's result.
func directBeside(ctx context.Context, target, ingest string, body []byte, conns int, dur time.Duration) (float64, load.Result, error) {
	cmd := exec.CommandContext(ctx, os.Args[0], "-direct-client", target, "-size", strconv.Itoa(len(body)), "-direct-for", dur.String())
	var out strings.Builder
	cmd.Stdout = &out
	if err := cmd.Start(); err != nil {
		return 0, load.Result{}, fmt.Errorf("start the direct client: %w", err)
	}
	res := load.Run(ctx, ingest, body, conns, dur)
	if err := cmd.Wait(); err != nil {
		return 0, res, fmt.Errorf("the direct client: %w", err)
	}
	rate, err := strconv.ParseFloat(strings.TrimSpace(out.String()), 64)
	if err != nil {
		return 0, res, fmt.Errorf("the direct client printed %q: %w", out.String(), err)
	}
	return rate, res, nil
}

// rulesCost compares a target's drain of a queue with and without a filter and a transform on
// every event, with nothing else running: what rules cost forwarding itself. Three rounds, the
// order of the two alternating, so that neither always runs on the larger history; the median
// ratio is the figure.
func rulesCost(ctx context.Context, in *serve.Instance, body []byte) error {
	rules := map[string]any{"when": `body.type == "state.changed" && body.device.online`,
		"transform": map[string]any{"body": `{"device": body.device.id, "room": body.device.room, "last": body.readings[size(body.readings) - 1].value}`}}
	// The client in a process of its own, as Hooktray is: the same two processes and loopback.
	direct := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { io.Copy(io.Discard, r.Body) }))
	out, err := exec.CommandContext(ctx, os.Args[0], "-direct-client", direct.URL, "-size", strconv.Itoa(len(body))).Output()
	direct.Close()
	if err != nil {
		return fmt.Errorf("the direct client: %w", err)
	}
	oneRate, _ := strconv.ParseFloat(strings.TrimSpace(string(out)), 64)
	var ratios, alone []float64
	for round := range 3 {
		var rates [2]float64
		for j := range 2 {
			i := (j + round) % 2 // 0: plain, 1: with rules
			var extra map[string]any
			if i == 1 {
				extra = rules
			}
			r, err := drainRate(ctx, in, body, fmt.Sprintf("drain-%d-%d", round, i), extra)
			if err != nil {
				return err
			}
			rates[i] = r
		}
		fmt.Printf("  a queue of %d drained alone, in order, no rate limit: %.0f deliveries/s plain, %.0f/s with a filter and a transform: %.2f\n",
			drainQueue, rates[0], rates[1], rates[1]/rates[0])
		ratios, alone = append(ratios, rates[1]/rates[0]), append(alone, rates[0]/oneRate)
	}
	slices.Sort(ratios)
	slices.Sort(alone)
	fmt.Printf("    in order, alone, against one client with one keep-alive connection posting to the target directly from its own process (%.0f/s): the median of 3 %.2f (target ≥ 0.50)\n", oneRate, alone[1])
	fmt.Printf("    forwarding with rules/without, the median of 3: %.2f (target ≥ 0.80)\n", ratios[1])
	return nil
}

// drainQueue is how many deliveries drainRate queues.
const drainQueue = 5000

// drainRate queues drainQueue deliveries for a new target that holds the first until all are
// queued, then answers at once, and returns how many a second it then took.
func drainRate(ctx context.Context, in *serve.Instance, body []byte, name string, extra map[string]any) (float64, error) {
	gate := make(chan struct{})
	var got atomic.Int64
	target := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.Copy(io.Discard, r.Body)
		<-gate
		got.Add(1)
	}))
	defer target.Close()
	var ep struct{ ID, URL string }
	if err := in.Call("POST", "/api/v1/endpoints", map[string]string{"name": name}, &ep); err != nil {
		return 0, err
	}
	tgt := map[string]any{"url": target.URL}
	for k, v := range extra {
		tgt[k] = v
	}
	if err := in.Call("POST", "/api/v1/endpoints/"+ep.ID+"/targets", tgt, nil); err != nil {
		return 0, err
	}
	sent := 0
	for sent < drainQueue {
		sent += load.Run(ctx, ep.URL, body, 16, 200*time.Millisecond).Requests
	}
	in.Call("GET", "/api/v1/events?limit=1", nil, nil) // every queued delivery in SQLite
	// Nothing else running: the full-text index has caught up with the burst that queued them.
	for deadline := time.Now().Add(2 * time.Minute); time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) {
		var st struct {
			SearchBacklog int64 `json:"search_backlog"`
		}
		if in.Call("GET", "/api/v1/status", nil, &st) == nil && st.SearchBacklog == 0 {
			break
		}
	}
	start := time.Now()
	close(gate)
	for got.Load() < int64(sent) && time.Since(start) < 5*time.Minute {
		time.Sleep(2 * time.Millisecond)
	}
	return float64(got.Load()) / time.Since(start).Seconds(), nil
}

// latency measures, at a steady rate, how long a webhook takes from its send until a local target
// has it, posted through Hooktray and (the baseline, in the same run) posted to the target
// directly by the same client.
func latency(ctx context.Context, in *serve.Instance, rate, n int) error {
	var mu sync.Mutex
	arrived := map[int]time.Time{}
	target := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		now := time.Now()
		var m struct{ Seq int }
		json.Unmarshal(b, &m)
		mu.Lock()
		arrived[m.Seq] = now
		mu.Unlock()
	}))
	defer target.Close()
	var ep struct{ ID, URL string }
	if err := in.Call("POST", "/api/v1/endpoints", map[string]string{"name": fmt.Sprintf("latency-%d", rate)}, &ep); err != nil {
		return err
	}
	if err := in.Call("POST", "/api/v1/endpoints/"+ep.ID+"/targets", map[string]any{"url": target.URL}, nil); err != nil {
		return err
	}
	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 1}}
	row := func(url string, first int) (p50, p99 time.Duration) {
		sent := make([]time.Time, n)
		tick := time.NewTicker(time.Second / time.Duration(rate))
		defer tick.Stop()
		for i := range n {
			<-tick.C
			sent[i] = time.Now()
			body := fmt.Sprintf(`{"seq":%d,"pad":%q}`, first+i, strings.Repeat("x", 900))
			if resp, err := client.Post(url, "application/json", strings.NewReader(body)); err == nil {
				io.Copy(io.Discard, resp.Body)
				resp.Body.Close()
			}
		}
		for deadline := time.Now().Add(30 * time.Second); time.Now().Before(deadline); time.Sleep(10 * time.Millisecond) {
			mu.Lock()
			got := 0
			for i := range n {
				if _, ok := arrived[first+i]; ok {
					got++
				}
			}
			mu.Unlock()
			if got == n {
				break
			}
		}
		mu.Lock()
		defer mu.Unlock()
		var lat []time.Duration
		for i := range n {
			if at, ok := arrived[first+i]; ok {
				lat = append(lat, at.Sub(sent[i]))
			}
		}
		slices.Sort(lat)
		if len(lat) == 0 {
			return 0, 0
		}
		return lat[len(lat)/2], lat[len(lat)*99/100]
	}
	d50, d99 := row(target.URL, 0)
	h50, h99 := row(ep.URL, n)
	fmt.Printf("  latency at %d webhooks/s (%d each): direct p50 %.1f / p99 %.1f ms, through Hooktray p50 %.1f / p99 %.1f ms: adds %.1f / %.1f ms (target ≤ 2 / ≤ 10)\n",
		rate, n, ms(d50), ms(d99), ms(h50), ms(h99), ms(h50-d50), ms(h99-d99))
	return nil
}

func ms(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }
