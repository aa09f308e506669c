// Package ingest commits received requests to storage in groups: one writer goroutine takes every
// request waiting at that moment into one durable transaction, so many concurrent requests share
// one fsync, and each is answered only after the transaction that holds it committed.
package ingest

import (
	"context"
	"errors"
	"sync"

	"github.com/hooktray/hooktray/hook"
)

// ErrStopped is returned by Commit once the queue has stopped; the request was not stored.
var ErrStopped = errors.New("hooktray is shutting down")

// Store is what the queue writes to: *storage.Store.
type Store interface {
	InsertBatch(ctx context.Context, evs []*hook.Event) error
}

// Options tune a Queue; zero values take the defaults.
type Options struct {
	// MaxBatch caps the events in one transaction (default 256).
	MaxBatch int
	// Capacity is how many requests may wait for the writer (default 4096). Callers should bound
	// their concurrency below it; Commit blocks while the queue is full.
	Capacity int
	// Committed, if set, is called by the writer after each successful commit, after every caller
	// of the batch has been released. It must not block: it is where the live feed and the indexer
	// are told about new events.
	Committed func(evs []*hook.Event)
}

// Queue is the group-commit writer. Create it with New; stop it with Close.
type Queue struct {
	store     Store
	opts      Options
	jobs      chan *job
	stop      chan struct{}
	exited    chan struct{}
	closeOnce sync.Once
	pool      sync.Pool
}

type job struct {
	ev   *hook.Event
	done chan error
}

// New starts a queue writing to store.
func New(store Store, opts Options) *Queue {
	if opts.MaxBatch <= 0 {
		opts.MaxBatch = 256
	}
	if opts.Capacity <= 0 {
		opts.Capacity = 4096
	}
	q := &Queue{
		store:  store,
		opts:   opts,
		jobs:   make(chan *job, opts.Capacity),
		stop:   make(chan struct{}),
		exited: make(chan struct{}),
	}
	q.pool.New = func() any { return &job{done: make(chan error, 1)} }
	go q.run()
	return q
}

// Commit stores ev durably and returns once it is committed (ev.ID set, and ev.Status possibly
// changed to Duplicate), or with the storage error that prevented it. The caller must not touch
// ev until Commit returns. It takes no context and cannot be abandoned: a request once queued is
// committed, even while the queue closes, so an acknowledged request and the database always
// agree. The Committed callback may still read ev's fields (not its body) after Commit returns.
func (q *Queue) Commit(ev *hook.Event) error {
	select {
	case <-q.stop:
		return ErrStopped
	default:
	}
	j := q.pool.Get().(*job)
	j.ev = ev
	select {
	case q.jobs <- j:
	case <-q.exited:
		return ErrStopped
	}
	var err error
	select {
	case err = <-j.done:
	case <-q.exited:
		// The writer drains every queued job before it exits, so the result is already there.
		select {
		case err = <-j.done:
		default:
			err = ErrStopped
		}
	}
	j.ev = nil
	q.pool.Put(j)
	return err
}

// Close stops accepting, commits everything already queued, and waits for the writer to finish.
func (q *Queue) Close() {
	q.closeOnce.Do(func() { close(q.stop) })
	<-q.exited
}

func (q *Queue) run() {
	defer close(q.exited)
	batch := make([]*job, 0, q.opts.MaxBatch)
	evs := make([]*hook.Event, 0, q.opts.MaxBatch)
	for {
		var first *job
		select {
		case first = <-q.jobs:
		case <-q.stop:
			// Drain what is queued, then exit. Commit no longer admits new jobs once stop is
			// closed, except those racing with it, which the final drain below catches.
			for {
				select {
				case j := <-q.jobs:
					batch = append(batch[:0], j)
					batch = q.gather(batch)
					evs = q.commit(batch, evs)
				default:
					return
				}
			}
		}
		batch = q.gather(append(batch[:0], first))
		evs = q.commit(batch, evs)
	}
}

// gather adds whatever is already waiting, without waiting for more: a lone request is committed
// at once, and under load the batch grows by itself while the previous commit runs.
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

func (q *Queue) commit(batch []*job, evs []*hook.Event) []*hook.Event {
	evs = evs[:0]
	for _, j := range batch {
		evs = append(evs, j.ev)
	}
	err := q.store.InsertBatch(context.Background(), evs)
	for _, j := range batch {
		j.done <- err
	}
	if err == nil && q.opts.Committed != nil {
		q.opts.Committed(evs)
	}
	clear(evs)
	return evs[:0]
}
