package ingest

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"reflect"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/hooktray/hooktray/hook"
	"github.com/hooktray/hooktray/internal/testutil"
	"github.com/hooktray/hooktray/storage"
)

// countingStore is the real store, counting the imports it is asked for and refusing them on
// demand, as a damaged or full database would.
type countingStore struct {
	*storage.Store
	batches atomic.Int64
	syncs   atomic.Int64
	fail    atomic.Pointer[error]
}

func (c *countingStore) SyncDurable(ctx context.Context) error {
	c.syncs.Add(1)
	return c.Store.SyncDurable(ctx)
}

func (c *countingStore) ImportBatch(ctx context.Context, evs []*hook.Event, upTo uint64) error {
	c.batches.Add(1)
	if err := c.fail.Load(); err != nil {
		return *err
	}
	return c.Store.ImportBatch(ctx, evs, upTo)
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

func openQueue(t *testing.T, store Store, opts Options) *Queue {
	t.Helper()
	if opts.Dir == "" {
		opts.Dir = filepath.Join(t.TempDir(), "journal")
	}
	q, err := Open(context.Background(), store, opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { q.Close() })
	return q
}

func newEvent(ep hook.Endpoint) *hook.Event {
	return &hook.Event{EndpointID: ep.ID, ReceivedAt: time.Now(), Method: "POST", Body: []byte("{}"), ResponseStatus: 200}
}

func stored(t *testing.T, s *countingStore) []hook.Event {
	t.Helper()
	page, err := s.ListEvents(context.Background(), hook.EventQuery{Limit: hook.MaxPage, WithBody: true})
	if err != nil {
		t.Fatal(err)
	}
	return page.Events
}

func segments(t *testing.T, dir string) []string {
	t.Helper()
	m, err := filepath.Glob(filepath.Join(dir, "*"+segmentExt))
	if err != nil {
		t.Fatal(err)
	}
	return m
}

// newJournal opens an empty journal in a fresh directory.
func newJournal(t *testing.T) (*journal, string) {
	t.Helper()
	dir := filepath.Join(t.TempDir(), "journal")
	j, _, err := openJournal(dir, 1<<20)
	if err != nil {
		t.Fatal(err)
	}
	return j, dir
}

// replayed is the sequences the segments in dir replay, in order.
func replayed(t *testing.T, dir string) []uint64 {
	t.Helper()
	var seqs []uint64
	for _, path := range segments(t, dir) {
		if _, err := scanSegment(path, func(seq uint64, _ *hook.Event) error { seqs = append(seqs, seq); return nil }); err != nil {
			t.Fatal(err)
		}
	}
	return seqs
}

// commitBodies commits n events of 512-byte bodies (eight to a 4 KiB segment) and waits until
// they are imported.
func commitBodies(t *testing.T, q *Queue, ep hook.Endpoint, n int) {
	t.Helper()
	for range n {
		ev := newEvent(ep)
		ev.Body = bytes.Repeat([]byte("x"), 512)
		if err := q.Commit(ev); err != nil {
			t.Fatal(err)
		}
	}
	if err := q.Settle(context.Background()); err != nil {
		t.Fatal(err)
	}
}

func TestConcurrentCommitsShareImportsAndAreAnnouncedOnce(t *testing.T) {
	store, ep := openStore(t)
	var committed atomic.Int64
	q := openQueue(t, store, Options{Committed: []func([]*hook.Event){func(evs []*hook.Event) {
		for _, ev := range evs {
			if ev.ID == 0 {
				t.Error("an event announced without an id")
			}
		}
		committed.Add(int64(len(evs)))
	}}})
	const n = 500
	var wg sync.WaitGroup
	for range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if err := q.Commit(newEvent(ep)); err != nil {
				t.Error(err)
			}
		}()
	}
	wg.Wait()
	if err := q.Settle(context.Background()); err != nil {
		t.Fatal(err)
	}
	if got := len(stored(t, store)); got != n {
		t.Fatalf("%d events stored after %d acknowledged commits settled", got, n)
	}
	if committed.Load() != n {
		t.Errorf("Committed saw %d events, want %d", committed.Load(), n)
	}
	if b := store.batches.Load(); b >= n/2 {
		t.Errorf("%d imports for %d concurrent commits: not grouped", b, n)
	}
}

// The caller's body buffer is its own again once Commit returns: the receiver pools them.
func TestTheBodyIsTheJournalsCopy(t *testing.T) {
	store, ep := openStore(t)
	q := openQueue(t, store, Options{})
	ev := newEvent(ep)
	body := []byte(`{"a":1}`)
	ev.Body = body
	if err := q.Commit(ev); err != nil {
		t.Fatal(err)
	}
	copy(body, "XXXXXXX")
	q.Settle(context.Background())
	if got := stored(t, store)[0].Body; string(got) != `{"a":1}` {
		t.Errorf("stored body %q: the caller's buffer was kept", got)
	}
}

func TestARefusingDatabaseRefusesNewRequestsAndLosesNone(t *testing.T) {
	store, ep := openStore(t)
	boom := errors.New("database or disk is full")
	store.fail.Store(&boom)
	var failures []error
	var mu sync.Mutex
	q := openQueue(t, store, Options{RetryPause: time.Millisecond, ImportFailed: func(err error) {
		mu.Lock()
		failures = append(failures, err)
		mu.Unlock()
	}})
	if err := q.Commit(newEvent(ep)); err != nil {
		t.Fatalf("the journal took it: %v", err)
	}
	testutil.Eventually(t, "new requests to be refused while SQLite refuses", func() bool {
		return errors.Is(q.Commit(newEvent(ep)), boom)
	})
	store.fail.Store(nil)
	ctx, cancel := context.WithTimeout(context.Background(), testutil.Patience)
	defer cancel()
	if err := q.Settle(ctx); err != nil {
		t.Fatal(err)
	}
	testutil.Eventually(t, "requests to be accepted again", func() bool { return q.Commit(newEvent(ep)) == nil })
	q.Settle(ctx)
	if got := len(stored(t, store)); got < 2 {
		t.Errorf("%d events stored; every acknowledged one must be", got)
	}
	mu.Lock()
	defer mu.Unlock()
	if len(failures) != 2 || !errors.Is(failures[0], boom) || failures[1] != nil {
		t.Errorf("ImportFailed heard %v, want the error once, then nil once", failures)
	}
}

func TestCloseImportsWhatIsQueuedAndRefusesMore(t *testing.T) {
	store, ep := openStore(t)
	dir := filepath.Join(t.TempDir(), "journal")
	q := openQueue(t, store, Options{Dir: dir})
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
	if err := q.Close(); err != nil {
		t.Fatal(err)
	}
	wg.Wait()
	if err := q.Commit(newEvent(ep)); !errors.Is(err, ErrStopped) {
		t.Errorf("Commit after Close = %v", err)
	}
	if got := len(stored(t, store)); int64(got) != ok.Load() {
		t.Errorf("%d commits succeeded, %d events stored", ok.Load(), got)
	}
	if left := segments(t, dir); len(left) != 0 {
		t.Errorf("a clean close left %v", left)
	}
}

// A crash leaves segments behind: the next start imports each frame exactly once, stops at a torn
// frame, and carries on after the last sequence it saw.
func TestAJournalLeftByACrashIsImportedOnce(t *testing.T) {
	store, ep := openStore(t)
	j, dir := newJournal(t)
	var buf []byte
	for seq := uint64(1); seq <= 3; seq++ {
		ev := newEvent(ep)
		ev.DeliveryID = "same-delivery" // the second and third are redeliveries
		buf, _, _ = appendFrame(buf, seq, ev)
	}
	if _, err := j.append(buf, 1, 3); err != nil {
		t.Fatal(err)
	}
	// A fourth frame cut short by the crash: never acknowledged.
	torn, _, _ := appendFrame(nil, 4, newEvent(ep))
	j.cur.Write(torn[:len(torn)-5])
	j.cur.Close()
	seg := segments(t, dir)[0]
	saved, err := os.ReadFile(seg)
	if err != nil {
		t.Fatal(err)
	}

	q := openQueue(t, store, Options{Dir: dir})
	if q.Recovered() != 3 {
		t.Errorf("recovered %d frames, want 3", q.Recovered())
	}
	evs := stored(t, store)
	if len(evs) != 3 {
		t.Fatalf("%d events after recovery, want 3", len(evs))
	}
	dups := 0
	for _, ev := range evs {
		if ev.Status == hook.Duplicate {
			dups++
		}
	}
	if dups != 2 {
		t.Errorf("%d duplicates among the redeliveries, want 2", dups)
	}
	if left := segments(t, dir); len(left) != 0 {
		t.Errorf("imported segments left: %v", left)
	}
	// New requests take sequences after the recovered ones.
	if err := q.Commit(newEvent(ep)); err != nil {
		t.Fatal(err)
	}
	if err := q.Close(); err != nil {
		t.Fatal(err)
	}
	if seq, _ := store.JournalSeq(context.Background()); seq != 4 {
		t.Errorf("journal sequence %d after one more request, want 4", seq)
	}

	// The same segment found again (a crash between the import and the removal): nothing new.
	if err := os.WriteFile(seg, saved, 0o600); err != nil {
		t.Fatal(err)
	}
	q2 := openQueue(t, store, Options{Dir: dir})
	if q2.Recovered() != 0 || len(stored(t, store)) != 4 {
		t.Errorf("a re-found segment was imported again: recovered %d, %d events", q2.Recovered(), len(stored(t, store)))
	}
}

// After a failed write the journal cuts the segment back or moves to a new one; either way no
// frame follows a half-written one.
func TestAFailedJournalWriteLeavesNoTornFrameBehindGoodOnes(t *testing.T) {
	_, ep := openStore(t)
	j, dir := newJournal(t)
	frame := func(seq uint64) []byte { b, _, _ := appendFrame(nil, seq, newEvent(ep)); return b }
	if _, err := j.append(frame(1), 1, 1); err != nil {
		t.Fatal(err)
	}
	j.cur.Close() // the next write fails, and so does cutting back
	if _, err := j.append(frame(2), 2, 2); err == nil {
		t.Fatal("a write to a closed segment succeeded")
	}
	// The queue writes the failed group's sequences again.
	if _, err := j.append(frame(2), 2, 2); err != nil {
		t.Fatalf("the journal did not move on to a new segment: %v", err)
	}
	j.finish()
	if seqs := replayed(t, dir); !reflect.DeepEqual(seqs, []uint64{1, 2}) {
		t.Errorf("replayed %v, want [1 2]", seqs)
	}
}

// A retired segment is written over by a later one; its old frames are never read again.
func TestARecycledSegmentReplaysOnlyItsNewFrames(t *testing.T) {
	_, ep := openStore(t)
	j, dir := newJournal(t)
	var old []byte
	for seq := uint64(1); seq <= 5; seq++ {
		old, _, _ = appendFrame(old, seq, newEvent(ep))
	}
	if _, err := j.append(old, 1, 5); err != nil {
		t.Fatal(err)
	}
	j.finish()
	if err := j.retire(5, func() error { return nil }); err != nil {
		t.Fatal(err)
	}
	if len(j.spares) != 1 || len(segments(t, dir)) != 0 {
		t.Fatalf("spares %v, segments %v: the retired segment was not kept as a spare", j.spares, segments(t, dir))
	}
	fresh, _, _ := appendFrame(nil, 6, newEvent(ep))
	if _, err := j.append(fresh, 6, 6); err != nil {
		t.Fatal(err)
	}
	j.finish()
	if seqs := replayed(t, dir); !reflect.DeepEqual(seqs, []uint64{6}) {
		t.Errorf("replayed %v from the recycled file, want [6]", seqs)
	}
	if err := j.close(6, func() error { return nil }); err != nil {
		t.Fatal(err)
	}
	if left, _ := os.ReadDir(dir); len(left) != 0 {
		t.Errorf("a closed journal left %d files", len(left))
	}
}

// Segments are normally retired by a completed checkpoint, which makes SQLite's copy durable
// without the importer syncing anything.
func TestACompleteCheckpointRetiresImportedSegments(t *testing.T) {
	store, ep := openStore(t)
	dir := filepath.Join(t.TempDir(), "journal")
	q := openQueue(t, store, Options{Dir: dir, SegmentSize: 4 << 10, RetireAfter: 1000})
	commitBodies(t, q, ep, 100)
	if n := len(segments(t, dir)); n < 3 {
		t.Fatalf("%d segments before any checkpoint, want several waiting", n)
	}
	imported := q.Imported()
	if imported != 100 {
		t.Fatalf("imported up to %d, want 100", imported)
	}
	if _, complete, err := store.Checkpoint(context.Background()); err != nil || !complete {
		t.Fatalf("checkpoint: complete %v, %v", complete, err)
	}
	if err := q.Checkpointed(imported); err != nil {
		t.Fatal(err)
	}
	if left := segments(t, dir); len(left) > 1 {
		t.Errorf("%d segments left after a complete checkpoint, want at most the open one", len(left))
	}
	if n := store.syncs.Load(); n != 0 {
		t.Errorf("the importer synced SQLite %d times; the checkpoint had made it durable", n)
	}
}

// Without checkpoints (a reader holding one back), the importer makes SQLite durable itself
// once RetireAfter segments wait, so the journal stays bounded.
func TestWithoutCheckpointsTheJournalStaysBounded(t *testing.T) {
	store, ep := openStore(t)
	dir := filepath.Join(t.TempDir(), "journal")
	q := openQueue(t, store, Options{Dir: dir, SegmentSize: 4 << 10, RetireAfter: 2})
	commitBodies(t, q, ep, 100)
	// The importer retires right after it records its progress, which Settle waits for.
	testutil.Eventually(t, "at most 2 segments waiting and the open one", func() bool { return len(segments(t, dir)) <= 2+1 })
	if store.syncs.Load() == 0 {
		t.Error("the importer never made SQLite durable")
	}
}

func TestFramesRoundTrip(t *testing.T) {
	ev := &hook.Event{
		EndpointID: "ep", ReceivedAt: time.Unix(1700000000, 123456789).UTC(), Status: hook.Rejected,
		Method: "POST", Path: "/webhook/ep", Query: "a=1&b=%FF",
		Header: http.Header{"Content-Type": {"application/json"}, "X-Multi": {"1", "2"}},
		Body:   []byte{}, Size: 12, RemoteAddr: "127.0.0.1:5", ClientIP: "203.0.113.9",
		DeliveryID: "d-1", Reason: "paused", ResponseStatus: 503, Type: "push",
		Verification: hook.Verification{Scheme: "github", Result: hook.ResultFailed, Reason: "bad"},
		Decrypted:    []byte(`{"x":1}`), Forward: []string{"t1", "t2"},
	}
	b, start, end := appendFrame([]byte("prefix"), 42, ev)
	if !bytes.Equal(b[start:end], ev.Body) {
		t.Errorf("body span %d:%d", start, end)
	}
	seq, got, n, err := readFrame(b[len("prefix"):])
	if err != nil || seq != 42 || n != len(b)-len("prefix") {
		t.Fatalf("readFrame = %d, %d, %v", seq, n, err)
	}
	if !reflect.DeepEqual(got, ev) {
		t.Errorf("round trip:\n got %+v\nwant %+v", got, ev)
	}
	ev.Body = nil // a rejected request keeps no body: nil, not empty
	b, _, _ = appendFrame(nil, 1, ev)
	if _, got, _, _ = readFrame(b); got.Body != nil {
		t.Errorf("no body came back as %q", got.Body)
	}
	b[len(b)-1] ^= 1
	if _, _, _, err := readFrame(b); !errors.Is(err, errTorn) {
		t.Errorf("a flipped bit reads as %v", err)
	}
}

func FuzzReadFrame(f *testing.F) {
	good, _, _ := appendFrame(nil, 7, &hook.Event{EndpointID: "e", Method: "POST", Header: http.Header{"A": {"b"}}, Body: []byte("x")})
	f.Add(good)
	f.Add(good[:len(good)-1])
	f.Fuzz(func(t *testing.T, b []byte) {
		_, ev, n, err := readFrame(b)
		if err == nil && (ev == nil || n > len(b)) {
			t.Fatalf("readFrame accepted %d of %d bytes", n, len(b))
		}
	})
}

// blockingStore holds every import until release is closed, as a database another program holds
// locked does.
type blockingStore struct {
	*countingStore
	release chan struct{}
}

func (b *blockingStore) ImportBatch(ctx context.Context, evs []*hook.Event, upTo uint64) error {
	<-b.release
	return b.countingStore.ImportBatch(ctx, evs, upTo)
}

// While the importer is stuck, acknowledged groups beyond MemoryBacklog are let go and read back
// from the journal later: memory stays bounded, and every body arrives intact.
func TestAStuckImporterHoldsAtMostItsMemoryBacklog(t *testing.T) {
	cs, ep := openStore(t)
	store := &blockingStore{countingStore: cs, release: make(chan struct{})}
	q := openQueue(t, store, Options{MemoryBacklog: 256 << 10})
	const n = 2000
	var most int64
	for i := range n {
		ev := newEvent(ep)
		ev.Body = fmt.Appendf(nil, `{"n":%d,"pad":"%s"}`, i, bytes.Repeat([]byte("p"), 1000))
		if err := q.Commit(ev); err != nil {
			t.Fatal(err)
		}
		most = max(most, q.Backlog())
	}
	if most > 256<<10+64<<10 {
		t.Errorf("the backlog held %d bytes, want at most the 256 KiB allowed and one buffer", most)
	}
	close(store.release)
	if err := q.Settle(context.Background()); err != nil {
		t.Fatal(err)
	}
	seen := map[string]bool{}
	for q := (hook.EventQuery{Limit: hook.MaxPage, WithBody: true}); ; {
		page, err := cs.ListEvents(context.Background(), q)
		if err != nil {
			t.Fatal(err)
		}
		for _, ev := range page.Events {
			seen[string(ev.Body)] = true
		}
		if q.Before = page.Next; q.Before == 0 {
			break
		}
	}
	if len(seen) != n {
		t.Fatalf("%d distinct bodies stored, want %d", len(seen), n)
	}
	for i := range n {
		if !seen[fmt.Sprintf(`{"n":%d,"pad":"%s"}`, i, bytes.Repeat([]byte("p"), 1000))] {
			t.Fatalf("body %d missing or damaged", i)
		}
	}
	if q.Backlog() != 0 {
		t.Errorf("backlog %d once everything is imported", q.Backlog())
	}
}

// A router's copies of one request go into one journal group: routed each, durable together, and
// announced together.
func TestCommitAllWritesTheCopiesOfARequestAsOneGroup(t *testing.T) {
	store, ep := openStore(t)
	var routed atomic.Int64
	announced := make(chan []int64, 4)
	q := openQueue(t, store, Options{
		Route: func(*hook.Event) []string { routed.Add(1); return nil },
		Committed: []func([]*hook.Event){func(evs []*hook.Event) {
			var ids []int64
			for _, ev := range evs {
				ids = append(ids, ev.ID)
			}
			announced <- ids
		}},
	})
	copies := []*hook.Event{newEvent(ep), newEvent(ep), newEvent(ep)}
	for i, ev := range copies {
		ev.Body = []byte(fmt.Sprintf(`{"copy":%d}`, i))
	}
	copies[2].Status, copies[2].Body = hook.Rejected, nil // a paused endpoint's copy
	if err := q.CommitAll(copies); err != nil {
		t.Fatal(err)
	}
	if n := routed.Load(); n != 2 {
		t.Errorf("routed %d copies, want the 2 accepted ones", n)
	}
	if err := q.Settle(context.Background()); err != nil {
		t.Fatal(err)
	}
	if ids := <-announced; len(ids) != 3 {
		t.Errorf("the copies were announced as %v, want all three at once", ids)
	}
	evs := stored(t, store)
	if len(evs) != 3 {
		t.Fatalf("stored %d events", len(evs))
	}
	for i, ev := range evs { // newest first
		if want := fmt.Sprintf(`{"copy":%d}`, 2-i); i > 0 && string(ev.Body) != want {
			t.Errorf("event %d: body %q, want %q", ev.ID, ev.Body, want)
		}
	}
	if got := replayed(t, q.opts.Dir); len(got) != 3 || got[2] != got[0]+2 {
		t.Errorf("journal sequences %v, want three in a row", got)
	}
}
