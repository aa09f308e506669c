// Command hardening measures two bounds of the hardening review against a real `hooktray serve`:
// how fast endpoints are created through the admin API as their number grows (a change must cost
// the same with 10 endpoints or 10,000), and serve's peak memory while 200 bodies of 8 MiB arrive
// at once, against the receiver's 256 MiB memory budget. It prints figures; it asserts nothing.
package main

import (
	"bytes"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/hooktray/hooktray/bench/proc"
)

// budget is the receiver's default memory budget for bodies in flight and acknowledged requests.
const budget = 256 << 20

func main() {
	bin := flag.String("hooktray", "bin/hooktray", "hooktray binary")
	endpoints := flag.Int("endpoints", 10000, "endpoints to create")
	clients := flag.Int("clients", 4, "concurrent API clients creating them")
	bodies := flag.Int("bodies", 200, "bodies sent at once")
	size := flag.Int("size", 8<<20, "bytes per body")
	flag.Parse()
	if err := creation(*bin, *endpoints, *clients); err != nil {
		fmt.Fprintln(os.Stderr, "hardening:", err)
		os.Exit(1)
	}
	if err := largeBodies(*bin, *bodies, *size); err != nil {
		fmt.Fprintln(os.Stderr, "hardening:", err)
		os.Exit(1)
	}
}

// creation creates n endpoints through the API and reports the rate per thousand.
func creation(bin string, n, clients int) error {
	s, err := start(bin)
	if err != nil {
		return err
	}
	defer s.stop()
	fmt.Printf("endpoints: %d created through the admin API by %d clients\n", n, clients)
	var next atomic.Int64
	var failed atomic.Int64
	marks := make([]time.Duration, n/1000+1)
	var mu sync.Mutex
	var wg sync.WaitGroup
	begin := time.Now()
	for range clients {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				i := next.Add(1)
				if i > int64(n) {
					return
				}
				body, _ := json.Marshal(map[string]any{"name": fmt.Sprintf("endpoint %05d", i)})
				if code := s.call(http.MethodPost, "/api/v1/endpoints", body); code != http.StatusCreated {
					failed.Add(1)
				}
				if i%1000 == 0 {
					mu.Lock()
					marks[i/1000] = time.Since(begin)
					mu.Unlock()
				}
			}
		}()
	}
	wg.Wait()
	total := time.Since(begin)
	var first, last float64
	for k := 1; k < len(marks); k++ {
		rate := 1000 / (marks[k] - marks[k-1]).Seconds()
		if k == 1 {
			first = rate
		}
		last = rate
		fmt.Printf("  endpoints %5d–%5d: %6.0f a second\n", (k-1)*1000+1, k*1000, rate)
	}
	fmt.Printf("  all %d in %.1f s: %.0f a second (%d failed); the last thousand against the first: %.2f\n",
		n, total.Seconds(), float64(n)/total.Seconds(), failed.Load(), last/first)
	fmt.Printf("  target: ≥ 500 a second, and the ratio near 1 (a change costs the same however many there are)\n\n")
	return nil
}

// largeBodies sends n bodies of size bytes at once and reports serve's peak memory.
func largeBodies(bin string, n, size int) error {
	s, err := start(bin)
	if err != nil {
		return err
	}
	defer s.stop()
	body, _ := json.Marshal(map[string]any{"name": "large", "body_limit": 2 * size})
	var ep struct{ URL string }
	if err := s.decode(http.MethodPost, "/api/v1/endpoints", body, &ep); err != nil {
		return err
	}
	idle, _ := proc.PeakRSS(s.cmd.Process.Pid)
	payload := bytes.Repeat([]byte("x"), size)
	var ok, busy atomic.Int64
	var wg sync.WaitGroup
	begin := time.Now()
	for range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			resp, err := http.Post(ep.URL, "application/octet-stream", bytes.NewReader(payload))
			if err != nil {
				return
			}
			io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
			switch resp.StatusCode {
			case http.StatusOK:
				ok.Add(1)
			case http.StatusServiceUnavailable:
				busy.Add(1)
			}
		}()
	}
	wg.Wait()
	took := time.Since(begin)
	peak, _ := proc.PeakRSS(s.cmd.Process.Pid)
	fmt.Printf("large bodies: %d × %d MiB at once: %d stored, %d answered 503, in %.1f s\n", n, size>>20, ok.Load(), busy.Load(), took.Seconds())
	fmt.Printf("  serve peak RSS %.0f MiB (%.0f MiB before) against the %d MiB budget: %.2f× (target ≤ 1.5×)\n\n",
		float64(peak)/(1<<20), float64(idle)/(1<<20), budget>>20, float64(peak)/budget)
	return nil
}

type serve struct {
	cmd   *exec.Cmd
	dir   string
	api   string
	token string
}

func start(bin string) (*serve, error) {
	dir, err := os.MkdirTemp("", "hooktray-hardening-")
	if err != nil {
		return nil, err
	}
	cmd := exec.Command(bin, "serve", "--data-dir", dir, "--listen", "127.0.0.1:0", "--api-listen", "127.0.0.1:0")
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("start %s: %w", bin, err)
	}
	for deadline := time.Now().Add(30 * time.Second); time.Now().Before(deadline); time.Sleep(5 * time.Millisecond) {
		var rt struct{ API string }
		b, err := os.ReadFile(filepath.Join(dir, "runtime.json"))
		if err == nil && json.Unmarshal(b, &rt) == nil && rt.API != "" {
			tok, _ := os.ReadFile(filepath.Join(dir, "api-token"))
			return &serve{cmd: cmd, dir: dir, api: rt.API, token: strings.TrimSpace(string(tok))}, nil
		}
	}
	cmd.Process.Kill()
	return nil, fmt.Errorf("serve did not start in %s", dir)
}

func (s *serve) request(method, path string, body []byte) (*http.Response, error) {
	req, _ := http.NewRequest(method, s.api+path, bytes.NewReader(body))
	req.Header.Set("Authorization", "Bearer "+s.token)
	req.Header.Set("Content-Type", "application/json")
	return http.DefaultClient.Do(req)
}

func (s *serve) call(method, path string, body []byte) int {
	resp, err := s.request(method, path, body)
	if err != nil {
		return 0
	}
	io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	return resp.StatusCode
}

func (s *serve) decode(method, path string, body []byte, v any) error {
	resp, err := s.request(method, path, body)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if resp.StatusCode/100 != 2 {
		b, _ := io.ReadAll(resp.Body)
		return fmt.Errorf("%s %s: %d %s", method, path, resp.StatusCode, b)
	}
	return json.NewDecoder(resp.Body).Decode(v)
}

func (s *serve) stop() {
	s.cmd.Process.Signal(os.Interrupt)
	s.cmd.Wait()
	os.RemoveAll(s.dir)
}
