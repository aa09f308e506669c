package ingest

import (
	"context"
	"errors"
	"path/filepath"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/hooktray/hooktray/hook"
	"github.com/hooktray/hooktray/internal/testutil"
	"github.com/hooktray/hooktray/storage"
)

// countingStore is the real store, counting the transactions it is asked for.
type countingStore struct {
	*storage.Store
	batches atomic.Int64
	fail    atomic.Pointer[error]
}

func (c *countingStore) InsertBatch(ctx context.Context, evs []*hook.Event) error {
	c.batches.Add(1)
	if err := c.fail.Load(); err != nil {
		return *err
	}
	time.Sleep(2 * time.Millisecond) // let concurrent requests pile up as a slow disk would
	return c.Store.InsertBatch(ctx, evs)
}

func openStore(t *testing.T) (*countingStore, hook.Endpoint) {
	s, err := storage.Open(context.Background(), filepath.Join(t.TempDir(), "hooktray.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	ep := hook.NewEndpoint("q")
	if err := s.CreateEndpoint(context.Background(), &ep); err != nil {
		t.Fatal(err)
	}
	return &countingStore{Store: s}, ep
}

func newEvent(ep hook.Endpoint) *hook.Event {
	return &hook.Event{EndpointID: ep.ID, ReceivedAt: time.Now(), Method: "POST", Body: []byte("{}"), ResponseStatus: 200}
}

func TestConcurrentCommitsShareTransactions(t *testing.T) {
	store, ep := openStore(t)
	var committed atomic.Int64
	q := New(store, Options{Committed: func(evs []*hook.Event) { committed.Add(int64(len(evs))) }})
	defer q.Close()
	const n = 200
	var wg sync.WaitGroup
	ids := make([]int64, n)
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			ev := newEvent(ep)
			if err := q.Commit(ev); err != nil {
				t.Error(err)
			}
			ids[i] = ev.ID
		}()
	}
	wg.Wait()
	for i, id := range ids {
		if id == 0 {
			t.Fatalf("commit %d returned without an id", i)
		}
	}
	if b := store.batches.Load(); b >= n/2 {
		t.Errorf("%d transactions for %d concurrent commits: not grouped", b, n)
	}
	if committed.Load() != n {
		t.Errorf("Committed saw %d events, want %d", committed.Load(), n)
	}
}

func TestAFailedTransactionFailsEveryoneInIt(t *testing.T) {
	store, ep := openStore(t)
	boom := errors.New("disk full")
	store.fail.Store(&boom)
	q := New(store, Options{})
	defer q.Close()
	var wg sync.WaitGroup
	for range 20 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if err := q.Commit(newEvent(ep)); !errors.Is(err, boom) {
				t.Errorf("Commit = %v, want the storage error", err)
			}
		}()
	}
	wg.Wait()
	store.fail.Store(nil)
	if err := q.Commit(newEvent(ep)); err != nil {
		t.Errorf("after the disk recovered: %v", err)
	}
}

func TestCloseCommitsWhatIsQueuedAndRefusesMore(t *testing.T) {
	store, ep := openStore(t)
	q := New(store, Options{})
	var wg sync.WaitGroup
	var ok atomic.Int64
	for range 50 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if q.Commit(newEvent(ep)) == nil {
				ok.Add(1)
			}
		}()
	}
	testutil.Eventually(t, "some commits to be done while others are queued", func() bool { return ok.Load() > 0 })
	q.Close()
	wg.Wait()
	if err := q.Commit(newEvent(ep)); !errors.Is(err, ErrStopped) {
		t.Errorf("Commit after Close = %v", err)
	}
	page, _ := store.ListEvents(context.Background(), hook.EventQuery{Limit: 1000})
	if int64(len(page.Events)) != ok.Load() {
		t.Errorf("%d commits succeeded, %d events stored", ok.Load(), len(page.Events))
	}
}
