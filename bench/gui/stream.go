package main

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/hooktray/hooktray/bench/proc"
)

// scenario is how Hooktray runs while the stream arrives.
type scenario string

const (
	headless scenario = "serve"         // hooktray serve, no GUI at all
	hidden   scenario = "app, --hidden" // the window never shown
	closed   scenario = "app, closed"   // the window shown, then closed to the tray
	shown    scenario = "app, shown"    // the window on screen
)

// streamResult is one scenario at one rate.
type streamResult struct {
	cpu              float64 // % of one core during the stream
	rss, rssFirstMin int64   // at the end of the stream, and after its first minute (0 if shorter)
	rssAfter         int64   // 10 s after the stream stopped
	clicks           []time.Duration
	missed           int // clicks whose detail did not show within 3 s
}

// instance is a running Hooktray under test.
type instance struct {
	cmd    *exec.Cmd
	dir    string
	api    string
	token  string
	url    string // the endpoint's webhook URL
	traces chan string
}

func startInstance(env []string, bin string, sc scenario) (*instance, error) {
	dir, err := os.MkdirTemp("", "hooktray-bench-gui-")
	if err != nil {
		return nil, err
	}
	args := []string{"--data-dir", dir, "--listen", "127.0.0.1:0", "--api-listen", "127.0.0.1:0", "--tunnel", "off"}
	switch sc {
	case headless:
		args = append([]string{"--data-dir", dir, "serve"}, args[2:]...)
	case hidden:
		args = append(args, "--hidden")
	}
	in := &instance{dir: dir, traces: make(chan string, 64)}
	in.cmd = exec.Command(bin, args...)
	in.cmd.Env = append(env, "HOOKTRAY_TRACE_UI=1")
	stderr, _ := in.cmd.StderrPipe()
	if err := in.cmd.Start(); err != nil {
		return nil, fmt.Errorf("start %s: %w", bin, err)
	}
	go func() {
		sc := bufio.NewScanner(stderr)
		for sc.Scan() {
			if line := sc.Text(); strings.HasPrefix(line, "ui: ") {
				select {
				case in.traces <- line:
				default:
				}
			}
		}
	}()
	for deadline := time.Now().Add(30 * time.Second); ; time.Sleep(50 * time.Millisecond) {
		var rt struct{ API string }
		if b, err := os.ReadFile(filepath.Join(dir, "runtime.json")); err == nil && json.Unmarshal(b, &rt) == nil && rt.API != "" {
			in.api = rt.API
			break
		}
		if time.Now().After(deadline) {
			in.stop()
			return nil, fmt.Errorf("%s did not start", sc)
		}
	}
	tok, err := os.ReadFile(filepath.Join(dir, "api-token"))
	if err != nil {
		in.stop()
		return nil, err
	}
	in.token = strings.TrimSpace(string(tok))
	var ep struct{ URL string }
	if err := in.call("POST", "/api/v1/endpoints", `{"name":"sensors"}`, &ep); err != nil {
		in.stop()
		return nil, err
	}
	in.url = ep.URL
	return in, nil
}

func (in *instance) call(method, path, body string, out any) error {
	req, _ := http.NewRequest(method, in.api+path, strings.NewReader(body))
	req.Header.Set("Authorization", "Bearer "+in.token)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if resp.StatusCode/100 != 2 {
		b, _ := io.ReadAll(resp.Body)
		return fmt.Errorf("%s %s: %s %s", method, path, resp.Status, b)
	}
	if out != nil {
		return json.NewDecoder(resp.Body).Decode(out)
	}
	return nil
}

func (in *instance) stop() {
	stop(in.cmd)
	os.RemoveAll(in.dir)
}

// stream posts small JSON webhooks (a location update) to url at rate per second for d, over
// keep-alive connections, at an even pace.
func stream(url string, rate int, d time.Duration, during func(elapsed time.Duration)) {
	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 16}}
	interval := time.Second / time.Duration(rate)
	start := time.Now()
	var wg sync.WaitGroup
	sem := make(chan struct{}, 16)
	for i := 0; ; i++ {
		at := start.Add(time.Duration(i) * interval)
		if at.Sub(start) >= d {
			break
		}
		time.Sleep(time.Until(at))
		if during != nil {
			during(time.Since(start))
		}
		sem <- struct{}{}
		wg.Add(1)
		go func() {
			defer func() { <-sem; wg.Done() }()
			body := fmt.Sprintf(`{"type":"location","lat":52.%06d,"lon":4.%06d,"accuracy":12,"battery":81,"seq":%d}`, i%999999, (i*7)%999999, i)
			resp, err := client.Post(url, "application/json", bytes.NewReader([]byte(body)))
			if err == nil {
				io.Copy(io.Discard, resp.Body)
				resp.Body.Close()
			}
		}()
	}
	wg.Wait()
}

// measureStream runs one scenario at one rate for d.
func measureStream(env []string, bin string, sc scenario, rate int, d time.Duration) (streamResult, error) {
	var res streamResult
	in, err := startInstance(env, bin, sc)
	if err != nil {
		return res, err
	}
	defer in.stop()
	if sc == closed {
		time.Sleep(2 * time.Second) // shown for a while, with its first page drawn
		if err := in.call("POST", "/api/v1/window/hide", "", nil); err != nil {
			return res, err
		}
	}
	time.Sleep(3 * time.Second) // start-up work is not the stream's
	pid := in.cmd.Process.Pid
	t0, err := proc.CPUTime(pid)
	if err != nil {
		return res, err
	}
	start := time.Now()
	nextClick, attempts := 5*time.Second, 0
	stream(in.url, rate, d, func(elapsed time.Duration) {
		if res.rssFirstMin == 0 && elapsed >= time.Minute && d >= 2*time.Minute {
			res.rssFirstMin, _ = proc.RSS(pid)
		}
		if sc == shown && elapsed >= nextClick && attempts < 8 {
			attempts++
			if lat, err := clickRow(env, in, attempts%2+1); err == nil {
				res.clicks = append(res.clicks, lat)
			} else {
				res.missed++
			}
			nextClick = elapsed + 3*time.Second
		}
	})
	t1, err := proc.CPUTime(pid)
	if err != nil {
		return res, err
	}
	res.cpu = 100 * (t1 - t0).Seconds() / time.Since(start).Seconds()
	res.rss, _ = proc.RSS(pid)
	time.Sleep(10 * time.Second)
	res.rssAfter, _ = proc.RSS(pid)
	return res, nil
}

// clickRow clicks the row-th row of the event log and returns how long until its detail shows.
func clickRow(env []string, in *instance, row int) (time.Duration, error) {
	find := exec.Command("xdotool", "search", "--onlyvisible", "--name", "^Hooktray$")
	find.Env = env
	out, err := find.Output()
	if err != nil {
		return 0, err
	}
	win := strings.Fields(string(out))[0]
	// The window is 1280 wide: the log starts after the endpoint list (23 %); its rows start
	// below the search box, the filters and the column header.
	x, y := 420, 150+row*38
	for len(in.traces) > 0 {
		<-in.traces
	}
	click := exec.Command("xdotool", "mousemove", "--window", win, strconv.Itoa(x), strconv.Itoa(y), "click", "1")
	click.Env = env
	start := time.Now()
	if err := click.Run(); err != nil {
		return 0, err
	}
	select {
	case <-in.traces:
		return time.Since(start), nil
	case <-time.After(3 * time.Second):
		return 0, fmt.Errorf("no detail within 3 s")
	}
}

func median(ds []time.Duration) time.Duration {
	if len(ds) == 0 {
		return 0
	}
	s := slices.Clone(ds)
	slices.Sort(s)
	return s[len(s)/2]
}
