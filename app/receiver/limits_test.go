package receiver

import (
	"bufio"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/hooktray/hooktray/hook"
	"github.com/hooktray/hooktray/internal/testutil"
)

// endpoints is a directory of several endpoints.
type endpoints map[string]hook.Endpoint

func (d endpoints) Lookup(id string) (*Endpoint, bool) {
	if ep, ok := d[id]; ok {
		return &Endpoint{Endpoint: ep}, false
	}
	return nil, false
}

func (endpoints) Routed(string) []*Endpoint { return nil }

// recorder keeps what was committed, as the ingest queue would store it.
type recorder struct {
	mu  sync.Mutex
	evs []hook.Event
}

func (r *recorder) Commit(ev *hook.Event) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	c := *ev
	c.Header = ev.Header.Clone()
	c.Body = append([]byte(nil), ev.Body...) // the receiver reuses its buffer after Commit
	r.evs = append(r.evs, c)
	return nil
}

func (r *recorder) CommitAll(evs []*hook.Event) error {
	for _, ev := range evs {
		r.Commit(ev)
	}
	return nil
}

func (r *recorder) Backlog() int64 { return 0 }

func (r *recorder) events() []hook.Event {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]hook.Event(nil), r.evs...)
}

func serve(t *testing.T, d Directory, c Committer, opts Options) (*Receiver, string) {
	t.Helper()
	r := New(d, c, opts)
	srv := httptest.NewUnstartedServer(nil)
	srv.Config = r.Server()
	srv.Start()
	t.Cleanup(srv.Close)
	return r, srv.URL
}

// stalled opens a connection that announces a body of announced bytes, sends sent of them and
// then waits: the slow or lying client of an attack.
func stalled(t *testing.T, base, endpoint string, announced, sent int, header string) net.Conn {
	t.Helper()
	conn, err := net.Dial("tcp", strings.TrimPrefix(base, "http://"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	fmt.Fprintf(conn, "POST %s%s HTTP/1.1\r\nHost: x\r\nContent-Length: %d\r\n%s\r\n%s",
		Prefix, endpoint, announced, header, strings.Repeat("x", sent))
	return conn
}

func TestAnnouncedLengthCostsNothingUntilSent(t *testing.T) {
	ep := hook.NewEndpoint("a")
	r, base := serve(t, endpoints{ep.ID: ep}, &recorder{}, Options{})
	for range 50 {
		stalled(t, base, ep.ID, 10<<20, 1, "")
	}
	testutil.Eventually(t, "50 requests are reading their bodies", func() bool { n, _ := r.adm.snapshot(); return n == 50 })
	if _, held := r.adm.snapshot(); held > 50*poolBufSize {
		t.Errorf("50 requests that sent one byte hold %d bytes of budget, want ≤ %d", held, 50*poolBufSize)
	}
}

func TestBodyBudgetRefusesWith503AndComesBack(t *testing.T) {
	ep := hook.NewEndpoint("a")
	rec := &recorder{}
	r, base := serve(t, endpoints{ep.ID: ep}, rec, Options{MaxBodyBytesInFlight: 4 * poolBufSize})
	var conns []net.Conn
	for range 4 {
		conns = append(conns, stalled(t, base, ep.ID, 1<<20, 1, ""))
	}
	testutil.Eventually(t, "the budget is taken", func() bool { _, held := r.adm.snapshot(); return held == 4*poolBufSize })

	resp, err := http.Post(base+Prefix+ep.ID, "application/json", strings.NewReader(`{"a":1}`))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusServiceUnavailable || resp.Header.Get("Retry-After") == "" {
		t.Fatalf("with the budget used up: %d, Retry-After %q; want 503 with Retry-After", resp.StatusCode, resp.Header.Get("Retry-After"))
	}
	for _, c := range conns {
		c.Close()
	}
	testutil.Eventually(t, "the budget is given back", func() bool { n, held := r.adm.snapshot(); return n == 0 && held == 0 })
	resp, err = http.Post(base+Prefix+ep.ID, "application/json", strings.NewReader(`{"a":2}`))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("after the burst: %d, want 200", resp.StatusCode)
	}
}

func TestLargeBodyGrowsWithinBudget(t *testing.T) {
	ep := hook.NewEndpoint("a")
	rec := &recorder{}
	r, base := serve(t, endpoints{ep.ID: ep}, rec, Options{})
	want := strings.Repeat("0123456789abcdef", 300_000) // 4.8 MB, read in growing steps
	resp, err := http.Post(base+Prefix+ep.ID, "text/plain", strings.NewReader(want))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	evs := rec.events()
	if resp.StatusCode != 200 || len(evs) != 1 || string(evs[0].Body) != want || evs[0].Size != int64(len(want)) {
		t.Fatalf("answered %d, stored %d events", resp.StatusCode, len(evs))
	}
	testutil.Eventually(t, "the budget is given back", func() bool { _, held := r.adm.snapshot(); return held == 0 })
}

func TestSlowBodyIsCutOff(t *testing.T) {
	ep := hook.NewEndpoint("a")
	rec := &recorder{}
	_, base := serve(t, endpoints{ep.ID: ep}, rec, Options{BodyRateGrace: 50 * time.Millisecond})
	conn := stalled(t, base, ep.ID, 100_000, 10, "")
	conn.SetReadDeadline(time.Now().Add(30 * time.Second)) // only a guard: the server answers long before
	resp, err := http.ReadResponse(bufio.NewReader(conn), nil)
	if err != nil {
		t.Fatalf("no answer to a stalled body: %v", err)
	}
	if resp.StatusCode != http.StatusRequestTimeout {
		t.Errorf("a stalled body answered %d, want 408", resp.StatusCode)
	}
	evs := rec.events()
	if len(evs) != 1 || evs[0].Status != hook.Rejected || !strings.Contains(evs[0].Reason, "too slowly") {
		t.Errorf("recorded %+v, want one rejected event saying it was too slow", evs)
	}
}

func TestFloodOnOneEndpointLeavesOthersServed(t *testing.T) {
	testutil.NeedFiles(t, 2*1030+100) // both ends of every connection are in this process
	a, b := hook.NewEndpoint("a"), hook.NewEndpoint("b")
	for _, tc := range []struct {
		name   string
		header func(i int) string
	}{
		{"from one address", func(int) string { return "" }},
		{"from many addresses through the tunnel", func(i int) string {
			return fmt.Sprintf("Cf-Connecting-Ip: 198.51.%d.%d\r\n", i/250, i%250)
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r, base := serve(t, endpoints{a.ID: a, b.ID: b}, &recorder{}, Options{})
			var wg sync.WaitGroup
			answered := make(chan int, 1030)
			for i := range 1030 {
				conn := stalled(t, base, a.ID, 1<<20, 1, tc.header(i))
				wg.Add(1)
				go func() {
					defer wg.Done()
					if resp, err := http.ReadResponse(bufio.NewReader(conn), nil); err == nil {
						answered <- resp.StatusCode
					}
				}()
			}
			testutil.Eventually(t, "the flood holds its share", func() bool {
				n, _ := r.adm.snapshot()
				return n == r.adm.maxPair || n == r.adm.maxEndpoint
			})
			resp, err := http.Post(base+Prefix+b.ID, "application/json", strings.NewReader(`{"b":1}`))
			if err != nil {
				t.Fatal(err)
			}
			io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
			if resp.StatusCode != http.StatusOK {
				t.Fatalf("endpoint B answered %d during the flood on A, want 200", resp.StatusCode)
			}
			if code := <-answered; code != http.StatusServiceUnavailable {
				t.Errorf("the flood's excess was answered %d, want 503", code)
			}
		})
	}
}

func TestSharedSecretIsNeverRecorded(t *testing.T) {
	const secret = "s3cr3t-value-never-stored"
	base := hook.NewEndpoint("a")
	base.VerifyScheme, base.Settings.Verify.Header = "shared-secret", "X-Secret"
	paused, off, enforce := base, base, base
	paused.Enabled = false
	off.VerifyMode = "off"
	enforce.VerifyMode = "enforce"
	small := base
	small.VerifyMode, small.BodyLimit = "annotate", 4
	for _, tc := range []struct {
		name string
		ep   hook.Endpoint
		body string
	}{
		{"paused", paused, `{}`},
		{"verification off", off, `{}`},
		{"enforce, wrong secret", enforce, `{}`},
		{"oversized", small, `{"much too long"}`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			rec := &recorder{}
			r := New(endpoints{tc.ep.ID: tc.ep}, rec, Options{})
			req := httptest.NewRequest(http.MethodPost, Prefix+tc.ep.ID, strings.NewReader(tc.body))
			req.Header.Set("X-Secret", secret+map[bool]string{true: "-wrong"}[tc.name == "enforce, wrong secret"])
			r.ServeHTTP(httptest.NewRecorder(), req)
			evs := rec.events()
			if len(evs) != 1 {
				t.Fatalf("stored %d events", len(evs))
			}
			for name, values := range evs[0].Header {
				for _, v := range values {
					if strings.Contains(v, "s3cr3t") {
						t.Errorf("stored header %s: %q", name, v)
					}
				}
			}
		})
	}
}
