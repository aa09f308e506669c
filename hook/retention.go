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
