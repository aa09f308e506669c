package clock

import (
	"sync/atomic"
	"testing"
	"time"

	"github.com/hooktray/hooktray/internal/testutil"
)

func TestFakeFiresWhatFallsDueInOrder(t *testing.T) {
	start := time.Date(2026, 12, 1, 12, 0, 0, 0, time.UTC)
	c := NewFake(start)
	late, early := c.After(2*time.Second), c.After(time.Second)
	var fired atomic.Int32
	stopped := c.AfterFunc(time.Second, func() { fired.Add(100) })
	c.AfterFunc(1500*time.Millisecond, func() { fired.Add(1) })
	if !stopped.Stop() || stopped.Stop() {
		t.Error("Stop should cancel once, then report there was nothing to cancel")
	}
	if p := c.Pending(); len(p) != 3 || p[0] != time.Second || p[2] != 2*time.Second {
		t.Fatalf("pending %v", p)
	}
	c.Advance(1999 * time.Millisecond)
	if at := <-early; !at.Equal(start.Add(time.Second)) {
		t.Errorf("the 1 s wait fired at %v", at)
	}
	select {
	case <-late:
		t.Fatal("the 2 s wait fired at 1.999 s")
	default:
	}
	c.Advance(time.Millisecond)
	if at := <-late; !at.Equal(start.Add(2 * time.Second)) {
		t.Errorf("the 2 s wait fired at %v", at)
	}
	c.WaitForWaiters(0)
	// AfterFunc runs in its own goroutine, as time.AfterFunc does.
	testutil.Eventually(t, "the 1.5 s function to run, and only it", func() bool { return fired.Load() == 1 })
	if !c.Now().Equal(start.Add(2 * time.Second)) {
		t.Errorf("now %v", c.Now())
	}
}

func TestOrDefaultsToTheSystemClock(t *testing.T) {
	if _, ok := Or(nil).(System); !ok {
		t.Error("Or(nil) is not the system clock")
	}
	f := NewFake(time.Time{})
	if Or(f) != Clock(f) {
		t.Error("Or replaced a given clock")
	}
}
