package ui

import "time"

// reloader folds the reloads a window is asked for in a burst (every delivery attempt, every
// change a feed announces) into one at a time, at most one per gap: a load that is asked for
// while one runs runs once more after it. request is called on the UI goroutine.
type reloader struct {
	do   func(func())  // runs a function on the UI goroutine
	load func() read   // on the UI goroutine: what to read, with what the window shows now
	gap  time.Duration // the least time between two loads' starts

	running bool      // a load is under way or scheduled
	again   bool      // asked for during it: load once more after
	started time.Time // when the last load started
}

// request asks for a reload.
func (r *reloader) request() {
	if r.running {
		r.again = true
		return
	}
	r.running = true
	if wait := r.gap - time.Since(r.started); wait > 0 {
		time.AfterFunc(wait, func() { r.do(func() { r.running = false; r.request() }) })
		return
	}
	r.started = time.Now()
	read := r.load()
	go func() {
		show := read()
		r.do(func() {
			r.running = false
			show()
			if r.again {
				r.again = false
				r.request()
			}
		})
	}()
}

// read reads off the UI goroutine and returns what shows its result, on the UI goroutine.
type read func() (show func())
