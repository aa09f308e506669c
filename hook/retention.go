package hook

import "time"

// Retention bounds the history. A zero field means no limit of that kind, so the zero Retention
// keeps everything forever.
type Retention struct {
	MaxAge    time.Duration // events older than this are removed
	MaxEvents int64         // only the newest MaxEvents are kept
	MaxBytes  int64         // the oldest events go until the database's used pages fit
}

// KeepForever is the retention that removes nothing.
var KeepForever = Retention{}

// DefaultRetention keeps everything for 30 days.
var DefaultRetention = Retention{MaxAge: 30 * 24 * time.Hour}

// Forever reports whether r removes nothing.
func (r Retention) Forever() bool { return r == KeepForever }

// ClockSlack is how far past the newest stored event the clock may be for age limits to be
// believed. A clock set ahead (by a year, say) would otherwise make the whole history, and the
// queue with it, look expired at once.
const ClockSlack = 24 * time.Hour

// ForClock is r as it may be applied at now, given when the newest event was stored: without its
// age limit while now is more than ClockSlack past it (believed is false then), until an event
// stored with the clock as it is agrees with it. Count and size limits always apply.
func (r Retention) ForClock(now, newest time.Time) (_ Retention, believed bool) {
	if r.MaxAge > 0 && !newest.IsZero() && now.Sub(newest) > ClockSlack {
		r.MaxAge = 0
		return r, false
	}
	return r, true
}
