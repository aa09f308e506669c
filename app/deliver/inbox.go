package deliver

import (
	"sync"

	"github.com/hooktray/hooktray/hook"
)

// The inbox's bounds: a worker that falls further behind than this reads its queue from SQLite,
// so memory stays bounded whatever the backlog.
const (
	inboxDeliveries = 4 * batch
	inboxBytes      = 4 << 20
)

// handed is a delivery handed to its worker at the importer's commit, with a copy of its event:
// the importer's events hold the journal's buffers, which are reused once it returns.
type handed struct {
	d  hook.Delivery
	ev hook.Event
}

// key tells a delivery apart from a later one that took its id (SQLite reuses the highest rowid
// once its row is deleted): the id with the time it was queued.
type key struct {
	id      int64
	created int64
}

func keyOf(d hook.Delivery) key { return key{d.ID, d.CreatedAt.UnixNano()} }

// inbox holds what the importer handed a worker since the worker last started reading its queue
// from SQLite. It is what lets a worker that has caught up send a new webhook straight from the
// commit, without reading it back: once a read of the queue found it empty, every delivery
// committed later reaches the inbox, in the order of their ids, unless the inbox was full
// (missed), or the queue changed some other way (a retry by hand, a replay: stale).
type inbox struct {
	mu     sync.Mutex
	items  []handed
	bytes  int
	missed bool // a delivery was not kept: the queue must be read from SQLite
}

// offer keeps d and a copy of ev, or notes that it could not.
func (b *inbox) offer(d hook.Delivery, ev *hook.Event) {
	size := weight(ev)
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.missed {
		return
	}
	if ev.Body == nil && ev.BodyFile != "" || len(b.items) >= inboxDeliveries || b.bytes+size > inboxBytes {
		// A spooled body is stored in parts: the worker reads it back whole.
		b.missed, b.items, b.bytes = true, nil, 0
		return
	}
	b.items = append(b.items, handed{d: d, ev: detach(ev)})
	b.bytes += size
}

// stale notes that the queue changed in a way the inbox does not show.
func (b *inbox) stale() {
	b.mu.Lock()
	b.missed, b.items, b.bytes = true, nil, 0
	b.mu.Unlock()
}

// reset empties the inbox before the worker reads its queue from SQLite: what is offered from
// now on was committed after the read began, or is in what it returns.
func (b *inbox) reset() {
	b.mu.Lock()
	b.missed, b.items, b.bytes = false, nil, 0
	b.mu.Unlock()
}

// take returns up to n handed deliveries, oldest first, and whether the inbox can be trusted
// (nothing missed since the last reset).
func (b *inbox) take(n int) ([]handed, bool) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.missed {
		return nil, false
	}
	n = min(n, len(b.items))
	out := make([]handed, n)
	copy(out, b.items)
	for _, h := range out {
		b.bytes -= weight(&h.ev)
	}
	b.items = append(b.items[:0], b.items[n:]...)
	return out, true
}

// weight is about what an event kept in the inbox holds: its payloads and a share for the rest.
func weight(ev *hook.Event) int { return len(ev.Body) + len(ev.Decrypted) + 512 }

// detach copies what of ev lives in the importer's buffers (the body and the decrypted payload;
// its strings are copies already), as the store would return it.
func detach(ev *hook.Event) hook.Event {
	c := *ev
	c.Body, c.Decrypted, c.Header = clone(ev.Body), clone(ev.Decrypted), ev.Header.Clone()
	c.Forward, c.Queued, c.BodyFile = nil, nil, ""
	return c
}

func clone(b []byte) []byte {
	if b == nil {
		return nil
	}
	return append([]byte{}, b...)
}

// recent remembers the deliveries a worker last sent from SQLite reads, so that an offer the
// importer made late (after the worker had already read, sent and recorded that delivery) is not
// sent twice.
type recent struct {
	ring [inboxDeliveries]key
	next int
	set  map[key]struct{}
}

func (r *recent) add(k key) {
	if r.set == nil {
		r.set = make(map[key]struct{}, len(r.ring))
	}
	if old := r.ring[r.next]; old != (key{}) {
		delete(r.set, old)
	}
	r.ring[r.next] = k
	r.next = (r.next + 1) % len(r.ring)
	r.set[k] = struct{}{}
}

func (r *recent) has(k key) bool {
	_, ok := r.set[k]
	return ok
}
