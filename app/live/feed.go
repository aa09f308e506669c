// Package live fans newly stored events out to whoever watches: the GUI, the SSE stream, tests.
//
// Publishing never blocks. Each subscriber has a bounded buffer; one that falls behind loses the
// events that do not fit and is then told how many it missed, so it can reload from storage.
package live

import (
	"context"
	"sync"
)

// Message is what a subscriber receives: either an event or, after an overflow, how many events
// it missed (Missed > 0, Event zero).
type Message[T any] struct {
	Event  T
	Missed int
}

// Feed publishes values of type T to subscribers. The zero value is ready to use.
type Feed[T any] struct {
	mu   sync.Mutex
	subs map[*Subscription[T]]struct{}
}

// Follow returns a subscription that buffers up to size messages (minimum 1). Close it when
// done.
func (f *Feed[T]) Follow(size int) *Subscription[T] {
	s := &Subscription[T]{feed: f, buf: make([]T, 0, max(size, 1)), wake: make(chan struct{}, 1)}
	f.mu.Lock()
	if f.subs == nil {
		f.subs = map[*Subscription[T]]struct{}{}
	}
	f.subs[s] = struct{}{}
	f.mu.Unlock()
	return s
}

// Publish hands vs to every subscriber without waiting for any of them.
func (f *Feed[T]) Publish(vs ...T) {
	if len(vs) == 0 {
		return
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	for s := range f.subs {
		s.push(vs)
	}
}

// Subscribers is how many subscriptions are open.
func (f *Feed[T]) Subscribers() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return len(f.subs)
}

// Subscription is one subscriber's view of a Feed.
type Subscription[T any] struct {
	feed *Feed[T]
	wake chan struct{} // signalled when something arrives

	mu       sync.Mutex
	buf      []T // FIFO; buf[head:] is pending
	head     int
	overflow bool // dropping until the subscriber has drained and been told
	missed   int
	closed   bool
}

func (s *Subscription[T]) push(vs []T) {
	s.mu.Lock()
	for _, v := range vs {
		if s.overflow {
			s.missed++
			continue
		}
		if s.head > 0 && len(s.buf) == cap(s.buf) {
			n := copy(s.buf, s.buf[s.head:])
			clear(s.buf[n:])
			s.buf, s.head = s.buf[:n], 0
		}
		if len(s.buf) == cap(s.buf) {
			// Keep order honest: once something is lost, drop everything until the subscriber
			// has read what it has and learned about the gap.
			s.overflow, s.missed = true, 1
			continue
		}
		s.buf = append(s.buf, v)
	}
	s.mu.Unlock()
	select {
	case s.wake <- struct{}{}:
	default:
	}
}

// Next waits for the next message. It returns ctx's error when ctx ends, and ErrClosed after Close.
func (s *Subscription[T]) Next(ctx context.Context) (Message[T], error) {
	for {
		if m, ok, err := s.TryNext(); ok || err != nil {
			return m, err
		}
		select {
		case <-s.wake:
		case <-ctx.Done():
			return Message[T]{}, ctx.Err()
		}
	}
}

// TryNext returns the next message if one is waiting.
func (s *Subscription[T]) TryNext() (Message[T], bool, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return Message[T]{}, false, ErrClosed
	}
	if s.head < len(s.buf) {
		v := s.buf[s.head]
		var zero T
		s.buf[s.head] = zero
		s.head++
		if s.head == len(s.buf) {
			s.buf, s.head = s.buf[:0], 0
		}
		return Message[T]{Event: v}, true, nil
	}
	if s.overflow {
		n := s.missed
		s.overflow, s.missed = false, 0
		return Message[T]{Missed: n}, true, nil
	}
	return Message[T]{}, false, nil
}

// Drain takes everything waiting at once: the values in order, then how many were missed since
// the last call because the subscriber fell behind (0 if none). Use it after Ready.
func (s *Subscription[T]) Drain() (vs []T, missed int, err error) {
	for {
		m, ok, err := s.TryNext()
		switch {
		case err != nil:
			return vs, missed, err
		case !ok:
			return vs, missed, nil
		case m.Missed > 0:
			missed += m.Missed
		default:
			vs = append(vs, m.Event)
		}
	}
}

// Ready is signalled whenever messages may be waiting; use it with TryNext to drain in batches.
func (s *Subscription[T]) Ready() <-chan struct{} { return s.wake }

// Close ends the subscription; Next returns ErrClosed afterwards.
func (s *Subscription[T]) Close() {
	s.feed.mu.Lock()
	delete(s.feed.subs, s)
	s.feed.mu.Unlock()
	s.mu.Lock()
	s.closed = true
	s.mu.Unlock()
	select {
	case s.wake <- struct{}{}:
	default:
	}
}

type closedError struct{}

func (closedError) Error() string { return "subscription closed" }

// ErrClosed is returned by Next after Close.
var ErrClosed error = closedError{}
