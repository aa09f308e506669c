// Package load is the HTTP load generator the benchmarks share, so that Hooktray and the baseline
// it is compared with are driven by exactly the same client.
package load

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"slices"
	"sync"
	"time"
)

// Result summarises one run.
type Result struct {
	Requests int
	Errors   int // transport errors and non-2xx answers
	Elapsed  time.Duration
	P50, P99 time.Duration
}

// RPS is requests per second.
func (r Result) RPS() float64 { return float64(r.Requests) / r.Elapsed.Seconds() }

func (r Result) String() string {
	return fmt.Sprintf("%8.0f req/s  p50 %6.2f ms  p99 %6.2f ms  (%d requests, %d errors)",
		r.RPS(), ms(r.P50), ms(r.P99), r.Requests, r.Errors)
}

func ms(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }

// Run posts body to url from conns keep-alive connections for d and measures every request.
// hdr adds header name/value pairs to every request.
func Run(ctx context.Context, url string, body []byte, conns int, d time.Duration, hdr ...string) Result {
	ctx, cancel := context.WithTimeout(ctx, d)
	defer cancel()
	var (
		mu      sync.Mutex
		lat     []time.Duration
		errs    int
		wg      sync.WaitGroup
		started = time.Now()
	)
	for range conns {
		wg.Add(1)
		go func() {
			defer wg.Done()
			// One transport per worker: one connection each, as wrk does.
			tr := &http.Transport{MaxIdleConnsPerHost: 1, DisableCompression: true}
			defer tr.CloseIdleConnections()
			client := &http.Client{Transport: tr}
			local := make([]time.Duration, 0, 1<<14)
			localErrs := 0
			for ctx.Err() == nil {
				req, _ := http.NewRequest(http.MethodPost, url, bytes.NewReader(body))
				req.Header.Set("Content-Type", "application/json")
				for i := 0; i+1 < len(hdr); i += 2 {
					req.Header.Set(hdr[i], hdr[i+1])
				}
				t0 := time.Now()
				resp, err := client.Do(req)
				if err != nil {
					localErrs++
					continue
				}
				io.Copy(io.Discard, resp.Body)
				resp.Body.Close()
				if ctx.Err() != nil {
					break // finished after the deadline: not counted
				}
				if resp.StatusCode/100 != 2 {
					localErrs++
					continue
				}
				local = append(local, time.Since(t0))
			}
			mu.Lock()
			lat = append(lat, local...)
			errs += localErrs
			mu.Unlock()
		}()
	}
	wg.Wait()
	elapsed := min(time.Since(started), d)
	slices.Sort(lat)
	r := Result{Requests: len(lat), Errors: errs, Elapsed: elapsed}
	if len(lat) > 0 {
		r.P50 = lat[len(lat)*50/100]
		r.P99 = lat[min(len(lat)*99/100, len(lat)-1)]
	}
	return r
}

// JSONBody returns a JSON document of about n bytes (at least ~200) shaped like a device
// webhook: nested objects, an array of readings, numbers and booleans, and its type after them, so
// that finding the type reads the whole body as it does for many real payloads.
func JSONBody(n int) []byte {
	b := []byte(`{"id":"evt-0001","device":{"id":"motion-sensor-12","room":"hall","battery":87,"online":true},"readings":[`)
	tail := `],"sent_at":"2026-12-02T11:16:44Z","type":"state.changed"}`
	for i := 0; len(b)+len(tail) < n-40; i++ {
		if i > 0 {
			b = append(b, ',')
		}
		b = fmt.Appendf(b, `{"t":%d,"value":%d.25,"ok":true}`, 1764674204+i, 20+i%7)
	}
	for len(b)+len(tail) < n {
		b = append(b[:len(b)-1], ' ', b[len(b)-1]) // pad with a space inside the last reading
	}
	return append(b, tail...)
}
