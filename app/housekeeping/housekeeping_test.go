package housekeeping

import (
	"testing"
	"time"
)

// The indexer yields to a burst and follows a trickle.
func TestIndexPause(t *testing.T) {
	for _, tc := range []struct {
		name      string
		committed int64
		elapsed   time.Duration
		backlog   bool
		want      time.Duration
	}{
		{"a burst: one chunk a second", 20_000, time.Second, true, indexBusyPause},
		{"a burst, caught up: still one chunk a second", 600, time.Second, false, indexBusyPause},
		{"a short busy interval", 100, 100 * time.Millisecond, false, indexBusyPause},
		{"a backlog while quiet: catch up", 10, time.Second, true, indexCatchUp},
		{"a trickle: let it settle", 200, time.Second, false, indexSettle},
		{"no time passed (a stopped clock)", 5000, 0, true, indexCatchUp},
	} {
		if got := indexPause(tc.committed, tc.elapsed, tc.backlog); got != tc.want {
			t.Errorf("%s: indexPause(%d, %s, %v) = %s, want %s", tc.name, tc.committed, tc.elapsed, tc.backlog, got, tc.want)
		}
	}
}

// The WAL is made to start over past 64 MiB; after a failed try (a reader stayed in it) the next
// waits for another 64 MiB, so tries cannot stall writers every checkpoint.
func TestWALRestartsBackOffAfterAFailure(t *testing.T) {
	var r walRestarts
	steps := []struct {
		frames int
		due    bool
		ok     bool // the try's outcome, when due
	}{
		{walRestartFrames, false, false},
		{walRestartFrames + 1, true, false},    // a reader stayed: next at 2×+1
		{walRestartFrames + 900, false, false}, // not yet
		{2*walRestartFrames + 1, false, false}, // the bar is frames+limit of the failed try
		{2*walRestartFrames + 2, true, true},   // started over
		{walRestartFrames + 1, true, true},     // and the bar is back at the limit
	}
	for i, st := range steps {
		due := r.due(st.frames)
		if due != st.due {
			t.Fatalf("step %d: due(%d) = %v, want %v", i, st.frames, due, st.due)
		}
		if due {
			r.done(st.frames, st.ok)
		}
	}
}
