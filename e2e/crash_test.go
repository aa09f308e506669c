package e2e

import (
	"context"
	"fmt"
	"math/rand/v2"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/hooktray/hooktray/hook"
	"github.com/hooktray/hooktray/internal/testutil"
	"github.com/hooktray/hooktray/storage"
)

// TestKillDuringLoadLosesNothingAcknowledged is the promise Hooktray makes: every request that got
// a 2xx is in the database, whatever happens after the answer. It SIGKILLs serve at random moments
// under concurrent load, restarts it, and checks every acknowledged body and the database's
// integrity.
func TestKillDuringLoadLosesNothingAcknowledged(t *testing.T) {
	if testing.Short() {
		t.Skip("crash test skipped in -short mode")
	}
	dir := t.TempDir()
	s := startServe(t, dir)
	// Forwarded to a target that is down: every acknowledged event must also have its delivery.
	add := hooktray(t, dir, "endpoints", "add", "--name", "crash", "--forward", "http://127.0.0.1:9/down")
	path := strings.TrimPrefix(strings.TrimSpace(add.stdout), s.receiver)
	var base atomic.Pointer[string]
	base.Store(&s.receiver)

	var (
		mu      sync.Mutex
		acked   = map[string]bool{}
		seq     atomic.Int64
		stop    atomic.Bool
		wg      sync.WaitGroup
		answers atomic.Int64
	)
	for w := range 16 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for !stop.Load() {
				body := fmt.Sprintf(`{"worker":%d,"seq":%d}`, w, seq.Add(1))
				code, err := postJSON(*base.Load()+path, body)
				if err != nil {
					time.Sleep(5 * time.Millisecond) // server down: try again soon
					continue
				}
				answers.Add(1)
				if code/100 == 2 {
					mu.Lock()
					acked[body] = true
					mu.Unlock()
				}
			}
		}()
	}
	rng := rand.New(rand.NewPCG(uint64(time.Now().UnixNano()), 1))
	const kills = 5
	// Kill at a random point of the load: after a random number of further answers.
	progress := func(n int64) {
		target := answers.Load() + n
		testutil.Eventually(t, fmt.Sprintf("%d more answers", n), func() bool { return answers.Load() >= target })
	}
	for i := range kills {
		progress(int64(200 + rng.IntN(2000)))
		s.kill() // SIGKILL: no shutdown code runs
		var err error
		s, err = tryServe(t, dir)
		if err != nil {
			stop.Store(true)
			wg.Wait()
			t.Fatalf("restart %d after SIGKILL: %v", i+1, err)
		}
		t.Cleanup(s.kill)
		base.Store(&s.receiver)
	}
	progress(500)
	stop.Store(true)
	wg.Wait()
	if code, _ := s.stop(); code != 0 {
		t.Errorf("final clean stop exited %d", code)
	}

	store, err := storage.Open(context.Background(), filepath.Join(dir, "hooktray.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer store.Close()
	if res, err := store.IntegrityCheck(context.Background()); err != nil || res != "ok" {
		t.Fatalf("integrity check: %q, %v", res, err)
	}
	stored := map[string]bool{}
	var accepted []int64
	q := hook.EventQuery{Limit: hook.MaxPage, WithBody: true}
	for {
		page, err := store.ListEvents(context.Background(), q)
		if err != nil {
			t.Fatal(err)
		}
		for _, ev := range page.Events {
			stored[string(ev.Body)] = true
			if ev.Status == hook.Accepted {
				accepted = append(accepted, ev.ID)
			}
		}
		if page.Next == 0 {
			break
		}
		q.Before = page.Next
	}
	lost := 0
	for body := range acked {
		if !stored[body] {
			lost++
			if lost <= 5 {
				t.Errorf("acknowledged but not stored: %s", body)
			}
		}
	}
	deliveries := map[int64]int{}
	dq := hook.DeliveryQuery{Limit: hook.MaxPage}
	for {
		ds, next, err := store.Deliveries(context.Background(), dq)
		if err != nil {
			t.Fatal(err)
		}
		for _, d := range ds {
			deliveries[d.EventID]++
		}
		if next == 0 {
			break
		}
		dq.Before = next
	}
	for _, id := range accepted {
		if deliveries[id] != 1 {
			t.Errorf("event %d has %d deliveries, want 1", id, deliveries[id])
			break
		}
	}
	t.Logf("%d kills, %d answers, %d acknowledged, %d stored, %d lost, %d deliveries queued", kills, answers.Load(), len(acked), len(stored), lost, len(deliveries))
	if len(acked) < 100 {
		t.Errorf("only %d requests were acknowledged: the load did not run", len(acked))
	}
}
