package e2e

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/hooktray/hooktray/internal/testutil"
)

// TestKilledWhileDeliveriesWaitLosesNone: an endpoint forwards to a local target that refuses
// every first attempt. Hooktray is killed (SIGKILL) while deliveries wait for their retry; after a
// restart every delivery completes with the id it had, and every acknowledged event has exactly
// one delivery.
func TestKilledWhileDeliveriesWaitLosesNone(t *testing.T) {
	var mu sync.Mutex
	attempts := map[string][]string{} // delivery id → attempts seen
	delivered := map[string]bool{}
	target := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		id, attempt := r.Header.Get("X-Hooktray-Delivery"), r.Header.Get("X-Hooktray-Attempt")
		mu.Lock()
		defer mu.Unlock()
		attempts[id] = append(attempts[id], attempt)
		if attempt == "1" {
			w.WriteHeader(http.StatusServiceUnavailable)
			return
		}
		delivered[id] = true
	}))
	defer target.Close()

	dir := t.TempDir()
	s := startServe(t, dir)
	r := hooktray(t, dir, "endpoints", "add", "--name", "lamp", "--forward", target.URL+"/hook")
	if r.code != 0 || !strings.Contains(r.stderr, "Forwarding its events to") {
		t.Fatalf("add: %d %s%s", r.code, r.stdout, r.stderr)
	}
	url := strings.TrimSpace(r.stdout)
	var targets struct{ Targets []struct{ ID string } }
	r = hooktray(t, dir, "targets", "list", "--endpoint", "lamp", "--json")
	if err := json.Unmarshal([]byte(r.stdout), &targets); err != nil || len(targets.Targets) != 1 {
		t.Fatalf("targets: %v %s", err, r.stdout)
	}
	tid := targets.Targets[0].ID
	// Short waits between attempts, so the test does not sit through seed 003's schedule.
	if code, b := s.call("PATCH", "/api/v1/targets/"+tid, map[string]any{"retry_schedule_s": []float64{0.3}, "max_retries": 10}); code != 200 {
		t.Fatalf("patch target: %d %s", code, b)
	}
	const n = 12
	for i := range n {
		if code, err := s.post(url, fmt.Sprintf(`{"n":%d}`, i)); err != nil || code != 200 {
			t.Fatalf("webhook %d: %d %v", i, code, err)
		}
	}
	testutil.Eventually(t, "a few delivered and one waiting for its retry", func() bool {
		mu.Lock()
		defer mu.Unlock()
		return len(delivered) >= 2 && len(attempts) > len(delivered)
	})
	s.kill()
	mu.Lock()
	before := len(delivered)
	mu.Unlock()

	s = startServe(t, dir)
	type delivery struct {
		ID      int64
		EventID int64 `json:"event_id"`
		Status  string
	}
	var list struct{ Deliveries []delivery }
	testutil.Eventually(t, "every delivery to succeed after the restart", func() bool {
		_, b := s.call("GET", "/api/v1/deliveries?target="+tid, nil)
		if json.Unmarshal(b, &list) != nil || len(list.Deliveries) != n {
			return false
		}
		for _, d := range list.Deliveries {
			if d.Status != "success" {
				return false
			}
		}
		return true
	})
	perEvent := map[int64]int{}
	mu.Lock()
	defer mu.Unlock()
	for _, d := range list.Deliveries {
		perEvent[d.EventID]++
		id := strconv.FormatInt(d.ID, 10)
		if !delivered[id] {
			t.Errorf("delivery %s was never acknowledged by the target (attempts %v)", id, attempts[id])
		}
		if a := attempts[id]; len(a) < 2 || a[0] != "1" {
			t.Errorf("delivery %s: attempts %v (the first refused, a later one with the same id accepted)", id, a)
		}
	}
	if len(perEvent) != n {
		t.Errorf("%d events have deliveries, want %d", len(perEvent), n)
	}
	for ev, k := range perEvent {
		if k != 1 {
			t.Errorf("event %d has %d deliveries", ev, k)
		}
	}
	if len(attempts) != n {
		t.Errorf("the target saw %d delivery ids, want %d", len(attempts), n)
	}
	t.Logf("%d of %d delivered before the kill; the rest after the restart", before, n)
}
