package e2e

import (
	"bytes"
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/hooktray/hooktray/hook"
	"github.com/hooktray/hooktray/internal/testutil"
	"github.com/hooktray/hooktray/storage"
)

// budget is the receiver's default memory budget for bodies and acknowledged requests.
const budget = 256 << 20

// addEndpoint creates an endpoint through the API and returns its id and receiver URL.
func (s *server) addEndpoint(change map[string]any) (id, url string) {
	s.t.Helper()
	code, body := s.call(http.MethodPost, "/api/v1/endpoints", change)
	if code != http.StatusCreated {
		s.t.Fatalf("create endpoint: %d %s", code, body)
	}
	var ep struct{ ID, URL string }
	json.Unmarshal(body, &ep)
	return ep.ID, ep.URL
}

// lockDatabase holds SQLite's write lock from this process, as another program holding the
// database would, until the returned function is called.
func lockDatabase(t *testing.T, dir string) (release func()) {
	t.Helper()
	db, err := sql.Open("sqlite3", "file:"+filepath.Join(dir, "hooktray.db")+"?_busy_timeout=10000")
	if err != nil {
		t.Fatal(err)
	}
	conn, err := db.Conn(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if _, err := conn.ExecContext(context.Background(), `BEGIN IMMEDIATE`); err != nil {
		t.Fatal(err)
	}
	var once sync.Once
	release = func() {
		once.Do(func() {
			conn.ExecContext(context.Background(), `ROLLBACK`)
			conn.Close()
			db.Close()
		})
	}
	t.Cleanup(release)
	return release
}

// storedBodies is every body in the data dir's history.
func storedBodies(t *testing.T, dir string) map[string]bool {
	t.Helper()
	store, err := storage.Open(context.Background(), filepath.Join(dir, "hooktray.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer store.Close()
	out := map[string]bool{}
	q := hook.EventQuery{Limit: hook.MaxPage, WithBody: true}
	for {
		page, err := store.ListEvents(context.Background(), q)
		if err != nil {
			t.Fatal(err)
		}
		for _, ev := range page.Events {
			out[string(ev.Body)] = true
		}
		if page.Next == 0 {
			return out
		}
		q.Before = page.Next
	}
}

// While another program holds the database for 20 s, the receiver keeps answering at once:
// acknowledged requests wait in the journal within the memory budget, and past it new ones are
// refused with 503 and Retry-After instead of growing memory or hanging. Nothing acknowledged is
// lost once the database is free again.
func TestALockedDatabaseShedsLoadWithinTheBudget(t *testing.T) {
	if testing.Short() {
		t.Skip("20 s of load")
	}
	dir := t.TempDir()
	s := startServe(t, dir)
	_, url := s.addEndpoint(map[string]any{"name": "stalled"})
	release := lockDatabase(t, dir)

	var (
		mu        sync.Mutex
		acked     = map[string]bool{}
		slowest   time.Duration
		shed, n   atomic.Int64
		stop      atomic.Bool
		wg        sync.WaitGroup
		seq       atomic.Int64
		retryLess atomic.Int64
	)
	pad := strings.Repeat("p", 4000)
	for range 16 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for !stop.Load() {
				body := fmt.Sprintf(`{"seq":%d,"pad":%q}`, seq.Add(1), pad)
				start := time.Now()
				resp, err := http.Post(url, "application/json", strings.NewReader(body))
				took := time.Since(start)
				if err != nil {
					t.Errorf("request failed: %v", err)
					return
				}
				io.Copy(io.Discard, resp.Body)
				resp.Body.Close()
				n.Add(1)
				mu.Lock()
				slowest = max(slowest, took)
				if resp.StatusCode/100 == 2 {
					acked[body] = true
				}
				mu.Unlock()
				if resp.StatusCode == http.StatusServiceUnavailable {
					shed.Add(1)
					if resp.Header.Get("Retry-After") == "" {
						retryLess.Add(1)
					}
				}
			}
		}()
	}
	time.AfterFunc(20*time.Second, func() { stop.Store(true) })
	wg.Wait()
	_, peak := s.rss()
	release()

	if code, _ := s.stop(); code != 0 {
		t.Errorf("serve exited %d after the lock was released", code)
	}
	stored := storedBodies(t, dir)
	lost := 0
	for body := range acked {
		if !stored[body] {
			lost++
		}
	}
	t.Logf("20 s with the database locked: %d requests, %d acknowledged, %d shed with 503, slowest answer %s, peak RSS %d MiB (budget %d MiB), %d lost",
		n.Load(), len(acked), shed.Load(), slowest.Round(time.Millisecond), peak>>20, budget>>20, lost)
	if slowest > time.Second {
		t.Errorf("an answer took %s while the database was locked, want ≤ 1 s", slowest)
	}
	if peak > budget*3/2 {
		t.Errorf("peak RSS %d MiB, want ≤ 1.5 × the %d MiB budget", peak>>20, budget>>20)
	}
	if shed.Load() == 0 || retryLess.Load() > 0 {
		t.Errorf("%d requests refused with 503, %d of them without Retry-After: want 503s with Retry-After once the database refuses", shed.Load(), retryLess.Load())
	}
	if lost > 0 || len(acked) == 0 {
		t.Errorf("%d of %d acknowledged requests lost", lost, len(acked))
	}
}

// 200 bodies of 8 MiB sent at once at full speed: bodies past 1 MiB are spooled to files as they
// arrive, so memory stays within the budget, and each one acknowledged is stored whole.
func TestConcurrentLargeBodiesStayWithinTheBudget(t *testing.T) {
	if testing.Short() {
		t.Skip("1.6 GB of bodies")
	}
	dir := t.TempDir()
	s := startServe(t, dir)
	_, url := s.addEndpoint(map[string]any{"name": "large", "body_limit": 16 << 20})
	payload := bytes.Repeat([]byte("0123456789abcdef"), (8<<20)/16)
	var ok, busy, cut atomic.Int64
	var wg sync.WaitGroup
	// A connection each, so that no POST meets an idle connection the server is closing at that
	// moment. The server may refuse a body before reading it (503, the budget spent; 408 on a
	// machine so loaded that a body arrives slower than the minimum rate), and a refusal that
	// comes while 8 MiB are still being written reaches the client as a cut connection (the
	// server closes with the rest unread, and its answer may be lost with the reset): none of
	// these was acknowledged, and what was acknowledged is checked below.
	client := &http.Client{Transport: &http.Transport{DisableKeepAlives: true}}
	for i := range 200 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			body := fmt.Appendf(nil, `{"n":%03d,"data":"`, i)
			body = append(append(body, payload...), `"}`...)
			resp, err := client.Post(url, "application/json", bytes.NewReader(body))
			if err != nil {
				if !connectionCut(err) {
					t.Errorf("body %d: %v", i, err)
				}
				cut.Add(1)
				return
			}
			io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
			switch resp.StatusCode {
			case http.StatusOK:
				ok.Add(1)
			case http.StatusServiceUnavailable, http.StatusRequestTimeout:
				busy.Add(1)
			default:
				t.Errorf("body %d answered %d", i, resp.StatusCode)
			}
		}()
	}
	wg.Wait()
	_, peak := s.rss()
	t.Logf("200 × 8 MiB at once: %d stored, %d refused (503 or 408), %d cut while being sent; peak RSS %d MiB (budget %d MiB, %.2f×)",
		ok.Load(), busy.Load(), cut.Load(), peak>>20, budget>>20, float64(peak)/budget)
	if peak > budget*3/2 {
		t.Errorf("peak RSS %d MiB, want ≤ 1.5 × the %d MiB budget", peak>>20, budget>>20)
	}
	// 1.6 GB goes into SQLite after the answers: wait for it, then check every one is whole.
	whole := func() int64 {
		_, body := s.call(http.MethodGet, "/api/v1/events?limit=1000", nil)
		var list struct {
			Events []struct {
				Size   int64
				Status string
			}
		}
		json.Unmarshal(body, &list)
		n := int64(0)
		for _, ev := range list.Events {
			if ev.Status == "accepted" && ev.Size == int64(len(payload)+len(`{"n":000,"data":""}`)) {
				n++
			}
		}
		return n
	}
	testutil.Eventually(t, "every acknowledged body to be stored", func() bool { return whole() == ok.Load() })
	if ok.Load() == 0 {
		t.Error("no body was acknowledged")
	}
	s.stop()
	bodies := storedBodies(t, dir)
	intact := 0
	for b := range bodies {
		if strings.HasSuffix(b, string(payload[len(payload)-64:])+`"}`) && len(b) == len(payload)+len(`{"n":000,"data":""}`) {
			intact++
		}
	}
	if int64(intact) != ok.Load() {
		t.Errorf("%d bodies intact in the history, %d acknowledged", intact, ok.Load())
	}
}

// A body larger than the whole memory budget, to an endpoint that allows it, is stored: its limit
// is what the endpoint says.
func TestABodyOverTheMemoryBudgetIsStored(t *testing.T) {
	if testing.Short() {
		t.Skip("a 300 MiB body")
	}
	dir := t.TempDir()
	s := startServe(t, dir)
	id, url := s.addEndpoint(map[string]any{"name": "huge", "body_limit": 1 << 30})
	body := bytes.Repeat([]byte("x"), 300<<20)
	resp, err := http.Post(url, "application/octet-stream", bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 200 {
		t.Fatalf("a 300 MiB body to an endpoint allowing 1 GiB answered %d", resp.StatusCode)
	}
	_, peak := s.rss()
	code, out := s.call(http.MethodGet, "/api/v1/events?endpoint="+id, nil)
	if code != 200 || !strings.Contains(string(out), fmt.Sprintf(`"size":%d`, len(body))) {
		t.Errorf("the event is not listed with its size: %d %.300s", code, out)
	}
	t.Logf("a 300 MiB body stored; peak RSS %d MiB", peak>>20)
	if peak > budget {
		t.Errorf("peak RSS %d MiB while receiving it: the body was held in memory", peak>>20)
	}
}

// connectionCut reports whether a POST failed because the server closed the connection before
// the client read an answer, in any of the forms net/http reports it: the write failing (EPIPE,
// ECONNRESET), the read meeting the close (EOF), or the transport seeing the close before it
// counted the request as sent ("server closed idle connection", an unexported error).
func connectionCut(err error) bool {
	return errors.Is(err, syscall.EPIPE) || errors.Is(err, syscall.ECONNRESET) ||
		errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) ||
		strings.Contains(err.Error(), "server closed idle connection")
}
