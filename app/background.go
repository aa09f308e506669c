package app

import (
	"time"
)

// indexChunk is how many events one indexing transaction takes: a few milliseconds of work, so
// ingest never waits long behind it.
const indexChunk = 256

// indexLoop keeps the full-text index following new events. It runs when ingest says there is
// something new, and polls slowly in case a kick was missed (e.g. events left from a crash).
func (h *Hub) indexLoop() {
	defer h.background.Done()
	poll := time.NewTicker(5 * time.Second)
	defer poll.Stop()
	for {
		for {
			n, err := h.store.IndexPending(h.ctx, indexChunk)
			if err != nil {
				if h.ctx.Err() == nil {
					h.log.Error("full-text indexing failed; retrying", "err", err)
				}
				break
			}
			if n < indexChunk {
				break
			}
			// Leave the writer to ingest for a moment between chunks of a backlog.
			if !h.sleep(2 * time.Millisecond) {
				return
			}
		}
		select {
		case <-h.ctx.Done():
			return
		case <-h.indexKick:
			// Let a burst accumulate so one chunk indexes many events.
			if !h.sleep(50 * time.Millisecond) {
				return
			}
		case <-poll.C:
		}
	}
}

// retentionLoop prunes the history by the retention limits, soon after start and then
// periodically.
func (h *Hub) retentionLoop() {
	defer h.background.Done()
	timer := time.NewTimer(5 * time.Second)
	defer timer.Stop()
	for {
		select {
		case <-h.ctx.Done():
			return
		case <-timer.C:
		}
		n, err := h.store.Prune(h.ctx, h.opts.Retention, time.Now(), func() { h.sleep(5 * time.Millisecond) })
		switch {
		case err != nil && h.ctx.Err() == nil:
			h.log.Error("retention failed; will retry", "err", err)
		case n > 0:
			h.log.Info("retention removed old events", "events", n)
			h.reloadActivity()
			h.changes.Publish(HistoryChanged)
		}
		timer.Reset(h.opts.RetentionEvery)
	}
}

// sleep waits d, or returns false early when the hub stops.
func (h *Hub) sleep(d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-h.ctx.Done():
		return false
	case <-t.C:
		return true
	}
}

// checkpointLoop moves the WAL into the database file in the background (the writer never
// checkpoints by itself, so ingest commits stay short).
func (h *Hub) checkpointLoop() {
	defer h.background.Done()
	tick := time.NewTicker(250 * time.Millisecond)
	defer tick.Stop()
	for {
		select {
		case <-h.ctx.Done():
			return
		case <-tick.C:
		}
		if _, err := h.store.Checkpoint(h.ctx); err != nil && h.ctx.Err() == nil {
			h.log.Warn("checkpoint failed; will retry", "err", err)
		}
	}
}
