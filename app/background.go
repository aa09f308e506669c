package app

import (
	"time"

	"github.com/hooktray/hooktray/hook"
)

// indexChunk is how many events one indexing transaction takes: a few milliseconds of work, so
// ingest never waits long behind it.
const indexChunk = 256

// indexLoop keeps the full-text index following new events. It catches up at start (events a
// crash left unindexed), then runs when ingest says there is something new.
func (h *Hub) indexLoop() {
	defer h.background.Done()
	for {
		for {
			n, err := h.store.IndexPending(h.ctx, indexChunk)
			h.noteStorageError(err)
			if err != nil {
				if h.ctx.Err() == nil {
					h.log.Error("full-text indexing failed; retrying", "err", err)
					h.sleep(time.Second)
					select {
					case h.indexKick <- struct{}{}:
					default:
					}
				}
				break
			}
			h.kickCheckpoint()
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
		}
	}
}

// retentionLoop prunes the history by the retention limits, soon after start and then
// periodically.
func (h *Hub) retentionLoop() {
	defer h.background.Done()
	next := h.opts.Clock.After(5 * time.Second)
	for {
		select {
		case <-h.ctx.Done():
			return
		case <-next:
		}
		h.dropExpiredSecrets()
		n, err := h.store.Prune(h.ctx, *h.opts.Retention, h.opts.Clock.Now(), func() { h.sleep(5 * time.Millisecond) })
		h.noteStorageError(err)
		switch {
		case err != nil && h.ctx.Err() == nil:
			h.log.Error("retention failed; will retry", "err", err)
		case n > 0:
			h.log.Info("retention removed old events", "events", n)
			h.reloadActivity()
			h.kickCheckpoint()
			h.changes.Publish(hook.HistoryChanged)
		}
		next = h.opts.Clock.After(h.opts.RetentionEvery)
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
// checkpoints by itself, so ingest commits stay short). It runs after writes, at most four times
// a second, and sleeps while nothing is written.
func (h *Hub) checkpointLoop() {
	defer h.background.Done()
	for {
		select {
		case <-h.ctx.Done():
			return
		case <-h.checkpointKick:
		}
		if !h.sleep(250 * time.Millisecond) {
			return
		}
		if _, err := h.store.Checkpoint(h.ctx); err != nil && h.ctx.Err() == nil {
			h.log.Warn("checkpoint failed; will retry", "err", err)
			h.kickCheckpoint()
		}
	}
}

// kickCheckpoint asks for a checkpoint soon.
func (h *Hub) kickCheckpoint() {
	select {
	case h.checkpointKick <- struct{}{}:
	default:
	}
}

// dropExpiredSecrets ends rotation grace periods: expired secrets leave the database and the
// receiver's memory.
func (h *Hub) dropExpiredSecrets() {
	n, err := h.store.DeleteExpiredSecrets(h.ctx, h.opts.Clock.Now())
	if err != nil || n == 0 {
		return
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	if err := h.reloadEndpoints(h.ctx); err != nil && h.ctx.Err() == nil {
		h.log.Error("reload endpoints after a rotation grace ended", "err", err)
	}
}
