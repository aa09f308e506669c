// Package clock lets what schedules (backoff, notifications, retention, activity) take its time
// from a Clock, so tests assert on the schedule with a Fake instead of racing the wall clock.
package clock

import (
	"sort"
	"sync"
	"time"
)

// Clock tells the time and wakes after a while.
type Clock interface {
	Now() time.Time
	// AfterFunc calls f in its own goroutine after d; Stop on the result cancels it.
	AfterFunc(d time.Duration, f func()) Timer
	// After returns a channel that receives the time after d.
	After(d time.Duration) <-chan time.Time
	// Monotonic is the time elapsed since an arbitrary origin, which a step of the wall clock
	// (set by hand, or by NTP) does not move. Waits measured on it take as long as they asked.
	Monotonic() time.Duration
}

// Due turns a wall-clock time at, as persisted by an earlier run or read from the database, into
// a deadline on c's monotonic time: at−now from now, but never more than longest (the most that was
// asked), so a clock stepped back cannot stretch a wait, and never less than nothing.
func Due(c Clock, at time.Time, longest time.Duration) time.Duration {
	return c.Monotonic() + max(min(at.Sub(c.Now()), longest), 0)
}

// Left is how long remains until a deadline on c's monotonic time (≤ 0: due).
func Left(c Clock, deadline time.Duration) time.Duration { return deadline - c.Monotonic() }

// Timer is a pending AfterFunc.
type Timer interface {
	// Stop cancels the call; it reports whether it did (false if it already ran or was stopped).
	Stop() bool
}

// System is the real clock.
type System struct{}

// Now is time.Now.
func (System) Now() time.Time { return time.Now() }

// AfterFunc is time.AfterFunc.
func (System) AfterFunc(d time.Duration, f func()) Timer { return time.AfterFunc(d, f) }

// After is time.After.
func (System) After(d time.Duration) <-chan time.Time { return time.After(d) }

// origin is where System's monotonic time starts: a reading of the monotonic clock, not state
// anything changes.
var origin = time.Now()

// Monotonic is the monotonic time since the process started.
func (System) Monotonic() time.Duration { return time.Since(origin) }

// Or returns c, or the system clock when c is nil: for option structs whose zero value is the
// default.
func Or(c Clock) Clock {
	if c == nil {
		return System{}
	}
	return c
}

// Fake is a clock that moves only when told to. Waits and timers fire, in order, when Advance
// moves the time past them.
type Fake struct {
	mu      sync.Mutex
	now     time.Time
	mono    time.Duration // moved by Advance only: Step models a wall-clock step
	pending []*fakeTimer
	waiting chan struct{} // signalled whenever something starts waiting
}

// NewFake returns a fake clock set to start.
func NewFake(start time.Time) *Fake {
	return &Fake{now: start, waiting: make(chan struct{}, 1)}
}

type fakeTimer struct {
	c    *Fake
	at   time.Time
	fire func(time.Time)
	done bool
}

func (t *fakeTimer) Stop() bool {
	t.c.mu.Lock()
	defer t.c.mu.Unlock()
	if t.done {
		return false
	}
	t.done = true
	for i, p := range t.c.pending {
		if p == t {
			t.c.pending = append(t.c.pending[:i], t.c.pending[i+1:]...)
			break
		}
	}
	return true
}

// Now is the fake time.
func (c *Fake) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *Fake) add(d time.Duration, fire func(time.Time)) *fakeTimer {
	c.mu.Lock()
	t := &fakeTimer{c: c, at: c.now.Add(d), fire: fire}
	c.pending = append(c.pending, t)
	c.mu.Unlock()
	select {
	case c.waiting <- struct{}{}:
	default:
	}
	return t
}

// AfterFunc calls f (in its own goroutine) once the fake time has moved d on.
func (c *Fake) AfterFunc(d time.Duration, f func()) Timer {
	return c.add(d, func(time.Time) { go f() })
}

// After returns a channel that receives once the fake time has moved d on.
func (c *Fake) After(d time.Duration) <-chan time.Time {
	ch := make(chan time.Time, 1)
	c.add(d, func(now time.Time) { ch <- now })
	return ch
}

// Monotonic is the fake time elapsed, which Advance moves and Step does not.
func (c *Fake) Monotonic() time.Duration {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.mono
}

// Step moves the wall time by d (back when negative), as setting the clock does: no time passes,
// so nothing falls due and the monotonic time stays.
func (c *Fake) Step(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
	for _, t := range c.pending {
		t.at = t.at.Add(d) // timers measure elapsed time, not the wall
	}
}

// Advance moves the time on by d, firing what falls due, earliest first.
func (c *Fake) Advance(d time.Duration) {
	c.mu.Lock()
	c.mono += d
	end := c.now.Add(d)
	for {
		sort.SliceStable(c.pending, func(i, j int) bool { return c.pending[i].at.Before(c.pending[j].at) })
		if len(c.pending) == 0 || c.pending[0].at.After(end) {
			break
		}
		t := c.pending[0]
		c.pending = c.pending[1:]
		t.done = true
		if t.at.After(c.now) {
			c.now = t.at
		}
		t.fire(c.now)
	}
	c.now = end
	c.mu.Unlock()
}

// Pending returns how long from now each waiting timer is due, soonest first.
func (c *Fake) Pending() []time.Duration {
	c.mu.Lock()
	defer c.mu.Unlock()
	out := make([]time.Duration, len(c.pending))
	for i, t := range c.pending {
		out[i] = t.at.Sub(c.now)
	}
	sort.Slice(out, func(i, j int) bool { return out[i] < out[j] })
	return out
}

// WaitForWaiters blocks until at least n timers are pending, so a test advances the time only
// once the code under test is waiting on it.
func (c *Fake) WaitForWaiters(n int) {
	for {
		c.mu.Lock()
		have := len(c.pending)
		c.mu.Unlock()
		if have >= n {
			return
		}
		select {
		case <-c.waiting:
		case <-time.After(10 * time.Millisecond): // a re-check, not a timing assumption
		}
	}
}
