package ingest

import (
	"sync"
	"time"
)

// backlog holds the groups the journal has acknowledged and the importer has not yet put in
// SQLite. The writer never waits on it: a stalled import must not hold up the journal, whose
// answers are what providers wait for. What it holds is bounded instead by its size in bytes,
// which the receiver counts against its memory budget (Queue.Backlog).
type backlog struct {
	mu     sync.Mutex
	groups []*group
	bytes  int64 // the capacity of the buffers of groups taken in and not yet released
	closed bool
	ready  chan struct{} // signalled when a group arrives or the backlog closes
}

func newBacklog() *backlog { return &backlog{ready: make(chan struct{}, 1)} }

// push adds an acknowledged group.
func (b *backlog) push(g *group) {
	b.mu.Lock()
	b.groups = append(b.groups, g)
	b.bytes += g.memory()
	b.mu.Unlock()
	b.signal()
}

// close says no more groups will come; take returns what is left, then nil.
func (b *backlog) close() {
	b.mu.Lock()
	b.closed = true
	b.mu.Unlock()
	b.signal()
}

func (b *backlog) signal() {
	select {
	case b.ready <- struct{}{}:
	default:
	}
}

// size is the memory held by groups not yet released.
func (b *backlog) size() int64 {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.bytes
}

// release gives back a group's memory once it is imported.
func (b *backlog) release(g *group) {
	b.mu.Lock()
	b.bytes -= g.memory()
	b.mu.Unlock()
}

// take waits for a group, then lets more gather for at most delay (less once maxEvents are
// waiting or stop is closed), and returns whole groups of at most maxEvents events (at least
// one group). It returns nil once the backlog is closed and empty.
func (b *backlog) take(maxEvents int, delay time.Duration, stop <-chan struct{}) []*group {
	for {
		b.mu.Lock()
		n, closed := len(b.groups), b.closed
		b.mu.Unlock()
		if n > 0 {
			break
		}
		if closed {
			return nil
		}
		<-b.ready
	}
	if delay <= 0 {
		return b.pop(maxEvents)
	}
	timer := time.NewTimer(delay)
	defer timer.Stop()
	for !b.enough(maxEvents) {
		select {
		case <-b.ready:
		case <-timer.C:
			return b.pop(maxEvents)
		case <-stop:
			return b.pop(maxEvents)
		}
	}
	return b.pop(maxEvents)
}

// enough reports whether maxEvents are waiting, or no more can come.
func (b *backlog) enough(maxEvents int) bool {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.closed {
		return true
	}
	n := 0
	for _, g := range b.groups {
		if n += g.n; n >= maxEvents {
			return true
		}
	}
	return false
}

// pop removes the oldest groups, up to maxEvents events but at least one group.
func (b *backlog) pop(maxEvents int) []*group {
	b.mu.Lock()
	defer b.mu.Unlock()
	n, events := 0, 0
	for n < len(b.groups) && (n == 0 || events+b.groups[n].n <= maxEvents) {
		events += b.groups[n].n
		n++
	}
	out := make([]*group, n)
	copy(out, b.groups)
	b.groups = append(b.groups[:0], b.groups[n:]...)
	return out
}

// memory is what a group holds while it waits: its buffer, or nothing once spilled.
func (g *group) memory() int64 {
	if g.buf == nil {
		return 0
	}
	return int64(cap(*g.buf))
}
