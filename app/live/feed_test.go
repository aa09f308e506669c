package live

import (
	"context"
	"errors"
	"testing"
	"time"
)

func TestSubscriberReceivesInOrder(t *testing.T) {
	var f Feed[int]
	s := f.Follow(10)
	defer s.Close()
	f.Publish(1, 2)
	f.Publish(3)
	for want := 1; want <= 3; want++ {
		m, err := s.Next(context.Background())
		if err != nil || m.Event != want || m.Missed != 0 {
			t.Fatalf("got %+v, %v; want %d", m, err, want)
		}
	}
}

func TestSlowSubscriberIsToldWhatItMissed(t *testing.T) {
	var f Feed[int]
	slow, fast := f.Follow(3), f.Follow(100)
	defer slow.Close()
	defer fast.Close()
	done := make(chan struct{})
	go func() {
		for i := 1; i <= 10; i++ {
			f.Publish(i) // must never block on the slow subscriber
		}
		close(done)
	}()
	select {
	case <-done:
	case <-time.After(5 * time.Second):
		t.Fatal("Publish blocked on a slow subscriber")
	}
	var got []Message[int]
	for {
		m, ok, err := slow.TryNext()
		if err != nil || !ok {
			break
		}
		got = append(got, m)
	}
	want := []Message[int]{{Event: 1}, {Event: 2}, {Event: 3}, {Missed: 7}}
	if len(got) != len(want) {
		t.Fatalf("slow subscriber got %+v, want %+v", got, want)
	}
	for i := range want {
		if got[i] != want[i] {
			t.Fatalf("slow subscriber got %+v, want %+v", got, want)
		}
	}
	// After the gap it receives new events again.
	f.Publish(11)
	if m, _ := slow.Next(context.Background()); m.Event != 11 {
		t.Errorf("after the gap got %+v", m)
	}
	for i := 1; i <= 10; i++ {
		if m, _ := fast.Next(context.Background()); m.Event != i {
			t.Fatalf("fast subscriber got %+v, want %d", m, i)
		}
	}
}

func TestCloseEndsNext(t *testing.T) {
	var f Feed[int]
	s := f.Follow(1)
	go s.Close() // while Next waits, or before it does: either way Next must return ErrClosed
	if _, err := s.Next(context.Background()); !errors.Is(err, ErrClosed) {
		t.Errorf("Next after Close = %v", err)
	}
	if f.Subscribers() != 0 {
		t.Error("closed subscription still registered")
	}
	f.Publish(1) // no panic, nobody to deliver to
}
