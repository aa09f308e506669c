package app

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/hooktray/hooktray/app/instance"
	"github.com/hooktray/hooktray/clock"
	"github.com/hooktray/hooktray/hook"
	"github.com/hooktray/hooktray/internal/testutil"
	"github.com/hooktray/hooktray/storage"
)

func startHub(t *testing.T, mod func(*Options)) *Hub {
	t.Helper()
	opts := Options{
		DataDir:   t.TempDir(),
		Listen:    "127.0.0.1:0",
		APIListen: "127.0.0.1:0",
		Version:   "test",
		Logger:    slog.New(slog.NewTextHandler(io.Discard, nil)),
		Keyring:   noKeychain{}, // tests never touch the developer's keychain
		// Tests never ask GitHub; those about updates give a stand-in and a schedule.
		UpdateCheckEvery: -1,
	}
	if mod != nil {
		mod(&opts)
	}
	h, err := Start(context.Background(), opts)
	if err != nil {
		t.Fatalf("Start: %v", err)
	}
	t.Cleanup(func() { h.Stop(context.Background()) })
	return h
}

func createEndpoint(t *testing.T, h *Hub, name string, mod func(*hook.EndpointChange)) hook.Endpoint {
	t.Helper()
	c := hook.EndpointChange{Name: &name}
	if mod != nil {
		mod(&c)
	}
	ep, err := h.Services().Endpoints.Create(context.Background(), c)
	if err != nil {
		t.Fatal(err)
	}
	return ep
}

func post(t *testing.T, url string, body []byte, hdr ...string) (*http.Response, string) {
	t.Helper()
	req, _ := http.NewRequest(http.MethodPost, url, bytes.NewReader(body))
	for i := 0; i+1 < len(hdr); i += 2 {
		req.Header.Set(hdr[i], hdr[i+1])
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp, string(b)
}

func newest(t *testing.T, h *Hub) hook.Event {
	t.Helper()
	h.Services().History.Settle(context.Background()) // as the admin API does before a read
	page, err := h.Services().History.Events(context.Background(), hook.EventQuery{Limit: 1})
	if err != nil || len(page.Events) == 0 {
		t.Fatalf("no events: %v", err)
	}
	h.Services().History.Settle(context.Background()) // as the admin API does before a read
	ev, err := h.Services().History.Event(context.Background(), page.Events[0].ID)
	if err != nil {
		t.Fatal(err)
	}
	return ev
}

func countEvents(t *testing.T, h *Hub) int {
	t.Helper()
	h.Services().History.Settle(context.Background()) // as the admin API does before a read
	page, err := h.Services().History.Events(context.Background(), hook.EventQuery{Limit: 1000})
	if err != nil {
		t.Fatal(err)
	}
	return len(page.Events)
}

func TestReceiverStoresBeforeAnswering(t *testing.T) {
	h := startHub(t, nil)
	ep := createEndpoint(t, h, "demo", nil)
	body := []byte(`{"a":1}`)
	resp, got := post(t, h.Services().Endpoints.URL(ep.ID)+"?x=1&y=%20", body, "Content-Type", "application/json",
		"Cf-Connecting-Ip", "203.0.113.9", "X-Forwarded-For", "198.51.100.1")
	if resp.StatusCode != 200 || got != `{"ok":true}` || resp.Header.Get("Content-Type") != "application/json" {
		t.Fatalf("answer %d %q", resp.StatusCode, got)
	}
	// The answer came after the commit, so the event is readable now, without waiting.
	ev := newest(t, h)
	if ev.Status != hook.Accepted || !bytes.Equal(ev.Body, body) || ev.Query != "x=1&y=%20" ||
		ev.Method != "POST" || ev.ClientIP != "203.0.113.9" || !strings.HasPrefix(ev.RemoteAddr, "127.0.0.1:") {
		t.Errorf("stored %+v", ev)
	}
	if ev.Header.Get("Host") == "" || ev.Header.Get("Content-Type") != "application/json" {
		t.Errorf("headers %v", ev.Header)
	}
}

func TestReceiverAnswers(t *testing.T) {
	h := startHub(t, nil)
	ep := createEndpoint(t, h, "demo", func(c *hook.EndpointChange) {
		limit, status, body, ct := int64(100), 202, "accepted, thanks", "text/plain"
		c.BodyLimit, c.ResponseStatus, c.ResponseBody, c.ResponseContentType = &limit, &status, &body, &ct
	})
	paused := createEndpoint(t, h, "paused", func(c *hook.EndpointChange) { f := false; c.Enabled = &f })
	gone := createEndpoint(t, h, "gone", nil)
	if err := h.Services().Endpoints.Delete(context.Background(), gone.ID); err != nil {
		t.Fatal(err)
	}
	base := h.Services().Info.ReceiverURL

	for _, tc := range []struct {
		name       string
		url        string
		body       []byte
		want       int
		wantStored *hook.Status
		reason     string
	}{
		{"the configured response is sent", h.Services().Endpoints.URL(ep.ID), []byte("hi"), 202, ptr(hook.Accepted), ""},
		{"an empty body is accepted", h.Services().Endpoints.URL(ep.ID), []byte{}, 202, ptr(hook.Accepted), ""},
		{"a binary body is accepted", h.Services().Endpoints.URL(ep.ID), []byte{0, 0xff, 0xfe}, 202, ptr(hook.Accepted), ""},
		{"a body over the limit is refused and recorded", h.Services().Endpoints.URL(ep.ID), bytes.Repeat([]byte("x"), 101), 413, ptr(hook.Rejected), "exceeds"},
		{"a paused endpoint answers 503 and records", h.Services().Endpoints.URL(paused.ID), []byte("x"), 503, ptr(hook.Rejected), "paused"},
		{"a deleted endpoint answers 410", h.Services().Endpoints.URL(gone.ID), []byte("x"), 410, nil, ""},
		{"an unknown id answers 404", base + "/webhook/" + hook.NewEndpointID(), []byte("x"), 404, nil, ""},
		{"an id with odd characters answers 404", base + "/webhook/..%2F..%2Fetc%2Fpasswd%00aaaaaaaa", []byte("x"), 404, nil, ""},
		{"a sub-path answers 404", h.Services().Endpoints.URL(ep.ID) + "/extra", []byte("x"), 404, nil, ""},
		{"the root answers 404", base + "/", []byte("x"), 404, nil, ""},
		{"the admin API is not on the receiver", base + "/api/v1/status", []byte("x"), 404, nil, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			before := countEvents(t, h)
			resp, _ := post(t, tc.url, tc.body)
			if resp.StatusCode != tc.want {
				t.Fatalf("status %d, want %d", resp.StatusCode, tc.want)
			}
			if tc.want == 503 && resp.Header.Get("Retry-After") == "" {
				t.Error("503 without Retry-After")
			}
			after := countEvents(t, h)
			if tc.wantStored == nil {
				if after != before {
					t.Errorf("stored %d events, want none", after-before)
				}
				return
			}
			ev := newest(t, h)
			if after != before+1 || ev.Status != *tc.wantStored || !strings.Contains(ev.Reason, tc.reason) {
				t.Fatalf("stored %d events, newest %v %q", after-before, ev.Status, ev.Reason)
			}
			if ev.Status == hook.Rejected {
				if ev.Body != nil {
					t.Error("a rejected request kept its body")
				}
			} else if !bytes.Equal(ev.Body, tc.body) {
				t.Errorf("body %q, want %q", ev.Body, tc.body)
			}
			if ev.ResponseStatus != tc.want {
				t.Errorf("recorded response %d, want %d", ev.ResponseStatus, tc.want)
			}
		})
	}
}

func ptr[T any](v T) *T { return &v }

func TestChunkedBodyOverLimit(t *testing.T) {
	h := startHub(t, nil)
	ep := createEndpoint(t, h, "small", func(c *hook.EndpointChange) { l := int64(1000); c.BodyLimit = &l })
	pr, pw := io.Pipe()
	go func() {
		for range 10 {
			pw.Write(bytes.Repeat([]byte("y"), 500))
		}
		pw.Close()
	}()
	req, _ := http.NewRequest(http.MethodPost, h.Services().Endpoints.URL(ep.ID), pr) // no length: chunked
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 413 {
		t.Fatalf("status %d, want 413", resp.StatusCode)
	}
	if ev := newest(t, h); ev.Status != hook.Rejected || ev.Body != nil {
		t.Errorf("stored %v with body %v", ev.Status, ev.Body != nil)
	}
}

func TestDuplicateDeliveriesAreAcknowledgedOnce(t *testing.T) {
	h := startHub(t, nil)
	ep := createEndpoint(t, h, "gh", nil)
	for _, header := range []string{"X-GitHub-Delivery", "webhook-id", "svix-id", "X-Homecast-Delivery", "X-Shopify-Event-Id"} {
		t.Run(header, func(t *testing.T) {
			id := "delivery-" + header
			r1, _ := post(t, h.Services().Endpoints.URL(ep.ID), []byte(`{"n":1}`), header, id)
			first := newest(t, h)
			r2, _ := post(t, h.Services().Endpoints.URL(ep.ID), []byte(`{"n":1}`), header, id)
			second := newest(t, h)
			if r1.StatusCode != 200 || r2.StatusCode != 200 {
				t.Fatalf("answers %d, %d", r1.StatusCode, r2.StatusCode)
			}
			if first.Status != hook.Accepted || second.Status != hook.Duplicate || second.DuplicateOf != first.ID {
				t.Errorf("first %v, second %v of %d", first.Status, second.Status, second.DuplicateOf)
			}
		})
	}
}

func TestOversizedHeadersAndSlowClients(t *testing.T) {
	h := startHub(t, func(o *Options) {
		o.Receiver.ReadHeaderTimeout = 300 * time.Millisecond
		o.Receiver.MaxHeaderBytes = 4 << 10
	})
	ep := createEndpoint(t, h, "hdr", nil)

	t.Run("headers over the limit get 431", func(t *testing.T) {
		resp, _ := post(t, h.Services().Endpoints.URL(ep.ID), []byte("x"), "X-Big", strings.Repeat("a", 16<<10))
		if resp.StatusCode != http.StatusRequestHeaderFieldsTooLarge {
			t.Errorf("status %d, want 431", resp.StatusCode)
		}
	})
	t.Run("a client that sends headers slowly is cut off", func(t *testing.T) {
		conn, err := net.Dial("tcp", strings.TrimPrefix(h.Services().Info.ReceiverURL, "http://"))
		if err != nil {
			t.Fatal(err)
		}
		defer conn.Close()
		fmt.Fprintf(conn, "POST /webhook/%s HTTP/1.1\r\nHost: x\r\n", ep.ID)
		conn.SetReadDeadline(time.Now().Add(5 * time.Second))
		_, err = io.ReadAll(conn) // the server closes the connection
		if err != nil {
			t.Fatalf("connection not closed by the server: %v", err)
		}
	})
	if n := countEvents(t, h); n != 0 {
		t.Errorf("%d events stored from malformed requests", n)
	}
}

func TestLoadIsShedAboveTheInFlightCap(t *testing.T) {
	h := startHub(t, func(o *Options) { o.Receiver.MaxInFlight = 1 })
	ep := createEndpoint(t, h, "cap", nil)
	// Hold the only slot with a request whose body has not arrived yet.
	conn, err := net.Dial("tcp", strings.TrimPrefix(h.Services().Info.ReceiverURL, "http://"))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	fmt.Fprintf(conn, "POST /webhook/%s HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\n\r\nab", ep.ID)
	testutil.Eventually(t, "the held request to be in flight", func() bool { return h.rcv.InFlight() == 1 })
	resp, _ := post(t, h.Services().Endpoints.URL(ep.ID), []byte("x"))
	if resp.StatusCode != 503 || resp.Header.Get("Retry-After") == "" {
		t.Fatalf("second request: %d, want 503 with Retry-After", resp.StatusCode)
	}
	io.WriteString(conn, "cde")
	line, _ := bufio.NewReader(conn).ReadString('\n')
	if !strings.Contains(line, "200") {
		t.Fatalf("held request answered %q", line)
	}
	if ev := newest(t, h); string(ev.Body) != "abcde" {
		t.Errorf("held request stored %q", ev.Body)
	}
}

func TestEndpointChangesWhileRequestsArrive(t *testing.T) {
	h := startHub(t, nil)
	ctx := context.Background()
	ep := createEndpoint(t, h, "busy", nil)
	stop := make(chan struct{})
	var wg sync.WaitGroup
	var mu sync.Mutex
	oks, all, unexpected := 0, 0, []int{}
	answers := func() int {
		mu.Lock()
		defer mu.Unlock()
		return all
	}
	for range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			client := &http.Client{}
			for {
				select {
				case <-stop:
					return
				default:
				}
				resp, err := client.Post(h.Services().Endpoints.URL(ep.ID), "application/json", strings.NewReader(`{"x":1}`))
				if err != nil {
					continue
				}
				io.Copy(io.Discard, resp.Body)
				resp.Body.Close()
				mu.Lock()
				all++
				switch resp.StatusCode {
				case 200:
					oks++
				case 503, 410:
				default:
					unexpected = append(unexpected, resp.StatusCode)
				}
				mu.Unlock()
			}
		}()
	}
	for i := range 20 {
		name := fmt.Sprintf("busy %d", i)
		if _, err := h.Services().Endpoints.Update(ctx, ep.ID, hook.EndpointChange{Name: &name}); err != nil {
			t.Fatal(err)
		}
		if _, err := h.Services().Endpoints.SetEnabled(ctx, ep.ID, i%2 == 0); err != nil {
			t.Fatal(err)
		}
		createEndpoint(t, h, name, nil)
		answered := answers()
		testutil.Eventually(t, "requests to be answered between two changes", func() bool { return answers() > answered })
	}
	if err := h.Services().Endpoints.Delete(ctx, ep.ID); err != nil {
		t.Fatal(err)
	}
	deleted := answers()
	testutil.Eventually(t, "requests to the deleted endpoint to be answered", func() bool { return answers() > deleted+8 })
	close(stop)
	wg.Wait()
	if len(unexpected) > 0 {
		t.Errorf("unexpected answers: %v", unexpected)
	}
	accepted := hook.Accepted
	h.Services().History.Settle(context.Background()) // as the admin API does before a read
	page, _ := h.Services().History.Events(ctx, hook.EventQuery{EndpointID: ep.ID, Status: &accepted, Limit: 1000})
	total := len(page.Events)
	for page.Next != 0 {
		page, _ = h.Services().History.Events(ctx, hook.EventQuery{EndpointID: ep.ID, Status: &accepted, Limit: 1000, Before: page.Next})
		total += len(page.Events)
	}
	if total != oks || oks == 0 {
		t.Errorf("%d requests answered 200, %d accepted events stored", oks, total)
	}
	if len(h.Services().Endpoints.List()) != 20 {
		t.Errorf("%d endpoints listed, want 20", len(h.Services().Endpoints.List()))
	}
}

func TestLiveFeed(t *testing.T) {
	h := startHub(t, nil)
	ep := createEndpoint(t, h, "live", nil)
	sub := h.Services().History.Follow(16)
	defer sub.Close()
	post(t, h.Services().Endpoints.URL(ep.ID), []byte(`{"live":true}`))
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	m, err := sub.Next(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if m.Event.EndpointID != ep.ID || m.Event.ID == 0 || m.Event.Body != nil || m.Event.Size != 13 {
		t.Errorf("published %+v", m.Event)
	}
}

func TestStopFinishesRequestsInFlight(t *testing.T) {
	h := startHub(t, nil)
	ep := createEndpoint(t, h, "inflight", nil)
	conn, err := net.Dial("tcp", strings.TrimPrefix(h.Services().Info.ReceiverURL, "http://"))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	fmt.Fprintf(conn, "POST /webhook/%s HTTP/1.1\r\nHost: x\r\nContent-Length: 6\r\n\r\nhalf", ep.ID)
	testutil.Eventually(t, "the request to be in flight", func() bool { return h.rcv.InFlight() == 1 })
	stopped := make(chan error, 1)
	go func() { stopped <- h.Stop(context.Background()) }()
	testutil.Eventually(t, "the receiver to stop accepting", func() bool {
		c, err := net.Dial("tcp", strings.TrimPrefix(h.Services().Info.ReceiverURL, "http://"))
		if err == nil {
			c.Close()
		}
		return err != nil
	})
	io.WriteString(conn, "!!")
	line, _ := bufio.NewReader(conn).ReadString('\n')
	if !strings.Contains(line, "200") {
		t.Fatalf("in-flight request answered %q", line)
	}
	if err := <-stopped; err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(h.Services().Info.DataDir, instance.RuntimeFile)); !errors.Is(err, os.ErrNotExist) {
		t.Error("runtime.json left behind")
	}
	s, err := storage.Open(context.Background(), filepath.Join(h.Services().Info.DataDir, DatabaseFile))
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	page, _ := s.ListEvents(context.Background(), hook.EventQuery{WithBody: true})
	if len(page.Events) != 1 || string(page.Events[0].Body) != "half!!" {
		t.Errorf("after stop: %+v", page.Events)
	}
}

func TestOneInstancePerDataDir(t *testing.T) {
	h := startHub(t, nil)
	_, err := Start(context.Background(), Options{DataDir: h.Services().Info.DataDir, Listen: "127.0.0.1:0", APIListen: "127.0.0.1:0"})
	var running *instance.ErrRunning
	if !errors.As(err, &running) || running.PID != os.Getpid() {
		t.Fatalf("second Start: %v", err)
	}
	// The first one is untouched.
	if _, err := os.Stat(filepath.Join(h.Services().Info.DataDir, instance.RuntimeFile)); err != nil {
		t.Errorf("runtime.json of the running instance: %v", err)
	}
}

func TestPortInUse(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	dir := t.TempDir()
	_, err = Start(context.Background(), Options{DataDir: dir, Listen: ln.Addr().String(), APIListen: "127.0.0.1:0",
		Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	var le *ListenError
	if !errors.As(err, &le) || !le.InUse || le.Listener != ReceiverListener || !strings.Contains(err.Error(), "already in use") {
		t.Fatalf("err = %v, want a ListenError saying the receiver's port is in use", err)
	}
	// Nothing is left locked or announced: a retry on a free port works.
	if _, err := os.Stat(filepath.Join(dir, instance.RuntimeFile)); !errors.Is(err, os.ErrNotExist) {
		t.Error("runtime.json written by a failed start")
	}
	h, err := Start(context.Background(), Options{DataDir: dir, Listen: "127.0.0.1:0", APIListen: "127.0.0.1:0",
		Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	if err != nil {
		t.Fatalf("retry: %v", err)
	}
	h.Stop(context.Background())
}

func TestTestEndpointSendsASample(t *testing.T) {
	h := startHub(t, nil)
	ep := createEndpoint(t, h, "sample", nil)
	res, err := h.Services().Endpoints.Test(context.Background(), ep.ID)
	if err != nil {
		t.Fatal(err)
	}
	ev := res.Event
	var body map[string]string
	if json.Unmarshal(ev.Body, &body) != nil || body["type"] != "webhook.test" || ev.EndpointID != ep.ID || res.SentTo != h.Services().Endpoints.URL(ep.ID) {
		t.Errorf("test event %+v", res)
	}
}

func TestReplaySendsTheStoredRequest(t *testing.T) {
	h := startHub(t, nil)
	ep := createEndpoint(t, h, "replay", nil)
	got := make(chan *http.Request, 1)
	var gotBody []byte
	target := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		gotBody, _ = io.ReadAll(r.Body)
		got <- r
		w.WriteHeader(204)
	})}
	ln, _ := net.Listen("tcp", "127.0.0.1:0")
	go target.Serve(ln)
	defer target.Close()
	post(t, h.Services().Endpoints.URL(ep.ID)+"?a=b", []byte(`{"replay":1}`), "X-Custom", "yes")
	ev := newest(t, h)
	res, err := h.Services().Forwarding.ReplayTo(context.Background(), ev.ID, "http://"+ln.Addr().String()+"/hook", nil)
	if err != nil {
		t.Fatal(err)
	}
	r := <-got
	if res.Status != 204 || r.URL.RawQuery != "a=b" || r.Header.Get("X-Custom") != "yes" || string(gotBody) != `{"replay":1}` {
		t.Errorf("replay: %+v, %s %v %q", res, r.URL, r.Header, gotBody)
	}
	if _, err := h.Services().Forwarding.ReplayTo(context.Background(), ev.ID, "http://127.0.0.1:1/", nil); err == nil {
		t.Error("replay to a closed port succeeded")
	}
}

func TestActivityFollowsArrivalsAndSurvivesRestart(t *testing.T) {
	dir := t.TempDir()
	clk := clock.NewFake(time.Date(2026, 12, 1, 12, 0, 30, 0, time.UTC))
	h := startHub(t, func(o *Options) { o.DataDir, o.Clock = dir, clk })
	ep := createEndpoint(t, h, "busy", nil)
	quiet := createEndpoint(t, h, "quiet", nil)
	waitFor := func(h *Hub, id string, n int64) hook.Activity {
		t.Helper()
		testutil.Eventually(t, fmt.Sprintf("%d events are counted", n), func() bool { return h.Services().Endpoints.Activity(id).Events == n })
		return h.Services().Endpoints.Activity(id)
	}
	for range 7 {
		post(t, h.Services().Endpoints.URL(ep.ID), []byte("{}"))
	}
	a := waitFor(h, ep.ID, 7)
	if a.PerMinute[59] != 7 || !a.Last.Equal(clk.Now()) {
		t.Errorf("activity %+v, want 7 in the current minute, last at %v", a, clk.Now())
	}
	clk.Advance(time.Minute)
	if a := h.Services().Endpoints.Activity(ep.ID); a.PerMinute[58] != 7 || a.PerMinute[59] != 0 {
		t.Errorf("a minute later the chart did not move on: %v", a.PerMinute[55:])
	}
	clk.Advance(time.Hour)
	if a := h.Services().Endpoints.Activity(ep.ID); a.Events != 7 || a.PerMinute != ([60]int{}) {
		t.Errorf("an hour later: %d events, chart %v; want 7 and an empty chart", a.Events, a.PerMinute)
	}
	if q := h.Services().Endpoints.Activity(quiet.ID); q.Events != 0 || !q.Last.IsZero() {
		t.Errorf("quiet endpoint %+v", q)
	}
	h.Stop(context.Background())

	clk2 := clock.NewFake(time.Date(2026, 12, 1, 12, 1, 10, 0, time.UTC))
	h2 := startHub(t, func(o *Options) { o.DataDir, o.Clock = dir, clk2 })
	if a := waitFor(h2, ep.ID, 7); a.PerMinute[58] != 7 {
		t.Errorf("after restart, 40 s later: %v, want the 7 in the previous minute", a.PerMinute[55:])
	}
	h2.Services().History.Settle(context.Background()) // as the admin API does before a read
	page, _ := h2.Services().History.Events(context.Background(), hook.EventQuery{Limit: 1})
	if err := h2.Services().History.Delete(context.Background(), page.Events[0].ID); err != nil {
		t.Fatal(err)
	}
	if a := waitFor(h2, ep.ID, 6); a.Events != 6 {
		t.Errorf("after delete %+v", a)
	}
}

// TestTunnelTrafficIsAcceptedButNotTrusted: requests through a tunnel arrive from loopback with
// the public Host; the receiver takes them as any other request and nothing else is reachable.
func TestTunnelTrafficIsAcceptedButNotTrusted(t *testing.T) {
	h := startHub(t, nil)
	ep := createEndpoint(t, h, "tunnelled", nil)
	for _, tc := range []struct {
		path string
		want int
	}{
		{"/webhook/" + ep.ID, 200},
		{"/api/v1/status", 404},
		{"/api/v1/endpoints", 404},
		{"/", 404},
	} {
		req, _ := http.NewRequest("POST", h.Services().Info.ReceiverURL+tc.path, strings.NewReader(`{"via":"tunnel"}`))
		req.Host = "quiet-river-1.trycloudflare.com"
		req.Header.Set("Cf-Connecting-Ip", "198.51.100.23")
		req.Header.Set("Cf-Ray", "8a1b2c3d4e5f-AMS")
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != tc.want {
			t.Errorf("%s through the tunnel: %d, want %d", tc.path, resp.StatusCode, tc.want)
		}
	}
	ev := newest(t, h)
	if ev.Header.Get("Host") != "quiet-river-1.trycloudflare.com" || ev.ClientIP != "198.51.100.23" || countEvents(t, h) != 1 {
		t.Errorf("stored %+v", ev)
	}
}

// noKeychain is a machine without a keychain: the master key goes to the data dir's file.
type noKeychain struct{}

func (noKeychain) Get(string, string) (string, error) { return "", errors.New("no keychain here") }
func (noKeychain) Set(string, string, string) error   { return errors.New("no keychain here") }

func TestRetentionRunsOnItsSchedule(t *testing.T) {
	clk := clock.NewFake(time.Date(2026, 12, 1, 12, 0, 0, 0, time.UTC))
	h := startHub(t, func(o *Options) {
		o.Clock, o.Retention, o.RetentionEvery = clk, &hook.Retention{MaxAge: time.Hour}, time.Minute
	})
	ep := createEndpoint(t, h, "old", nil)
	for range 3 {
		post(t, h.Services().Endpoints.URL(ep.ID), []byte("{}"))
	}
	count := func() int {
		h.Services().History.Settle(context.Background()) // as the admin API does before a read
		p, err := h.Services().History.Events(context.Background(), hook.EventQuery{})
		if err != nil {
			t.Fatal(err)
		}
		return len(p.Events)
	}
	due := func(want time.Duration) {
		t.Helper()
		testutil.Eventually(t, fmt.Sprintf("retention to be due in %v", want), func() bool {
			p := clk.Pending()
			return len(p) == 1 && p[0] == want
		})
	}
	due(5 * time.Second) // soon after start
	clk.Advance(5 * time.Second)
	due(time.Minute) // then every RetentionEvery
	if n := count(); n != 3 {
		t.Fatalf("young events were removed: %d left", n)
	}
	clk.Advance(2 * time.Hour)
	due(time.Minute)
	testutil.Eventually(t, "events older than an hour to be removed", func() bool { return count() == 0 })
}

// A clock set a year ahead would make the whole history look expired: age limits wait until an
// event stored with that clock agrees with it. Count limits still apply.
func TestRetentionDoesNotBelieveAClockFarAheadOfTheHistory(t *testing.T) {
	clk := clock.NewFake(time.Date(2026, 12, 1, 12, 0, 0, 0, time.UTC))
	h := startHub(t, func(o *Options) {
		o.Clock, o.Retention, o.RetentionEvery = clk, &hook.Retention{MaxAge: 30 * 24 * time.Hour}, time.Minute
	})
	ep := createEndpoint(t, h, "alarm", nil)
	for range 3 {
		post(t, h.Services().Endpoints.URL(ep.ID), []byte("{}"))
	}
	count := func() int {
		h.Services().History.Settle(context.Background()) // as the admin API does before a read
		p, err := h.Services().History.Events(context.Background(), hook.EventQuery{})
		if err != nil {
			t.Fatal(err)
		}
		return len(p.Events)
	}
	due := func() {
		t.Helper()
		testutil.Eventually(t, "retention to be due", func() bool { p := clk.Pending(); return len(p) == 1 })
	}
	due()
	if n := count(); n != 3 { // in the history before retention looks
		t.Fatalf("%d events", n)
	}
	clk.Advance(365 * 24 * time.Hour) // the clock jumps a year ahead
	due()                             // the run at the jumped clock is over
	clk.Advance(time.Minute)
	due()
	if n := count(); n != 3 {
		t.Fatalf("%d events left after the clock jumped a year: the history was pruned by a wrong clock", n)
	}
	post(t, h.Services().Endpoints.URL(ep.ID), []byte("{}")) // stored with the clock as it is now
	if n := count(); n != 4 {                                // and in the history before retention looks
		t.Fatalf("%d events", n)
	}
	clk.Advance(time.Minute)
	testutil.Eventually(t, "the year-old events to go once the clock agrees with the history", func() bool { return count() == 1 })
}
