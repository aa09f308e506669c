package app

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
