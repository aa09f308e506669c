package deliver

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/hooktray/hooktray/clock"
	"github.com/hooktray/hooktray/hook"
	"github.com/hooktray/hooktray/internal/testutil"
	"github.com/hooktray/hooktray/storage"
)

var start = time.Date(2026, 12, 2, 9, 0, 0, 0, time.UTC)

// rig is a real SQLite store, a fake clock and an engine, with one endpoint.
type rig struct {
	t      *testing.T
	store  *storage.Store
	clock  *clock.Fake
	engine *Engine
	ep     hook.Endpoint
	gone   chan hook.Target
	reads  *countingStore
}

// countingStore counts the engine's reads of the queue and of events, once each has returned.
type countingStore struct {
	EngineStore
	mu           sync.Mutex
	opens, fetch int
}

func (c *countingStore) OpenDeliveries(ctx context.Context, targetID string, limit int) ([]hook.Delivery, error) {
	ds, err := c.EngineStore.OpenDeliveries(ctx, targetID, limit)
	c.mu.Lock()
	c.opens++
	c.mu.Unlock()
	return ds, err
}

func (c *countingStore) EventsByID(ctx context.Context, ids []int64) (map[int64]hook.Event, error) {
	evs, err := c.EngineStore.EventsByID(ctx, ids)
	c.mu.Lock()
	c.fetch++
	c.mu.Unlock()
	return evs, err
}

// counts are the queue's reads and the events' reads so far.
func (c *countingStore) counts() (opens, fetch int) {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.opens, c.fetch
}

func newRig(t *testing.T, secrets map[string]string) *rig {
	t.Helper()
	s, err := storage.Open(context.Background(), filepath.Join(t.TempDir(), "hooktray.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	ep := hook.NewEndpoint("alarm")
	if err := s.CreateEndpoint(context.Background(), &ep); err != nil {
		t.Fatal(err)
	}
	r := &rig{t: t, store: s, clock: clock.NewFake(start), ep: ep, gone: make(chan hook.Target, 10),
		reads: &countingStore{EngineStore: s}}
	r.engine = NewEngine(EngineOptions{
		Store: r.reads, Clock: r.clock, Log: slog.New(slog.NewTextHandler(io.Discard, nil)),
		Secret:       func(_ context.Context, id, purpose string) (string, error) { return secrets[purpose], nil },
		OnGone:       func(t hook.Target) { r.gone <- t },
		Supervisor:   supervisor(),
		EndpointName: func(string) string { return ep.Name },
	})
	t.Cleanup(func() { r.engine.Stop(context.Background()) })
	return r
}

// target creates a target of the rig's endpoint with the change applied and hands it to the engine.
func (r *rig) target(c hook.TargetChange) hook.Target {
	r.t.Helper()
	kind := hook.TargetHTTP
	if c.Kind != nil {
		kind = *c.Kind
	}
	t := hook.NewTarget(r.ep.ID, kind)
	if err := c.Apply(&t); err != nil {
		r.t.Fatal(err)
	}
	if err := r.store.CreateTarget(context.Background(), &t); err != nil {
		r.t.Fatal(err)
	}
	r.engine.Set(t)
	return t
}

// receive stores events with deliveries to the targets and kicks them, as a replay does.
func (r *rig) receive(n int, targets ...string) []*hook.Event {
	r.t.Helper()
	evs := r.store1(n, targets...)
	for _, id := range targets {
		r.engine.Kick(id)
	}
	return evs
}

// commit stores events with deliveries to the targets and offers them, as ingest's importer does.
func (r *rig) commit(n int, targets ...string) []*hook.Event {
	r.t.Helper()
	evs := r.store1(n, targets...)
	r.engine.Offer(evs)
	return evs
}

// store1 stores n events in one transaction.
func (r *rig) store1(n int, targets ...string) []*hook.Event {
	r.t.Helper()
	var evs []*hook.Event
	for i := range n {
		evs = append(evs, &hook.Event{EndpointID: r.ep.ID, ReceivedAt: r.clock.Now(), Status: hook.Accepted, Method: "POST",
			Path: "/webhook/" + r.ep.ID, Query: "n=" + fmt.Sprint(i), Header: http.Header{"Content-Type": {"application/json"}, "Connection": {"close"}},
			Body: []byte(fmt.Sprintf(`{"n":%d}`, i)), Forward: targets, ResponseStatus: 200})
	}
	if err := r.store.InsertBatch(context.Background(), evs); err != nil {
		r.t.Fatal(err)
	}
	return evs
}

// caughtUp waits until the target's worker has read its queue once (and found it empty).
func (r *rig) caughtUp() {
	r.t.Helper()
	testutil.Eventually(r.t, "the worker read its queue", func() bool { opens, _ := r.reads.counts(); return opens > 0 })
}

func (r *rig) deliveries(target string) []hook.Delivery {
	r.t.Helper()
	ds, _, err := r.store.Deliveries(context.Background(), hook.DeliveryQuery{TargetID: target, Limit: 1000})
	if err != nil {
		r.t.Fatal(err)
	}
	slices.Reverse(ds) // oldest first
	return ds
}

func (r *rig) waitStatus(target string, what string, ok func([]hook.Delivery) bool) []hook.Delivery {
	r.t.Helper()
	var ds []hook.Delivery
	testutil.Eventually(r.t, what, func() bool { ds = r.deliveries(target); return ok(ds) })
	return ds
}

// nextWait is the wait the engine scheduled next, once it waits.
func (r *rig) nextWait() time.Duration {
	r.t.Helper()
	r.clock.WaitForWaiters(1)
	return r.clock.Pending()[0]
}

func all(status hook.DeliveryStatus) func([]hook.Delivery) bool {
	return func(ds []hook.Delivery) bool {
		for _, d := range ds {
			if d.Status != status {
				return false
			}
		}
		return len(ds) > 0
	}
}

// recorder is a local target that answers with the statuses given, in turn, then 200.
type recorder struct {
	*httptest.Server
	mu       sync.Mutex
	answers  []int
	requests []*http.Request
	bodies   []string
	header   http.Header // set on every answer
}

func newRecorder(t *testing.T, answers ...int) *recorder {
	rec := &recorder{answers: answers, header: http.Header{}}
	rec.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		rec.mu.Lock()
		rec.requests = append(rec.requests, r)
		rec.bodies = append(rec.bodies, string(b))
		status := 200
		if len(rec.answers) > 0 {
			status, rec.answers = rec.answers[0], rec.answers[1:]
		}
		for k, v := range rec.header {
			w.Header()[k] = v
		}
		rec.mu.Unlock()
		w.WriteHeader(status)
		fmt.Fprintf(w, "answer %d", status)
	}))
	t.Cleanup(rec.Close)
	return rec
}

func (rec *recorder) count() int {
	rec.mu.Lock()
	defer rec.mu.Unlock()
	return len(rec.requests)
}

func (rec *recorder) request(i int) (*http.Request, string) {
	rec.mu.Lock()
	defer rec.mu.Unlock()
	return rec.requests[i], rec.bodies[i]
}

func ptr[T any](v T) *T { return &v }

func TestRetriesFollowTheScheduleThenDeadLetter(t *testing.T) {
	r := newRig(t, nil)
	down := newRecorder(t, 500, 500, 500, 500, 500)
	tg := r.target(hook.TargetChange{URL: &down.URL})
	r.receive(1, tg.ID)
	var waits []time.Duration
	for attempt := 1; attempt <= 3; attempt++ {
		r.waitStatus(tg.ID, "a retry scheduled", func(ds []hook.Delivery) bool {
			return ds[0].Status == hook.DeliveryRetrying && ds[0].Attempt == attempt
		})
		w := r.nextWait()
		waits = append(waits, w)
		r.clock.Advance(w)
	}
	ds := r.waitStatus(tg.ID, "the dead letter", all(hook.DeliveryDeadLetter))
	if want := []time.Duration{time.Second, 2 * time.Second, 4 * time.Second}; !slices.Equal(waits, want) {
		t.Errorf("waits %v, want %v (seed 003's schedule)", waits, want)
	}
	if d := ds[0]; d.Attempt != 4 || d.ResponseStatus != 500 || !strings.Contains(d.Error, "answered 500") || d.URL != down.URL+"?n=0" {
		t.Errorf("delivery %+v", d)
	}
	if down.count() != 4 {
		t.Errorf("%d attempts, want max_retries+1 = 4", down.count())
	}
}

func TestARetryKeepsTheDeliveryIDAndPassesTheRequestOn(t *testing.T) {
	r := newRig(t, nil)
	flaky := newRecorder(t, 503, 502)
	tg := r.target(hook.TargetChange{URL: ptr(flaky.URL + "/hook?to=me"), Headers: map[string]string{"Authorization": "Bearer local"}})
	evs := r.receive(1, tg.ID)
	for range 2 {
		r.waitStatus(tg.ID, "a retry", func(ds []hook.Delivery) bool { return ds[0].Status == hook.DeliveryRetrying })
		r.clock.Advance(r.nextWait())
	}
	ds := r.waitStatus(tg.ID, "success", all(hook.DeliverySuccess))
	if ds[0].Attempt != 3 || ds[0].ResponseStatus != 200 || ds[0].Error != "" {
		t.Errorf("delivery %+v", ds[0])
	}
	for i := range 3 {
		req, body := flaky.request(i)
		if req.Header.Get("X-Hooktray-Delivery") != fmt.Sprint(ds[0].ID) || req.Header.Get("X-Hooktray-Attempt") != fmt.Sprint(i+1) ||
			req.Header.Get("X-Hooktray-Event") != fmt.Sprint(evs[0].ID) {
			t.Errorf("attempt %d headers %v", i+1, req.Header)
		}
		if req.Method != "POST" || req.URL.RawQuery != "to=me&n=0" || body != `{"n":0}` || req.Header.Get("Authorization") != "Bearer local" ||
			req.Header.Get("Content-Type") != "application/json" || req.Header.Get("Connection") != "" {
			t.Errorf("attempt %d: %s %s %q %v", i+1, req.Method, req.URL, body, req.Header)
		}
	}
}

func TestGoneDisablesTheTarget(t *testing.T) {
	r := newRig(t, nil)
	gone := newRecorder(t, 410)
	tg := r.target(hook.TargetChange{URL: &gone.URL})
	r.receive(2, tg.ID)
	ds := r.waitStatus(tg.ID, "the first failed", func(ds []hook.Delivery) bool { return ds[0].Status == hook.DeliveryFailed })
	if ds[1].Status != hook.DeliveryPending || gone.count() != 1 {
		t.Errorf("after 410: %+v, %d requests", ds, gone.count())
	}
	select {
	case g := <-r.gone:
		if g.State != hook.TargetDisabled || g.Enabled || !strings.Contains(g.StateReason, "410 Gone") {
			t.Errorf("target %+v", g)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("OnGone not called")
	}
	stored, _ := r.store.Target(context.Background(), tg.ID)
	if stored.State != hook.TargetDisabled || stored.Enabled {
		t.Errorf("stored %+v", stored)
	}
	// Re-enabled by the user, it delivers the rest.
	stored.Enabled = true
	r.engine.Set(stored)
	r.waitStatus(tg.ID, "the second delivered", func(ds []hook.Delivery) bool { return ds[1].Status == hook.DeliverySuccess })
}

func TestRetryAfterIsHonoured(t *testing.T) {
	r := newRig(t, nil)
	busy := newRecorder(t, 429)
	busy.header.Set("Retry-After", "30")
	tg := r.target(hook.TargetChange{URL: &busy.URL})
	r.receive(1, tg.ID)
	r.waitStatus(tg.ID, "a retry", func(ds []hook.Delivery) bool { return ds[0].Status == hook.DeliveryRetrying })
	if w := r.nextWait(); w != 30*time.Second {
		t.Errorf("waits %v after Retry-After: 30", w)
	}
	if got := retryAfter(start.Add(90*time.Second).Format(http.TimeFormat), start); got != 90*time.Second {
		t.Errorf("HTTP date: %v", got)
	}
}

func TestTheBreakerOpensAfterFiveFailuresAndLetsOneThroughAfterAMinute(t *testing.T) {
	r := newRig(t, nil)
	down := newRecorder(t, 500, 500, 500, 500, 500)
	tg := r.target(hook.TargetChange{URL: &down.URL, MaxRetries: ptr(0)})
	r.receive(7, tg.ID)
	r.waitStatus(tg.ID, "five dead letters", func(ds []hook.Delivery) bool { return ds[4].Status == hook.DeliveryDeadLetter })
	if w := r.nextWait(); w != hook.BreakerCooldown {
		t.Errorf("the open breaker waits %v", w)
	}
	got, _ := r.engine.Target(tg.ID)
	if got.State != hook.TargetPaused || got.ConsecutiveFailures != 5 || !strings.Contains(got.StateReason, "5 deliveries in a row failed") {
		t.Errorf("target %+v", got)
	}
	if ds := r.deliveries(tg.ID); ds[5].Status != hook.DeliveryPending || down.count() != 5 {
		t.Errorf("the breaker let more through: %d requests", down.count())
	}
	r.clock.Advance(hook.BreakerCooldown)
	r.waitStatus(tg.ID, "all delivered after the breaker closed", func(ds []hook.Delivery) bool { return ds[6].Status == hook.DeliverySuccess })
	if got, _ := r.engine.Target(tg.ID); got.State != hook.TargetActive || got.ConsecutiveFailures != 0 {
		t.Errorf("target %+v", got)
	}
}

func TestResumeClosesTheBreakerAtOnce(t *testing.T) {
	r := newRig(t, nil)
	down := newRecorder(t, 500, 500, 500, 500, 500)
	tg := r.target(hook.TargetChange{URL: &down.URL, MaxRetries: ptr(0)})
	r.receive(6, tg.ID)
	r.waitStatus(tg.ID, "five dead letters", func(ds []hook.Delivery) bool { return ds[4].Status == hook.DeliveryDeadLetter })
	if _, err := r.engine.Resume(context.Background(), tg.ID); err != nil {
		t.Fatal(err)
	}
	r.waitStatus(tg.ID, "the sixth delivered", func(ds []hook.Delivery) bool { return ds[5].Status == hook.DeliverySuccess })
}

func TestTheRateLimitSmoothsABurst(t *testing.T) {
	r := newRig(t, nil)
	ok := newRecorder(t)
	tg := r.target(hook.TargetChange{URL: &ok.URL, RateLimitPerMinute: ptr(2)})
	r.receive(5, tg.ID)
	// Two a minute: one at once, then one every 30 s, evenly; none dropped.
	r.waitStatus(tg.ID, "the first delivered", func(ds []hook.Delivery) bool { return ds[0].Status == hook.DeliverySuccess })
	for n := 2; n <= 5; n++ {
		if w := r.nextWait(); w != 30*time.Second {
			t.Fatalf("before delivery %d: waits %v for the rate limit, want 30s", n, w)
		}
		if ok.count() != n-1 {
			t.Fatalf("%d sent before delivery %d", ok.count(), n)
		}
		r.clock.Advance(30 * time.Second)
		r.waitStatus(tg.ID, fmt.Sprintf("delivery %d", n), func(ds []hook.Delivery) bool { return ds[n-1].Status == hook.DeliverySuccess })
	}
	if ok.count() != 5 {
		t.Errorf("%d sent", ok.count())
	}
}

// A high limit lets a second's worth through at once, then keeps to the rate: 6,000 a minute
// is 100 a second.
func TestAHighRateLimitIsKeptSmoothly(t *testing.T) {
	var b bucket
	b.refill(6000, 0)
	if b.room() != 100 || b.wait() != 0 {
		t.Fatalf("a full bucket: room %d, wait %v", b.room(), b.wait())
	}
	for range 100 {
		b.take()
	}
	if w := b.wait(); w != 10*time.Millisecond {
		t.Errorf("empty: waits %v, want 10ms", w)
	}
	b.refill(6000, 500*time.Millisecond)
	if b.room() != 50 {
		t.Errorf("half a second later: room %d, want 50", b.room())
	}
	b.refill(6000, time.Hour)
	if b.room() != 100 {
		t.Errorf("an hour later: room %d, want the bucket's 100", b.room())
	}
}

func TestDeliveriesKeepTheOrderOfArrival(t *testing.T) {
	r := newRig(t, nil)
	first := newRecorder(t, 500) // the first delivery fails once
	tg := r.target(hook.TargetChange{URL: &first.URL})
	r.receive(3, tg.ID)
	r.waitStatus(tg.ID, "the head retrying", func(ds []hook.Delivery) bool { return ds[0].Status == hook.DeliveryRetrying })
	if ds := r.deliveries(tg.ID); ds[1].Status != hook.DeliveryPending || first.count() != 1 {
		t.Fatalf("a later delivery overtook the head: %+v", ds)
	}
	r.clock.Advance(r.nextWait())
	r.waitStatus(tg.ID, "all delivered", all(hook.DeliverySuccess))
	for i := range 3 {
		if _, body := first.request(i + 1); body != fmt.Sprintf(`{"n":%d}`, i) {
			t.Errorf("request %d carried %s", i+1, body)
		}
	}
}

func TestAHangingTargetTimesOutAndABrokenAnswerIsRetried(t *testing.T) {
	r := newRig(t, nil)
	release := make(chan struct{})
	hang := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		select {
		case <-release:
		case <-req.Context().Done():
		}
	}))
	defer hang.Close()
	defer close(release)
	tg := r.target(hook.TargetChange{URL: &hang.URL, TimeoutMS: ptr(int64(200))})
	r.receive(1, tg.ID)
	ds := r.waitStatus(tg.ID, "a retry after the timeout", func(ds []hook.Delivery) bool { return ds[0].Status == hook.DeliveryRetrying })
	if !strings.Contains(ds[0].Error, "timeout") {
		t.Errorf("error %q", ds[0].Error)
	}

	// A target that closes the connection in the middle of its answer.
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go func() {
				buf := make([]byte, 4096)
				c.Read(buf)
				c.Write([]byte("HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\npartial"))
				c.Close()
			}()
		}
	}()
	broken := r.target(hook.TargetChange{URL: ptr("http://" + ln.Addr().String())})
	r.receive(1, broken.ID)
	ds = r.waitStatus(broken.ID, "a retry after the broken answer", func(ds []hook.Delivery) bool { return ds[0].Status == hook.DeliveryRetrying })
	if !strings.Contains(ds[0].Error, "broke off") {
		t.Errorf("error %q", ds[0].Error)
	}
}

// hanger is a target that answers 200 to its first ok requests and never answers the rest.
type hanger struct {
	*httptest.Server
	mu       sync.Mutex
	requests int
}

func newHanger(t *testing.T, ok int) *hanger {
	h := &hanger{}
	release := make(chan struct{})
	h.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		h.mu.Lock()
		h.requests++
		n := h.requests
		h.mu.Unlock()
		if n <= ok {
			return
		}
		select {
		case <-release:
		case <-req.Context().Done():
		}
	}))
	t.Cleanup(func() { close(release); h.Close() })
	return h
}

func (h *hanger) count() int {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.requests
}

// A parallel target that hangs is stopped by its breaker at the fifth failure: outcomes are
// recorded as they come, not at the end of a batch of 64.
func TestAParallelTargetsBreakerActsOnTheFifthFailure(t *testing.T) {
	r := newRig(t, nil)
	hang := newHanger(t, 0)
	tg := r.target(hook.TargetChange{URL: &hang.URL, Parallel: ptr(4), TimeoutMS: ptr(int64(300)), MaxRetries: ptr(0)})
	r.receive(64, tg.ID)
	testutil.Eventually(t, "the breaker to open", func() bool {
		got, _ := r.engine.Target(tg.ID)
		return got.State == hook.TargetPaused
	})
	if w := r.nextWait(); w != hook.BreakerCooldown {
		t.Errorf("the worker then waits %v, want the breaker's %v", w, hook.BreakerCooldown)
	}
	failed := 0
	for _, d := range r.deliveries(tg.ID) {
		if d.Status != hook.DeliveryPending {
			failed++
		}
	}
	// The fifth failure opens it; those already in flight finish.
	if n := hang.count(); n > 5+4 || failed != n {
		t.Errorf("%d requests sent and %d outcomes recorded before the breaker stopped the batch, want at most 9, all recorded", n, failed)
	}
}

// Stopping records the successes of a parallel batch: none is sent again at the next start.
func TestStoppingKeepsTheSuccessesOfAParallelBatch(t *testing.T) {
	r := newRig(t, nil)
	hang := newHanger(t, 3)
	tg := r.target(hook.TargetChange{URL: &hang.URL, Parallel: ptr(8), TimeoutMS: ptr(int64(60000))})
	r.receive(8, tg.ID)
	testutil.Eventually(t, "every delivery to be in flight", func() bool { return hang.count() == 8 })
	testutil.Eventually(t, "the three answered to be recorded", func() bool {
		n := 0
		for _, d := range r.deliveries(tg.ID) {
			if d.Status == hook.DeliverySuccess {
				n++
			}
		}
		return n == 3
	})
	if !r.engine.Stop(context.Background()) {
		t.Fatal("Stop did not return")
	}
	ok, open := 0, 0
	for _, d := range r.deliveries(tg.ID) {
		switch d.Status {
		case hook.DeliverySuccess:
			ok++
		case hook.DeliveryPending:
			open++
		}
	}
	if ok != 3 || open != 5 {
		t.Errorf("after the stop: %d delivered, %d still pending; want 3 and 5 (the cut-off ones are made again)", ok, open)
	}
}

// A wall clock stepped back a day while a retry waits does not hold the queue for a day: waits
// are measured on the monotonic clock. The breaker's pause likewise.
func TestAClockSteppedBackDoesNotHoldTheQueue(t *testing.T) {
	r := newRig(t, nil)
	flaky := newRecorder(t, 500, 500, 500, 500, 500)
	tg := r.target(hook.TargetChange{URL: &flaky.URL, MaxRetries: ptr(10)})
	r.receive(1, tg.ID)
	r.waitStatus(tg.ID, "the first retry to be scheduled", func(ds []hook.Delivery) bool { return ds[0].Status == hook.DeliveryRetrying })
	for attempt := 2; attempt <= 5; attempt++ {
		wait := r.nextWait()
		r.clock.Step(-24 * time.Hour) // someone sets the clock back a day
		r.clock.Advance(wait)
		r.waitStatus(tg.ID, fmt.Sprintf("attempt %d", attempt), func(ds []hook.Delivery) bool { return ds[0].Attempt == attempt })
	}
	// The fifth failure opened the breaker for a minute of monotonic time, whatever the wall says.
	testutil.Eventually(t, "the breaker to open", func() bool { got, _ := r.engine.Target(tg.ID); return got.State == hook.TargetPaused })
	if w := r.nextWait(); w > hook.BreakerCooldown {
		t.Fatalf("the breaker waits %v", w)
	}
	r.clock.Step(-24 * time.Hour)
	r.clock.Advance(hook.BreakerCooldown)
	r.waitStatus(tg.ID, "the delivery once the breaker lets one through", all(hook.DeliverySuccess))
}

// Stored retry times survive a restart with the clock set back: a new engine waits no longer than
// each retry asked when it was recorded.
func TestStoredRetryTimesAreBoundedByWhatWasAsked(t *testing.T) {
	r := newRig(t, nil)
	down := newRecorder(t, 500)
	tg := r.target(hook.TargetChange{URL: &down.URL})
	r.receive(1, tg.ID)
	ds := r.waitStatus(tg.ID, "a retry", func(ds []hook.Delivery) bool { return ds[0].Status == hook.DeliveryRetrying })
	asked := ds[0].NextAt.Sub(ds[0].UpdatedAt)
	r.engine.Stop(context.Background())

	r.clock.Step(-24 * time.Hour) // while Hooktray was stopped
	next := NewEngine(EngineOptions{Store: r.store, Clock: r.clock, Log: slog.New(slog.NewTextHandler(io.Discard, nil))})
	t.Cleanup(func() { next.Stop(context.Background()) })
	next.Set(tg)
	if w := r.nextWait(); w > asked {
		t.Fatalf("after the restart the retry waits %v, but it asked for %v", w, asked)
	}
	r.clock.Advance(asked)
	r.waitStatus(tg.ID, "the retry delivered", all(hook.DeliverySuccess))
}

// A batch of signed deliveries opens the target's secret once, not once per delivery, and each
// is signed with it.
func TestABatchOpensItsTargetsSecretOnce(t *testing.T) {
	r := newRig(t, nil)
	var mu sync.Mutex
	opened := map[string]int{} // by purpose
	r.engine.opts.Secret = func(_ context.Context, id, purpose string) (string, error) {
		mu.Lock()
		defer mu.Unlock()
		opened[purpose]++
		return "local-signing-secret", nil
	}
	rec := newRecorder(t)
	tg := r.target(hook.TargetChange{URL: &rec.URL, Sign: &hook.SignChange{Scheme: string(hook.SchemeHomecast)}})
	r.receive(40, tg.ID)
	r.waitStatus(tg.ID, "all delivered", func(ds []hook.Delivery) bool { return len(ds) == 40 && all(hook.DeliverySuccess)(ds) })
	for i := range 40 {
		if req, _ := rec.request(i); req.Header.Get("X-Homecast-Signature") == "" {
			t.Fatalf("request %d is not signed: %v", i, req.Header)
		}
	}
	mu.Lock()
	defer mu.Unlock()
	if n := opened[SecretSign]; n == 0 || n > 40/batch+2 {
		t.Errorf("40 deliveries opened the signing secret %d times, want once per batch", n)
	}
}

func TestACaughtUpWorkerSendsStraightFromTheCommit(t *testing.T) {
	r := newRig(t, nil)
	rec := newRecorder(t)
	tg := r.target(hook.TargetChange{URL: &rec.URL})
	r.caughtUp()
	opens, _ := r.reads.counts()
	for range 3 {
		r.commit(5, tg.ID)
	}
	r.waitStatus(tg.ID, "all delivered", func(ds []hook.Delivery) bool { return len(ds) == 15 && all(hook.DeliverySuccess)(ds) })
	for i := range 15 {
		if _, body := rec.request(i); body != fmt.Sprintf(`{"n":%d}`, i%5) {
			t.Errorf("request %d carried %s", i, body)
		}
	}
	if now, fetch := r.reads.counts(); now != opens || fetch != 0 {
		t.Errorf("the worker read its queue %d more times and events %d times; it was handed them", now-opens, fetch)
	}
	if req, _ := rec.request(0); req.Header.Get("Content-Type") != "application/json" || req.Header.Get("Connection") == "close" {
		t.Errorf("the request handed over lost its headers: %v", req.Header)
	}
}

func TestAWorkerFallenBehindReadsItsQueueFromSQLite(t *testing.T) {
	r := newRig(t, nil)
	held, release := make(chan struct{}), make(chan struct{})
	rec := newRecorder(t)
	var first sync.Once
	gated := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		first.Do(func() { // the first request waits until the inbox has overflowed
			close(held)
			<-release
		})
		rec.Config.Handler.ServeHTTP(w, req)
	}))
	t.Cleanup(gated.Close)
	t.Cleanup(func() { // a failed test does not leave the first request waiting (runs before Close)
		select {
		case <-release:
		default:
			close(release)
		}
	})
	tg := r.target(hook.TargetChange{URL: &gated.URL})
	r.caughtUp()
	r.commit(1, tg.ID)
	<-held                    // the worker is busy with the first
	n := inboxDeliveries + 10 // more than the inbox keeps
	r.commit(n, tg.ID)
	close(release)
	r.commit(3, tg.ID) // after the inbox missed some: read from SQLite too
	total := 1 + n + 3
	r.waitStatus(tg.ID, "all delivered", func(ds []hook.Delivery) bool { return len(ds) == total && all(hook.DeliverySuccess)(ds) })
	if rec.count() != total {
		t.Fatalf("%d requests for %d deliveries", rec.count(), total)
	}
	for i, want := range wantOrder(1, n, 3) {
		if _, body := rec.request(i); body != fmt.Sprintf(`{"n":%d}`, want) {
			t.Fatalf("request %d carried %s, want n %d: out of order", i, body, want)
		}
	}
	if _, fetch := r.reads.counts(); fetch == 0 {
		t.Error("the queue was not read from SQLite although the inbox could not hold it")
	}
}

// wantOrder is the bodies' n of batches of the sizes given, sent one after another.
func wantOrder(sizes ...int) []int {
	var out []int
	for _, n := range sizes {
		for i := range n {
			out = append(out, i)
		}
	}
	return out
}

func TestAFailureHandedOverHoldsTheQueue(t *testing.T) {
	r := newRig(t, nil)
	rec := newRecorder(t, 500)
	tg := r.target(hook.TargetChange{URL: &rec.URL})
	r.caughtUp()
	r.commit(3, tg.ID)
	r.waitStatus(tg.ID, "the head retrying", func(ds []hook.Delivery) bool { return len(ds) == 3 && ds[0].Status == hook.DeliveryRetrying })
	if ds := r.deliveries(tg.ID); ds[1].Status != hook.DeliveryPending || rec.count() != 1 {
		t.Fatalf("a later delivery overtook the head: %+v", ds)
	}
	r.commit(1, tg.ID) // handed over while the head waits: it waits behind it
	r.clock.Advance(r.nextWait())
	r.waitStatus(tg.ID, "all delivered", func(ds []hook.Delivery) bool { return len(ds) == 4 && all(hook.DeliverySuccess)(ds) })
	for i, want := range []int{0, 0, 1, 2, 0} {
		if _, body := rec.request(i); body != fmt.Sprintf(`{"n":%d}`, want) {
			t.Errorf("request %d carried %s", i, body)
		}
	}
}

func TestALateOfferIsNotSentAgain(t *testing.T) {
	r := newRig(t, nil)
	rec := newRecorder(t)
	tg := r.target(hook.TargetChange{URL: &rec.URL})
	evs := r.receive(3, tg.ID) // read from SQLite, sent and recorded
	r.waitStatus(tg.ID, "delivered", func(ds []hook.Delivery) bool { return len(ds) == 3 && all(hook.DeliverySuccess)(ds) })
	r.caughtUp()
	testutil.Eventually(t, "the worker found its queue empty", func() bool { opens, _ := r.reads.counts(); return opens >= 2 })
	r.engine.Offer(evs) // the importer's offer, come late
	r.commit(1, tg.ID)
	r.waitStatus(tg.ID, "the next delivered", func(ds []hook.Delivery) bool { return len(ds) == 4 && all(hook.DeliverySuccess)(ds) })
	if rec.count() != 4 {
		t.Errorf("%d requests for 4 deliveries: the late offer was sent again", rec.count())
	}
}

func TestADeliveryTakingADeletedOnesIDIsSent(t *testing.T) {
	r := newRig(t, nil)
	rec := newRecorder(t)
	tg := r.target(hook.TargetChange{URL: &rec.URL})
	r.caughtUp()
	first := r.commit(1, tg.ID)
	r.waitStatus(tg.ID, "delivered", func(ds []hook.Delivery) bool { return len(ds) == 1 && all(hook.DeliverySuccess)(ds) })
	if err := r.store.DeleteEvent(context.Background(), first[0].ID); err != nil {
		t.Fatal(err)
	}
	r.clock.Advance(time.Second)
	next := r.commit(1, tg.ID)
	if next[0].Queued[0] != first[0].Queued[0] {
		t.Fatalf("SQLite gave the new delivery id %d, not the deleted %d: this test needs the reuse", next[0].Queued[0], first[0].Queued[0])
	}
	r.waitStatus(tg.ID, "the next delivered", func(ds []hook.Delivery) bool { return len(ds) == 1 && all(hook.DeliverySuccess)(ds) })
	if rec.count() != 2 {
		t.Errorf("%d requests, want 2", rec.count())
	}
}
