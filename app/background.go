package app

import (
	"time"

	"github.com/hooktray/hooktray/clock"
	"github.com/hooktray/hooktray/hook"
)

// The full-text index is derived from the events, so it yields to ingest: while webhooks arrive
// faster than indexBusyRate a second, it indexes one small chunk per indexBusyPause (search lags
// behind a burst by at most the burst, and catches up at full speed once it ends); otherwise it
// follows new events within indexSettle.
const (
	// indexChunk is how many events one indexing transaction takes when ingest is quiet: large
	// enough that FTS5 writes few segments.
	indexChunk = 1024
	// indexBusyChunk is the chunk while ingest is busy: it holds SQLite's one writer for a few
	// milliseconds, so the importer (and with it, how soon a webhook shows) never waits long.
	indexBusyChunk = 128
	indexBusyRate  = 500                    // events a second
	indexBusyPause = 125 * time.Millisecond // with indexBusyChunk: 1,024 events a second
	indexSettle    = 50 * time.Millisecond  // lets a trickle accumulate into one chunk
	indexCatchUp   = 2 * time.Millisecond   // between chunks of a backlog while ingest is quiet
)

// indexPause is how long the indexer waits before its next chunk, given how many events were
// committed in the last elapsed and whether the previous chunk left a backlog.
func indexPause(committed int64, elapsed time.Duration, backlog bool) time.Duration {
	busy := elapsed > 0 && float64(committed) > indexBusyRate*elapsed.Seconds()
	switch {
	case busy:
		return indexBusyPause
	case backlog:
		return indexCatchUp
	default:
		return indexSettle
	}
}

// indexLoop keeps the full-text index following new events. It catches up at start (events a
// crash left unindexed), then runs when ingest says there is something new, at the pace
// indexPause sets.
func (h *Hub) indexLoop() {
	defer h.background.Done()
	lastCount, lastAt := h.committedEvents.Load(), h.opts.Clock.Now()
	chunk := indexChunk
	pause := func(backlog bool) time.Duration {
		count, at := h.committedEvents.Load(), h.opts.Clock.Now()
		d := indexPause(count-lastCount, at.Sub(lastAt), backlog)
		lastCount, lastAt = count, at
		chunk = indexChunk
		if d == indexBusyPause {
			chunk = indexBusyChunk
		}
		return d
	}
	for {
		for {
			n, err := h.store.IndexPending(h.ctx, chunk)
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
			if n < chunk {
				break
			}
			if !h.sleep(pause(true)) {
				return
			}
		}
		select {
		case <-h.ctx.Done():
			return
		case <-h.indexKick:
			if !h.sleep(pause(false)) {
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
	distrusted := false // the clock was last found too far ahead of the history to prune by age
	for {
		select {
		case <-h.ctx.Done():
			return
		case <-next:
		}
		h.dropExpiredSecrets()
		n, err := h.prune(&distrusted)
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

// prune applies the retention limits once. Age limits wait while the clock is more than a day ahead
// of the newest event (set wrong, or stepped): a clock a year ahead would otherwise delete the whole
// history at once. *distrusted remembers that, so the log says it once and says when it ends.
func (h *Hub) prune(distrusted *bool) (int64, error) {
	now := h.opts.Clock.Now()
	newest, _, err := h.store.NewestEventTime(h.ctx)
	if err != nil {
		return 0, err
	}
	r, believed := h.opts.Retention.ForClock(now, newest)
	switch {
	case !believed && !*distrusted:
		h.log.Warn("the clock is more than a day ahead of the newest webhook; events are not removed by age until one arrives with the clock as it is now",
			"now", now.Format(time.RFC3339), "newest_event", newest.Format(time.RFC3339))
	case believed && *distrusted:
		h.log.Info("the clock agrees with the history again; events are removed by age as set")
	}
	*distrusted = !believed
	return h.store.Prune(h.ctx, r, now, func() { h.sleep(5 * time.Millisecond) })
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

// The WAL starts over only when a transaction begins with all of it copied into the database
// file, which continuous imports never allow: past walRestartFrames (64 MiB of 16 KiB pages, the
// size the file is trimmed to) the checkpointer makes it start over, holding writers for as long
// as that takes (copying the frames since the last checkpoint: about 25 ms under wrk's load) and
// waiting at most walRestartWait for readers. Ingest answers meanwhile: only the import, and
// with it visibility, waits. Without it the WAL grew by 35 MB a second of full load.
const (
	walRestartFrames = 4096
	walRestartWait   = 100 * time.Millisecond
)

// walRestarts decides when the checkpointer tries to make the WAL start over. Each try holds
// writers for up to walRestartWait when a reader stays in the WAL, so after a failed one the next
// waits until the WAL has grown by another walRestartFrames: a stream of readers (forwarding
// workers polling their queues) cannot turn the tries into a stall every checkpoint.
type walRestarts struct{ next int }

// due says whether a WAL of frames should be made to start over now.
func (r *walRestarts) due(frames int) bool {
	if r.next == 0 {
		r.next = walRestartFrames
	}
	return frames > r.next
}

// done records a try at frames and whether the WAL was left to start over.
func (r *walRestarts) done(frames int, ok bool) {
	r.next = walRestartFrames
	if !ok {
		r.next = frames + walRestartFrames
	}
}

// checkpointLoop moves the WAL into the database file in the background (the writer never
// checkpoints by itself, so ingest commits stay short). It runs after writes, at most four times
// a second, and sleeps while nothing is written. A complete checkpoint also makes what ingest
// imported durable, which retires the ingest journal behind it.
func (h *Hub) checkpointLoop() {
	defer h.background.Done()
	var restarts walRestarts
	for {
		select {
		case <-h.ctx.Done():
			return
		case <-h.checkpointKick:
		}
		if !h.sleep(250 * time.Millisecond) {
			return
		}
		imported := h.queue.Imported()
		frames, complete, err := h.store.Checkpoint(h.ctx)
		switch {
		case err != nil && h.ctx.Err() == nil:
			h.log.Warn("checkpoint failed; will retry", "err", err)
			h.kickCheckpoint()
		case complete:
			// What the importer had stored is now durable in the database file: the ingest
			// journal's segments that hold only that can go.
			if err := h.queue.Checkpointed(imported); err != nil {
				h.log.Warn("recycle imported journal segments", "err", err)
			}
			if restarts.due(frames) {
				// Writes never stopped long enough for the WAL to start over by itself.
				ok, err := h.store.RestartWAL(h.ctx, walRestartWait)
				if err != nil && h.ctx.Err() == nil {
					h.log.Warn("restart the WAL", "err", err)
				}
				restarts.done(frames, ok)
			}
		default:
			h.kickCheckpoint() // a reader held it back: try again soon
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
// receiver's memory. A grace period is measured on the monotonic clock from when it is first seen
// (clock.Due), so a clock set back cannot keep an old secret valid longer than RotationGrace.
func (h *Hub) dropExpiredSecrets() {
	n, err := h.store.DeleteExpiredSecrets(h.ctx, h.opts.Clock.Now())
	if err != nil {
		return
	}
	expiring, err := h.store.ExpiringSecrets(h.ctx)
	if err != nil {
		return
	}
	var over []int64
	h.mu.Lock()
	for id, at := range expiring {
		due, ok := h.secretGrace[id]
		if !ok {
			due = clock.Due(h.opts.Clock, at, RotationGrace)
			h.secretGrace[id] = due
		}
		if clock.Left(h.opts.Clock, due) <= 0 {
			over = append(over, id)
		}
	}
	for id := range h.secretGrace {
		if _, ok := expiring[id]; !ok {
			delete(h.secretGrace, id)
		}
	}
	h.mu.Unlock()
	if err := h.store.DeleteSecrets(h.ctx, over); err != nil {
		return
	}
	if n+int64(len(over)) == 0 {
		return
	}
	// Rare (an hour after a rotation): every endpoint is read again, as at start.
	h.mu.Lock()
	defer h.mu.Unlock()
	if err := h.loadEndpoints(h.ctx); err != nil && h.ctx.Err() == nil {
		h.log.Error("reload endpoints after a rotation grace ended", "err", err)
	}
	h.changes.Publish(hook.EndpointsChanged)
}
