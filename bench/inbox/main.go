// Command inbox measures the always-on inbox beside the local receiver, in the same run: how fast
// Hooktray drains the webhooks the inbox (edge/inbox.js under the local workerd) kept while
// Hooktray was stopped, against how fast Hooktray ingests webhooks itself; and the delay the inbox
// adds to a webhook while connected, against a webhook sent to the local receiver. It prints
// figures and ratios; it asserts nothing.
package main

import (
	"bufio"
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/hooktray/hooktray/bench/load"
	"github.com/hooktray/hooktray/bench/serve"
)

func main() {
	hooktray := flag.String("hooktray", "bin/hooktray", "hooktray binary")
	n := flag.Int("n", 20000, "webhooks the inbox keeps while Hooktray is stopped")
	conns := flag.Int("conns", 16, "concurrent keep-alive connections")
	size := flag.Int("size", 1024, "body size in bytes")
	live := flag.Int("live", 300, "webhooks sent one at a time to each of the inbox and the local receiver")
	dur := flag.Duration("duration", 5*time.Second, "measured time of the local ingest run")
	flag.Parse()
	if err := run(context.Background(), *hooktray, *n, *conns, *size, *live, *dur); err != nil {
		fmt.Fprintln(os.Stderr, "inbox:", err)
		os.Exit(1)
	}
}

func run(ctx context.Context, bin string, n, conns, size, live int, dur time.Duration) error {
	secret := randomHex(32)
	edge, err := startEdge(ctx, secret)
	if err != nil {
		return err
	}
	defer edge.stop()
	dataDir, err := os.MkdirTemp("", "hooktray-bench-inbox-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dataDir)
	ht, err := serve.Start(ctx, bin, dataDir)
	if err != nil {
		return err
	}
	defer func() { ht.Stop() }()
	var ep struct{ ID, URL string }
	if err := ht.Call("POST", "/api/v1/endpoints", map[string]string{"name": "bench"}, &ep); err != nil {
		return err
	}
	use := map[string]any{"url": edge.url, "secret": secret, "cap": map[string]int64{"requests": int64(2 * n), "bytes": 4 << 30}}
	if err := ht.Call("POST", "/api/v1/inbox/use", use, nil); err != nil {
		return err
	}
	if err := waitInbox(ht, func(in inboxStatus) bool { return in.Connected }); err != nil {
		return err
	}
	inboxURL := edge.url + "/webhook/" + ep.ID
	body := load.JSONBody(size)
	fmt.Printf("inbox: edge/inbox.js under workerd on this machine, %d-byte JSON bodies, %d connections\n", len(body), conns)

	load.Run(ctx, ep.URL, body, conns, time.Second) // warm up
	local := load.Run(ctx, ep.URL, body, conns, dur)
	fmt.Printf("  local receiver, ingest      %s\n", local)

	if err := liveDelays(ctx, ht, ep.URL, inboxURL, body, live); err != nil {
		return err
	}

	// Hooktray stopped: the inbox keeps n webhooks; started again, it drains them.
	ht.Stop()
	kept, err := sendCount(ctx, inboxURL, body, n, conns)
	if err != nil {
		return err
	}
	fmt.Printf("  inbox keeping (Hooktray stopped) %d webhooks in %.2f s: %.0f/s\n", n, kept.Seconds(), float64(n)/kept.Seconds())
	started := time.Now()
	if ht, err = serve.Start(ctx, bin, dataDir); err != nil {
		return err
	}
	var connectedAt time.Time
	err = waitInbox(ht, func(in inboxStatus) bool {
		if in.Connected && connectedAt.IsZero() {
			connectedAt = time.Now()
		}
		return in.Drained >= int64(n)
	})
	if err != nil {
		return err
	}
	// Taken means journaled; a GET waits until the journal's webhooks are in the history too.
	if err := ht.Call("GET", "/api/v1/events?limit=1", nil, nil); err != nil {
		return err
	}
	drained := time.Since(connectedAt)
	rate := float64(n) / drained.Seconds()
	fmt.Printf("  drain: %d webhooks in Hooktray's history %.2f s after it connected (%.2f s after its start): %.0f/s (target ≥ 5,000/s)\n",
		n, drained.Seconds(), time.Since(started).Seconds(), rate)
	fmt.Printf("  drain/local ingest: %.2f\n", rate/local.RPS())
	return nil
}

// liveDelays sends webhooks one at a time, alternately to the local receiver and to the inbox,
// each timed from its send until the live stream shows it in Hooktray's history.
func liveDelays(ctx context.Context, ht *serve.Instance, localURL, inboxURL string, body []byte, n int) error {
	// Let the ingest run's webhooks reach the history first (a GET settles), then follow.
	if err := ht.Call("GET", "/api/v1/events?limit=1", nil, nil); err != nil {
		return err
	}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	stream, err := follow(ctx, ht)
	if err != nil {
		return err
	}
	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 2}}
	var viaLocal, viaInbox []time.Duration
	for i := range 2 * n {
		url, into := localURL, &viaLocal
		if i%2 == 1 {
			url, into = inboxURL, &viaInbox
		}
		start := time.Now()
		if err := post(ctx, client, url, body); err != nil {
			return err
		}
		select {
		case <-stream:
		case <-time.After(30 * time.Second):
			return errors.New("a webhook did not reach the history within 30 s")
		}
		*into = append(*into, time.Since(start))
	}
	lp50, lp99 := percentiles(viaLocal)
	ip50, ip99 := percentiles(viaInbox)
	fmt.Printf("  live, send → in the history, %d each one at a time:\n", n)
	fmt.Printf("    local receiver  p50 %6.2f ms  p99 %6.2f ms\n", ms(lp50), ms(lp99))
	fmt.Printf("    inbox           p50 %6.2f ms  p99 %6.2f ms  (adds %.2f / %.2f ms)\n", ms(ip50), ms(ip99), ms(ip50-lp50), ms(ip99-lp99))
	return nil
}

func percentiles(d []time.Duration) (p50, p99 time.Duration) {
	slices.Sort(d)
	return d[len(d)/2], d[len(d)*99/100]
}

func ms(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }

func post(ctx context.Context, client *http.Client, url string, body []byte) error {
	req, _ := http.NewRequestWithContext(ctx, http.MethodPost, url, bytes.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	resp, err := client.Do(req)
	if err != nil {
		return err
	}
	io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	if resp.StatusCode/100 != 2 {
		return fmt.Errorf("POST %s: %s", url, resp.Status)
	}
	return nil
}

// sendCount posts n webhooks from conns connections and returns how long they took.
func sendCount(ctx context.Context, url string, body []byte, n, conns int) (time.Duration, error) {
	var next atomic.Int64
	var wg sync.WaitGroup
	var mu sync.Mutex
	var firstErr error
	start := time.Now()
	for range conns {
		wg.Add(1)
		go func() {
			defer wg.Done()
			client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 1}}
			for next.Add(1) <= int64(n) {
				if err := post(ctx, client, url, body); err != nil {
					mu.Lock()
					if firstErr == nil {
						firstErr = err
					}
					mu.Unlock()
					return
				}
			}
		}()
	}
	wg.Wait()
	return time.Since(start), firstErr
}

func randomHex(n int) string {
	b := make([]byte, n)
	rand.Read(b)
	return hex.EncodeToString(b)
}

// edge is the inbox Worker under workerd, started by scripts/edge-local.sh.
type edge struct {
	cmd   *exec.Cmd
	state string
	url   string
}

func startEdge(ctx context.Context, secret string) (*edge, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	port := ln.Addr().(*net.TCPAddr).Port
	ln.Close()
	state, err := os.MkdirTemp("", "hooktray-bench-edge-")
	if err != nil {
		return nil, err
	}
	cmd := exec.CommandContext(ctx, "scripts/edge-local.sh", strconv.Itoa(port), state)
	cmd.Env = append(os.Environ(), "HOOKTRAY_INBOX_SECRET="+secret)
	cmd.Stderr = os.Stderr
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("start the local inbox (run from the repository's root): %w", err)
	}
	e := &edge{cmd: cmd, state: state, url: "http://127.0.0.1:" + strconv.Itoa(port)}
	for deadline := time.Now().Add(3 * time.Minute); ; time.Sleep(100 * time.Millisecond) {
		if resp, err := http.Get(e.url + "/webhook/none"); err == nil {
			resp.Body.Close()
			return e, nil
		}
		if time.Now().After(deadline) {
			e.stop()
			return nil, errors.New("the local inbox did not answer within 3 minutes (npm install of workerd?)")
		}
	}
}

func (e *edge) stop() {
	e.cmd.Process.Kill()
	e.cmd.Wait()
	os.RemoveAll(e.state)
}

type inboxStatus struct {
	Connected bool  `json:"connected"`
	Drained   int64 `json:"drained"`
}

// waitInbox polls the inbox's status until done says so (at most 5 minutes).
func waitInbox(in *serve.Instance, done func(inboxStatus) bool) error {
	for deadline := time.Now().Add(5 * time.Minute); time.Now().Before(deadline); time.Sleep(10 * time.Millisecond) {
		var st struct{ Inbox *inboxStatus }
		if err := in.Call("GET", "/api/v1/inbox", nil, &st); err == nil && st.Inbox != nil && done(*st.Inbox) {
			return nil
		}
	}
	return errors.New("the inbox's status did not come to what was awaited within 5 minutes")
}

// follow reads the live stream of new events; each one is a value on the channel.
func follow(ctx context.Context, in *serve.Instance) (<-chan struct{}, error) {
	resp, err := in.Request(ctx, "GET", "/api/v1/events/stream", nil)
	if err != nil {
		return nil, err
	}
	if resp.StatusCode != http.StatusOK {
		resp.Body.Close()
		return nil, fmt.Errorf("events stream: %s", resp.Status)
	}
	events := make(chan struct{}, 1024)
	go func() {
		defer resp.Body.Close()
		sc := bufio.NewScanner(resp.Body)
		sc.Buffer(make([]byte, 64<<10), 1<<20)
		for sc.Scan() {
			if strings.HasPrefix(sc.Text(), "data:") {
				events <- struct{}{}
			}
		}
	}()
	return events, nil
}
