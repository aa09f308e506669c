// Command ingest compares Hooktray's durable receiver (`hooktray serve`, every request committed
// to SQLite with synchronous=FULL before the answer) with a bare net/http handler, in the same
// run, with the same load generator. It prints figures and the ratio; it asserts nothing.
package main

import (
	"bufio"
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"flag"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/hooktray/hooktray/bench/load"
	"github.com/hooktray/hooktray/bench/proc"
)

func main() {
	hooktray := flag.String("hooktray", "bin/hooktray", "hooktray binary")
	bare := flag.String("bare", "bin/bench-bare", "baseline server binary")
	conns := flag.Int("conns", 64, "concurrent keep-alive connections")
	dur := flag.Duration("duration", 10*time.Second, "measured time per server")
	size := flag.Int("size", 1024, "body size in bytes")
	rounds := flag.Int("rounds", 2, "alternating rounds (the best of each is reported)")
	wrk := flag.String("wrk", "wrk", "wrk binary for the comparison users make (\"\" to skip it)")
	wrkDur := flag.Duration("wrk-duration", 8*time.Second, "wrk's time per run")
	generator := flag.Bool("generator", true, "measure with the bench's own load generator too (false: wrk only)")
	ceiling := flag.String("ceiling", "bin/hooktray-ceiling", "hooktray built with -tags hooktray_ceiling, measured with wrk beside the others (\"\" to skip it)")
	flag.Parse()
	if *wrk != "" {
		path, err := exec.LookPath(*wrk)
		if err != nil {
			fmt.Fprintln(os.Stderr, "ingest: wrk is not installed (apt-get install wrk; make bench installs it)")
			os.Exit(1)
		}
		*wrk = path
	}
	if *wrk == "" && !*generator {
		fmt.Fprintln(os.Stderr, "ingest: -wrk \"\" and -generator=false leave nothing to measure")
		os.Exit(2)
	}
	if *ceiling != "" && *wrk == "" {
		fmt.Fprintln(os.Stderr, "ingest: -ceiling is measured with wrk; it needs -wrk")
		os.Exit(2)
	}
	if err := run(*hooktray, *bare, *ceiling, *wrk, *conns, *dur, *wrkDur, *size, *rounds, *generator); err != nil {
		fmt.Fprintln(os.Stderr, "ingest:", err)
		os.Exit(1)
	}
}

func run(hooktray, bare, ceiling, wrk string, conns int, dur, wrkDur time.Duration, size, rounds int, generator bool) error {
	body := load.JSONBody(size)

	bareSrv, err := startBare(bare)
	if err != nil {
		return err
	}
	defer bareSrv.stop()
	hook, err := startHooktray(hooktray)
	if err != nil {
		return err
	}
	defer hook.stop()
	if generator {
		if err := compareWithGenerator(bareSrv.url, hook.url, hook.verifyURL, hook.dataDir, body, conns, dur, rounds); err != nil {
			return err
		}
	}
	if wrk == "" {
		return nil
	}
	contenders := []contender{
		{name: "bare net/http", row: "bare `net/http` (reads the body, answers 200)", durable: "no", server: bareSrv},
		{name: "hooktray serve", row: "**Hooktray** (journal fdatasync'd per group, SQLite behind)", durable: "yes", server: hook.server, probe: true},
	}
	if ceiling != "" {
		if _, err := os.Stat(ceiling); err != nil {
			return fmt.Errorf("the ceiling build: %w (make bench builds it; -ceiling \"\" skips it)", err)
		}
		top, err := startHooktray(ceiling)
		if err != nil {
			return err
		}
		defer top.stop()
		contenders = append(contenders, contender{name: "ceiling build", row: "Hooktray's ceiling build: the same receiver with fdatasync and the SQLite import compiled out (not a product)", durable: "no", server: top.server})
	}
	return compareWithWrk(wrk, contenders, apiOf(hook.dataDir), hook.dataDir, body, conns, wrkDur, rounds)
}

// compareWithGenerator measures bare, Hooktray and Hooktray verifying signatures with the bench's
// own load generator, alternating, and prints the best of each and their ratios.
func compareWithGenerator(bareURL, hookURL, verifyURL, dataDir string, body []byte, conns int, dur time.Duration, rounds int) error {
	ctx := context.Background()
	fmt.Printf("ingest: %d connections, %d-byte JSON bodies, %s per run, %d rounds\n", conns, len(body), dur, rounds)
	// The verifying endpoint checks a GitHub signature of every request (enforce mode).
	m := hmac.New(sha256.New, []byte(benchSecret))
	m.Write(body)
	sig := "sha256=" + hex.EncodeToString(m.Sum(nil))
	type target struct {
		i         int
		name, url string
		hdr       []string
	}
	var best [3]load.Result
	for round := range rounds {
		order := []target{{0, "bare net/http", bareURL, nil}, {1, "hooktray serve", hookURL, nil}, {2, "hooktray verifying", verifyURL, []string{"X-Hub-Signature-256", sig}}}
		if round%2 == 1 { // alternate, so neither hooktray run always follows the other
			order[1], order[2] = order[2], order[1]
		}
		for _, target := range order {
			i := target.i
			load.Run(ctx, target.url, body, conns, time.Second, target.hdr...) // warm up
			r := load.Run(ctx, target.url, body, conns, dur, target.hdr...)
			fmt.Printf("  round %d  %-15s %s\n", round+1, target.name, r)
			if best[i].Requests == 0 || r.RPS() > best[i].RPS() {
				best[i] = r
			}
		}
	}
	b, h, v := best[0], best[1], best[2]
	fmt.Printf("\nbest bare net/http : %s\n", b)
	fmt.Printf("best hooktray serve: %s\n", h)
	fmt.Printf("best verifying     : %s\n", v)
	fmt.Printf("verification on/off: %.3f (target ≥ 0.95: at most 5 %% slower)\n", v.RPS()/h.RPS())
	fmt.Printf("ratio hooktray/bare: %.2f (target ≥ 0.70); hooktray p99 %.2f ms (target ≤ 20 ms)\n",
		h.RPS()/b.RPS(), float64(h.P99)/float64(time.Millisecond))
	if st, err := os.Stat(filepath.Join(dataDir, "hooktray.db")); err == nil {
		fmt.Printf("database after the run: %.1f MiB\n", float64(st.Size())/(1<<20))
	}
	return nil
}

// contender is one server wrk measures.
type contender struct {
	name, row, durable string
	server
	probe bool // measure how soon an acknowledged webhook is visible
}

// compareWithWrk runs wrk against each contender in turn, as users compare receivers, in reversed
// order every other round, and prints the table docs/performance.md keeps: the best of each
// (requests per second counting 2xx answers only), p99, the server's CPU time per request during
// its run, and the ratio to the first contender. After each Hooktray burst it reports the WAL's
// size and how far full-text search lagged behind.
func compareWithWrk(wrk string, contenders []contender, api apiClient, dir string, body []byte, conns int, d time.Duration, rounds int) error {
	script, err := wrkScript(dir, body)
	if err != nil {
		return err
	}
	probeID, probeURL, err := api.createEndpoint(`{"name":"visibility-probe"}`)
	if err != nil {
		return err
	}
	var live, listed []time.Duration
	api.waitQuiet() // the runs above left indexing to do: let it finish before measuring
	fmt.Printf("\nwrk -t2 -c%d -d%s --latency, %d-byte JSON POST, alternating, %d rounds:\n", conns, d, len(body), rounds)
	best := make([]wrkResult, len(contenders))
	cpu := make([]time.Duration, len(contenders)) // the server's CPU time per 2xx answer, in the best run
	for round := range rounds {
		order := make([]int, len(contenders))
		for i := range order {
			order[i] = i
		}
		if round%2 == 1 {
			slices.Reverse(order)
		}
		for _, i := range order {
			c := contenders[i]
			var probed chan [2][]time.Duration
			if c.probe {
				probed = make(chan [2][]time.Duration, 1)
				ctx, cancel := context.WithTimeout(context.Background(), d)
				defer cancel()
				go func() { l, p, _ := api.probeVisibility(ctx, probeID, probeURL); probed <- [2][]time.Duration{l, p} }()
			}
			before, cpuErr := proc.CPUTime(c.pid)
			r, err := runWrk(wrk, script, c.url, conns, d)
			if err != nil {
				return err
			}
			after, err := proc.CPUTime(c.pid)
			if cpuErr != nil || err != nil {
				after, before = 0, 0 // not on Linux: no CPU figure
			}
			if probed != nil {
				seen := <-probed
				live, listed = append(live, seen[0]...), append(listed, seen[1]...)
			}
			// Only 2xx answers count: the rate of acknowledged requests.
			ok := r
			if r.Non2xx > 0 {
				ok.RPS = r.RPS * (1 - float64(r.Non2xx)/(r.RPS*d.Seconds()))
			}
			perRequest := time.Duration(float64(after-before) / (ok.RPS * d.Seconds()))
			fmt.Printf("  round %d  %-15s %s  %5.1f µs CPU/request\n", round+1, c.name, r, float64(perRequest)/float64(time.Microsecond))
			if ok.RPS > best[i].RPS {
				best[i], cpu[i] = ok, perRequest
			}
			if c.probe {
				reportWAL(dir)
				api.reportSearchLag() // and so waits until Hooktray is quiet again
			}
		}
	}
	base := best[0].RPS
	fmt.Printf("\n| receiver | stores durably before answering | req/s (2xx) | p99 | server CPU per request | ratio to bare |\n|---|---|---|---|---|---|\n")
	for i, c := range contenders {
		ratio := fmt.Sprintf("%.2f", best[i].RPS/base)
		if c.probe {
			ratio = "**" + ratio + "**"
		}
		fmt.Printf("| %s | %s | %.0f | %.1f ms | %.1f µs | %s |\n", c.row, c.durable, best[i].RPS, ms(best[i].P99), float64(cpu[i])/float64(time.Microsecond), ratio)
	}
	h := best[1]
	fmt.Printf("ratio hooktray/bare with wrk: %.2f (target ≥ 0.50); hooktray p99 %.1f ms (target ≤ 20 ms)\n", h.RPS/base, ms(h.P99))
	if len(best) > 2 {
		fmt.Printf("ceiling build (nothing durable) to bare: %.2f; fdatasync and the SQLite import cost %.1f µs of CPU per request here\n",
			best[2].RPS/base, float64(cpu[1]-cpu[2])/float64(time.Microsecond))
	}
	for _, v := range []struct {
		what string
		d    []time.Duration
	}{{"listed by the admin API", listed}, {"in the live feed", live}} {
		if len(v.d) == 0 {
			continue
		}
		slices.Sort(v.d)
		fmt.Printf("acknowledged → %s, under the wrk load: median %.1f ms, p99 %.1f ms, max %.1f ms over %d probes (target ≤ 100 ms)\n",
			v.what, ms(v.d[len(v.d)/2]), ms(v.d[len(v.d)*99/100]), ms(v.d[len(v.d)-1]), len(v.d))
	}
	return nil
}

// reportWAL prints the size of SQLite's WAL file right after a burst: continuous imports must
// not let it grow with the burst.
func reportWAL(dir string) {
	if st, err := os.Stat(filepath.Join(dir, "hooktray.db-wal")); err == nil {
		fmt.Printf("           WAL file after the burst: %.1f MiB\n", float64(st.Size())/(1<<20))
	}
}

func ms(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }

// server is a process under measurement.
type server struct {
	url  string
	pid  int
	stop func()
}

func startBare(bin string) (server, error) {
	cmd := exec.Command(bin)
	out, err := cmd.StdoutPipe()
	if err != nil {
		return server{}, err
	}
	if err := cmd.Start(); err != nil {
		return server{}, fmt.Errorf("start %s: %w (run make bench, which builds it)", bin, err)
	}
	line, err := bufio.NewReader(out).ReadString('\n')
	if err != nil {
		cmd.Process.Kill()
		return server{}, fmt.Errorf("read bare server address: %w", err)
	}
	return server{url: strings.TrimSpace(line), pid: cmd.Process.Pid, stop: func() { cmd.Process.Kill(); cmd.Wait() }}, nil
}

// benchSecret signs the verifying endpoint's requests.
const benchSecret = "bench-secret"

// instance is a running `hooktray serve` with its bench endpoints.
type instance struct {
	server
	verifyURL string // the endpoint that checks a GitHub signature (enforce)
	dataDir   string
}

func startHooktray(bin string) (instance, error) {
	dataDir, err := os.MkdirTemp("", "hooktray-bench-")
	if err != nil {
		return instance{}, err
	}
	cmd := exec.Command(bin, "serve", "--data-dir", dataDir, "--listen", "127.0.0.1:0", "--api-listen", "127.0.0.1:0")
	cmd.Stderr = os.Stderr
	if err := cmd.Start(); err != nil {
		return instance{}, fmt.Errorf("start %s: %w", bin, err)
	}
	in := instance{dataDir: dataDir, server: server{pid: cmd.Process.Pid, stop: func() {
		cmd.Process.Signal(os.Interrupt)
		cmd.Wait()
		os.RemoveAll(dataDir)
	}}}
	var rt struct{ Receiver, API string }
	for deadline := time.Now().Add(10 * time.Second); ; {
		b, err := os.ReadFile(filepath.Join(dataDir, "runtime.json"))
		if err == nil && json.Unmarshal(b, &rt) == nil {
			break
		}
		if time.Now().After(deadline) {
			in.stop()
			return instance{}, fmt.Errorf("%s did not start", bin)
		}
		time.Sleep(50 * time.Millisecond)
	}
	api := apiOf(dataDir)
	if _, in.url, err = api.createEndpoint(`{"name":"bench"}`); err == nil {
		_, in.verifyURL, err = api.createEndpoint(`{"name":"bench-verify","verify":{"scheme":"github","mode":"enforce"},"secret":"` + benchSecret + `"}`)
	}
	if err != nil {
		in.stop()
		return instance{}, err
	}
	return in, nil
}

// apiClient reads serve's status through its admin API.
type apiClient struct{ url, token string }

func apiOf(dataDir string) apiClient {
	var rt struct{ API string }
	b, _ := os.ReadFile(filepath.Join(dataDir, "runtime.json"))
	json.Unmarshal(b, &rt)
	token, _ := os.ReadFile(filepath.Join(dataDir, "api-token"))
	return apiClient{url: rt.API, token: strings.TrimSpace(string(token))}
}

// call sends a request with the API token and decodes the JSON answer into out.
func (a apiClient) call(method, path, body string, out any) error {
	req, err := http.NewRequest(method, a.url+path, strings.NewReader(body))
	if err != nil {
		return err
	}
	req.Header.Set("Authorization", "Bearer "+a.token)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if resp.StatusCode/100 != 2 {
		return fmt.Errorf("%s %s: %s", method, path, resp.Status)
	}
	return json.NewDecoder(resp.Body).Decode(out)
}

func (a apiClient) searchBacklog() (int64, error) {
	var st struct {
		SearchBacklog int64 `json:"search_backlog"`
	}
	return st.SearchBacklog, a.call(http.MethodGet, "/api/v1/status", "", &st)
}

// waitQuiet returns once every stored event is searchable: Hooktray has no work left over.
func (a apiClient) waitQuiet() {
	for deadline := time.Now().Add(3 * time.Minute); time.Now().Before(deadline); time.Sleep(100 * time.Millisecond) {
		if n, err := a.searchBacklog(); err != nil || n == 0 {
			return
		}
	}
}

// reportSearchLag prints how many events search did not find yet when the burst ended, and how
// long indexing took to catch up once it was quiet.
func (a apiClient) reportSearchLag() {
	start := time.Now()
	first, err := a.searchBacklog()
	if err != nil {
		fmt.Printf("           search lag: %v\n", err)
		return
	}
	n := first
	for n > 0 && time.Since(start) < 2*time.Minute {
		time.Sleep(100 * time.Millisecond)
		if n, err = a.searchBacklog(); err != nil {
			break
		}
	}
	fmt.Printf("           search lag: %d events not yet searchable when the burst ended; all searchable %.1f s later\n",
		first, time.Since(start).Seconds())
}

// createEndpoint adds the endpoint spec describes (JSON) and returns its id and local URL.
func (a apiClient) createEndpoint(spec string) (id, url string, err error) {
	var ep struct{ ID, URL string }
	if err := a.call(http.MethodPost, "/api/v1/endpoints", spec, &ep); err != nil {
		return "", "", fmt.Errorf("create endpoint: %w", err)
	}
	return ep.ID, ep.URL, nil
}

// probeVisibility measures, while ctx lasts, how long after its 2xx a webhook shows in the live
// feed (what the window and `hooktray tail` show) and in a page of the admin API: one marker at a
// time to its own endpoint, with the event stream filtered to it and read beside the probe, so
// the two figures are independent.
func (a apiClient) probeVisibility(ctx context.Context, id, url string) (live, page []time.Duration, _ error) {
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, a.url+"/api/v1/events/stream?endpoint="+id, nil)
	req.Header.Set("Authorization", "Bearer "+a.token)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return nil, nil, err
	}
	defer resp.Body.Close()
	arrived := make(chan time.Time, 1)
	go func() {
		lines := bufio.NewScanner(resp.Body)
		for lines.Scan() {
			if strings.HasPrefix(lines.Text(), "data:") {
				select {
				case arrived <- time.Now():
				case <-ctx.Done():
					return
				}
			}
		}
	}()
	for n := 1; ctx.Err() == nil; n++ {
		marker := fmt.Sprintf("probe-%d-%d", n, time.Now().UnixNano())
		post, err := http.Post(url, "application/json", strings.NewReader(`{"probe":"`+marker+`"}`))
		if err != nil {
			return live, page, nil
		}
		post.Body.Close()
		acked := time.Now()
		if a.newestHas(id, marker) { // the API waits until what was acknowledged is stored
			page = append(page, time.Since(acked))
		}
		select {
		case at := <-arrived:
			live = append(live, max(0, at.Sub(acked))) // the feed can beat the 2xx to the client
		case <-ctx.Done():
			return live, page, nil
		}
		select {
		case <-ctx.Done():
		case <-time.After(50 * time.Millisecond):
		}
	}
	return live, page, nil
}

// newestHas says whether the newest event the admin API lists for an endpoint contains marker.
func (a apiClient) newestHas(id, marker string) bool {
	var page struct{ Events []json.RawMessage }
	if a.call(http.MethodGet, "/api/v1/events?limit=1&endpoint="+id, "", &page) != nil || len(page.Events) == 0 {
		return false
	}
	return bytes.Contains(page.Events[0], []byte(marker))
}
