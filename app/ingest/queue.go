// Package ingest makes received requests durable before they are answered, at little cost per
// request. A journal is the commit point: one writer goroutine appends every request waiting at
// that moment to a segment file as a checksummed frame and makes the group durable with one
// fdatasync; then each request in it is answered. An importer feeds SQLite from the groups behind
// it, in large transactions committed with synchronous=NORMAL (the journal is the durable copy),
// and only then are the events announced. At start, frames a crash left unimported are imported
// first; segments are recycled once SQLite holds their frames durably, which a completed
// checkpoint reports (Checkpointed).
package ingest

import (
	"context"
	"errors"
	"os"
	"sync"
	"sync/atomic"
	"time"

	"github.com/hooktray/hooktray/hook"
)

// ErrStopped is returned by Commit once the queue has stopped; the request was not stored.
var ErrStopped = errors.New("hooktray is shutting down")

// Store is where the importer puts events: *storage.Store.
type Store interface {
	// ImportBatch stores evs (setting IDs, marking duplicates, queueing deliveries) and records
	// upTo as the last journal sequence imported, in one transaction that need not be durable.
	ImportBatch(ctx context.Context, evs []*hook.Event, upTo uint64) error
	// JournalSeq is the last journal sequence imported.
	JournalSeq(ctx context.Context) (uint64, error)
	// SyncDurable makes everything committed so far durable.
	SyncDurable(ctx context.Context) error
}

// Options tune a Queue; zero values take the defaults, except Dir.
type Options struct {
	// Dir holds the journal's segment files.
	Dir string
	// MaxBatch caps the requests in one journal group (default 256).
	MaxBatch int
	// Capacity is how many requests may wait for the writer (default 4096). Callers should bound
	// their concurrency below it; Commit blocks while the queue is full.
	Capacity int
	// MaxImport caps the events in one SQLite transaction (default 1024).
	MaxImport int
	// SegmentSize is the size at which the journal moves to a new segment (default 16 MiB).
	SegmentSize int64
	// ImportDelay is how long the importer lets acknowledged requests gather before a
	// transaction that would hold fewer than MaxImport (default 10 ms), once the last import found
	// many waiting (hotImport); a request that comes alone is imported at once: one transaction of many
	// rows writes far fewer pages than many of a few, but it is also how soon an event is
	// visible. Measured under wrk's load: 1 ms cost a fifth of the throughput; 20 ms brought the
	// admin API's p99 to 91–94 ms; 10 ms kept it at 57–83 ms for the same throughput
	// (docs/performance.md).
	ImportDelay time.Duration
	// RetireAfter is how many imported segments may wait for a checkpoint to make SQLite's copy
	// durable (Checkpointed) before the importer does it itself (default 4).
	RetireAfter int
	// RetryPause is how long the importer waits after SQLite refused a batch (default 1 s).
	RetryPause time.Duration
	// MemoryBacklog is how much memory the groups waiting for the importer may hold (default
	// 32 MiB); groups acknowledged beyond it wait in the journal only, and the importer reads
	// them back from there. A stalled import (another program holding the database) then costs
	// disk, which the journal uses anyway, not memory.
	MemoryBacklog int64
	// Route, if set, decides where an accepted event is forwarded (the targets it gets
	// deliveries for), before it is journaled, so that its deliveries are stored with it.
	Route func(ev *hook.Event) []string
	// Committed are called in order by the importer after each batch is in SQLite, with IDs set
	// and duplicates marked. They must not block nor keep evs' headers and bodies, which are the
	// journal's buffers: they are where the live feed, the activity counts, the delivery workers
	// and the indexer hear of new events.
	Committed []func(evs []*hook.Event)
	// ImportFailed, if set, hears when SQLite starts refusing the importer's batches (the error)
	// and when it accepts them again (nil).
	ImportFailed func(err error)
}

func (o *Options) setDefaults() {
	if o.MaxBatch <= 0 {
		o.MaxBatch = 256
	}
	if o.Capacity <= 0 {
		o.Capacity = 4096
	}
	if o.MaxImport <= 0 {
		o.MaxImport = 1024
	}
	if o.SegmentSize <= 0 {
		o.SegmentSize = 16 << 20
	}
	if o.ImportDelay <= 0 {
		o.ImportDelay = 10 * time.Millisecond
	}
	if o.RetireAfter <= 0 {
		o.RetireAfter = 4
	}
	if o.RetryPause <= 0 {
		o.RetryPause = time.Second
	}
	if o.MemoryBacklog <= 0 {
		o.MemoryBacklog = 32 << 20
	}
}

// Queue is the journal writer and the importer behind it. Create it with Open; stop it with Close.
type Queue struct {
	store   Store
	opts    Options
	journal *journal

	jobs      chan *job
	imports   *backlog // acknowledged groups waiting for the importer
	stop      chan struct{}
	exited    chan struct{} // the writer is done
	imported  chan struct{} // the importer is done
	closeOnce sync.Once
	closeErr  error
	jobPool   sync.Pool
	bufPool   sync.Pool

	recovered int    // frames imported at Open
	damage    Damage // what Open could not read
	next      uint64 // the next frame's sequence; the writer's alone
	acked     atomic.Uint64
	failing   atomic.Pointer[error] // the importer's last error while SQLite refuses batches
	progress  sync.Mutex
	done      uint64        // the last sequence imported, under progress
	advanced  chan struct{} // closed and replaced whenever done moves, under progress
}

// job is one Commit or CommitAll: its events go into one journal group.
type job struct {
	evs  []*hook.Event
	one  [1]*hook.Event // evs for a lone event, without allocating
	done chan error
}

// group is one journal write: its events, whose bodies now live in buf, and its last sequence.
// A group that arrives while the importer is far behind is kept only as where it was written
// (spilled): the importer reads it back from the journal, so memory does not grow with the delay.
type group struct {
	evs     []*hook.Event
	buf     *[]byte
	last    uint64
	n       int     // events in the group
	at      written // where the group is in the journal
	spilled bool    // evs and buf were let go; read it back from at
}

// Open imports whatever the journal in opts.Dir holds that store does not, then starts the
// writer and the importer.
func Open(ctx context.Context, store Store, opts Options) (*Queue, error) {
	opts.setDefaults()
	if opts.Dir == "" {
		return nil, errors.New("ingest: no journal directory")
	}
	j, left, err := openJournal(opts.Dir, opts.SegmentSize)
	if err != nil {
		return nil, err
	}
	last, recovered, damage, err := recoverJournal(ctx, store, opts.Dir, left, opts.MaxImport)
	if err != nil {
		return nil, err
	}
	q := &Queue{
		store:     store,
		opts:      opts,
		journal:   j,
		jobs:      make(chan *job, opts.Capacity),
		imports:   newBacklog(),
		stop:      make(chan struct{}),
		exited:    make(chan struct{}),
		imported:  make(chan struct{}),
		next:      last + 1,
		recovered: recovered,
		damage:    damage,
		done:      last,
		advanced:  make(chan struct{}),
	}
	if err := clearSpool(SpoolDir(opts.Dir)); err != nil {
		return nil, err
	}
	q.acked.Store(last)
	q.jobPool.New = func() any { return &job{done: make(chan error, 1)} }
	q.bufPool.New = func() any { b := make([]byte, 0, 64<<10); return &b }
	go q.write()
	go q.importLoop()
	return q, nil
}

// Recovered is how many requests Open imported from a journal a crash left.
func (q *Queue) Recovered() int { return q.recovered }

// Damage is what Open found unreadable in the journal a crash left (zero when all was read).
func (q *Queue) Damage() Damage { return q.damage }

// Backlog is the memory held by requests acknowledged but not yet in SQLite: their frames wait in
// the journal's buffers for the importer. The receiver counts it against its memory budget, so a
// stalled import (another program holding the database) sheds load instead of growing.
func (q *Queue) Backlog() int64 { return q.imports.size() }

// Commit makes ev durable and returns once it is (or with the error that prevented it). The
// caller must not touch ev afterwards: the importer still reads it. ev.Body is replaced by the
// journal's copy, so the caller may reuse the buffer it passed. Commit takes no context and cannot
// be abandoned: a request once queued is written, even while the queue closes, so an acknowledged
// request and the journal always agree. While SQLite refuses the importer's batches (a damaged or
// full database), Commit refuses new requests with that error rather than pile them up.
func (q *Queue) Commit(ev *hook.Event) error {
	j := q.jobPool.Get().(*job)
	j.one[0] = ev
	err := q.commit(j, j.one[:])
	j.one[0] = nil
	q.jobPool.Put(j)
	return err
}

// CommitAll is Commit for events that belong together (a router's copies of one request): they
// are written in one journal group, with one wait for the disk, and are durable together or not
// at all.
func (q *Queue) CommitAll(evs []*hook.Event) error {
	if len(evs) == 0 {
		return nil
	}
	j := q.jobPool.Get().(*job)
	err := q.commit(j, evs)
	q.jobPool.Put(j)
	return err
}

// commit routes evs, hands them to the writer as j, and waits for the outcome.
func (q *Queue) commit(j *job, evs []*hook.Event) error {
	select {
	case <-q.stop:
		return ErrStopped
	default:
	}
	if err := q.failing.Load(); err != nil {
		return *err
	}
	if q.opts.Route != nil {
		for _, ev := range evs {
			if ev.Status == hook.Accepted {
				ev.Forward = q.opts.Route(ev)
			}
		}
	}
	j.evs = evs
	defer func() { j.evs = nil }()
	select {
	case q.jobs <- j:
	case <-q.exited:
		return ErrStopped
	}
	select {
	case err := <-j.done:
		return err
	case <-q.exited:
		// The writer drains every queued job before it exits, so the result is already there.
		select {
		case err := <-j.done:
			return err
		default:
			return ErrStopped
		}
	}
}

// Settle returns once every request acknowledged before the call is in SQLite, so a read that
// follows sees it; or with ctx's error.
func (q *Queue) Settle(ctx context.Context) error {
	target := q.acked.Load()
	for {
		q.progress.Lock()
		done, advanced := q.done, q.advanced
		q.progress.Unlock()
		if done >= target {
			return nil
		}
		select {
		case <-advanced:
		case <-ctx.Done():
			return ctx.Err()
		case <-q.imported:
			return ErrStopped
		}
	}
}

// Imported is the last journal sequence the importer has put in SQLite (not yet durably: see
// Checkpointed).
func (q *Queue) Imported() uint64 {
	q.progress.Lock()
	defer q.progress.Unlock()
	return q.done
}

// Checkpointed tells the queue that SQLite holds every frame up to seq durably, as it does once a
// complete checkpoint began after Imported returned seq: segments holding only such frames are
// recycled. This is how segments are normally retired, without an fsync of their own: the
// checkpoint syncs anyway, and the importer never waits for the disk.
func (q *Queue) Checkpointed(seq uint64) error {
	return q.journal.retire(seq, func() error { return nil })
}

// Close stops accepting, writes and imports everything already queued, and waits for both. When
// SQLite refuses the import, what is left stays in the journal for the next start.
func (q *Queue) Close() error {
	q.closeOnce.Do(func() {
		close(q.stop)
		<-q.exited
		<-q.imported
		q.progress.Lock()
		done := q.done
		q.progress.Unlock()
		q.closeErr = q.journal.close(done, func() error { return q.store.SyncDurable(context.Background()) })
	})
	return q.closeErr
}

// write is the writer goroutine: it takes every waiting request into one journal group.
func (q *Queue) write() {
	defer close(q.exited)
	defer q.imports.close()
	batch := make([]*job, 0, q.opts.MaxBatch)
	for {
		var first *job
		select {
		case first = <-q.jobs:
		case <-q.stop:
			// Drain what is queued, then exit. Commit no longer admits new jobs once stop is
			// closed, except those racing with it, which this drain catches.
			for {
				select {
				case j := <-q.jobs:
					q.append(q.gather(append(batch[:0], j)))
				default:
					return
				}
			}
		}
		q.append(q.gather(append(batch[:0], first)))
	}
}

// gather adds whatever is already waiting, without waiting for more: a lone request is written at
// once, and under load the group grows by itself while the previous fdatasync runs.
func (q *Queue) gather(batch []*job) []*job {
	for len(batch) < q.opts.MaxBatch {
		select {
		case j := <-q.jobs:
			batch = append(batch, j)
		default:
			return batch
		}
	}
	return batch
}

// append writes one group, answers its requests, and hands it to the importer.
func (q *Queue) append(batch []*job) {
	buf := q.bufPool.Get().(*[]byte)
	b := (*buf)[:0]
	first := q.next
	bodies := make([]bodySpan, 0, len(batch))
	for _, j := range batch {
		for _, ev := range j.evs {
			var s bodySpan
			b, s.start, s.end = appendFrame(b, q.next, ev)
			bodies = append(bodies, s)
			q.next++
		}
	}
	last := q.next - 1
	at, err := q.journal.append(b, first, last)
	*buf = b
	if err != nil {
		// Nothing of the group is in the journal: its sequences are used again, so that the
		// journal's sequences stay continuous and a gap always means lost frames.
		q.next = first
		for _, j := range batch {
			j.done <- err
		}
		q.bufPool.Put(buf)
		return
	}
	g := &group{last: last, n: len(bodies), at: at}
	if q.imports.size()+int64(cap(b)) > q.opts.MemoryBacklog {
		g.spilled = true // the importer is far behind: it reads this group back from the journal
		q.bufPool.Put(buf)
	} else {
		g.evs, g.buf = q.keep(batch, b, bodies), buf
	}
	q.acked.Store(last)
	for _, j := range batch {
		j.done <- nil
	}
	q.imports.push(g)
}

// bodySpan is where a frame's body is in a group's buffer.
type bodySpan struct{ start, end int }

// keep is the events of batch with their bodies pointing into the journal's copy b.
func (q *Queue) keep(batch []*job, b []byte, bodies []bodySpan) []*hook.Event {
	evs := make([]*hook.Event, 0, len(bodies))
	for _, j := range batch {
		for _, ev := range j.evs {
			s := bodies[len(evs)]
			if ev.Body != nil {
				ev.Body = b[s.start:s.end:s.end]
			}
			evs = append(evs, ev)
		}
	}
	return evs
}

// importLoop is the importer goroutine: it moves acknowledged groups into SQLite, as many as are
// waiting in one transaction.
// hotImport is the batch size from which the importer gathers before the next transaction.
const hotImport = 32

func (q *Queue) importLoop() {
	defer close(q.imported)
	var evs []*hook.Event
	gather := time.Duration(0)
	for {
		groups := q.imports.take(q.opts.MaxImport, gather, q.stop)
		if groups == nil {
			return
		}
		var ok bool
		if evs, ok = q.eventsOf(evs[:0], groups); !ok {
			return // stopped while the journal could not be read: the next start imports it
		}
		// Gather only under load: a webhook that comes alone is imported (and forwarded) at once;
		// once imports find many waiting, the next ones wait ImportDelay for more.
		gather = 0
		if len(evs) >= hotImport {
			gather = q.opts.ImportDelay
		}
		last := groups[len(groups)-1].last
		if !q.importBatch(evs, last) {
			// Stopped while SQLite refuses: the journal keeps these and the rest for the next
			// start.
			return
		}
		for _, committed := range q.opts.Committed {
			committed(evs)
		}
		q.dropSpooled(evs)
		q.progress.Lock()
		q.done = last
		close(q.advanced)
		q.advanced = make(chan struct{})
		q.progress.Unlock()
		for _, g := range groups {
			clear(g.evs)
			q.imports.release(g)
			if g.buf != nil {
				q.bufPool.Put(g.buf)
			}
		}
		clear(evs)
		if q.journal.retirable(last) >= q.opts.RetireAfter {
			// No checkpoint completed for a while (a long-lived reader, or none running): make
			// SQLite's copy durable here rather than let the journal grow.
			if err := q.journal.retire(last, func() error { return q.store.SyncDurable(context.Background()) }); err != nil {
				q.reportFailure(err) // retried at the next import; the segments stay meanwhile
			}
		}
	}
}

// eventsOf appends the events of groups to evs, reading spilled groups back from the journal. A
// read that fails (a segment damaged since it was written) is retried like a refused import; false
// when the queue stopped first.
func (q *Queue) eventsOf(evs []*hook.Event, groups []*group) ([]*hook.Event, bool) {
	for _, g := range groups {
		if !g.spilled {
			evs = append(evs, g.evs...)
			continue
		}
		for {
			read, err := g.at.read()
			if err == nil {
				evs = append(evs, read...)
				break
			}
			q.reportFailure(err)
			select {
			case <-time.After(q.opts.RetryPause):
			case <-q.stop:
				return evs, false
			}
		}
	}
	return evs, true
}

// dropSpooled removes the spool files of bodies evs brought in, once SQLite holds them durably:
// until then the journal's frames name the files, and a crash would import them again from there.
func (q *Queue) dropSpooled(evs []*hook.Event) {
	var files []string
	for _, ev := range evs {
		if ev.BodyFile != "" {
			files = append(files, ev.BodyFile)
		}
	}
	if len(files) == 0 {
		return
	}
	if err := q.store.SyncDurable(context.Background()); err != nil {
		q.reportFailure(err) // the files stay; the next start imports or clears them
		return
	}
	for _, f := range files {
		os.Remove(f)
	}
}

// importBatch imports evs, retrying while SQLite refuses; false when the queue stopped first.
func (q *Queue) importBatch(evs []*hook.Event, last uint64) bool {
	if !Durable {
		return true // the ceiling build: see Durable
	}
	for {
		err := q.store.ImportBatch(context.Background(), evs, last)
		if err == nil {
			if q.failing.Load() != nil {
				q.failing.Store(nil)
				q.reportFailure(nil)
			}
			return true
		}
		if q.failing.Swap(&err) == nil {
			q.reportFailure(err)
		}
		t := time.NewTimer(q.opts.RetryPause)
		select {
		case <-t.C:
		case <-q.stop:
			t.Stop()
			// One last try, then leave the rest to the next start.
			if q.store.ImportBatch(context.Background(), evs, last) == nil {
				return true
			}
			return false
		}
	}
}

func (q *Queue) reportFailure(err error) {
	if q.opts.ImportFailed != nil {
		q.opts.ImportFailed(err)
	}
}
