package housekeeping

import "time"

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
func (h *Housekeeping) indexLoop() {
	defer h.background.Done()
	lastCount, lastAt := h.committed.Load(), h.opts.Clock.Now()
	chunk := indexChunk
	pause := func(backlog bool) time.Duration {
		count, at := h.committed.Load(), h.opts.Clock.Now()
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
			n, err := h.opts.Store.IndexPending(h.ctx, chunk)
			h.opts.Health.NoteStorage(err)
			if err != nil {
				if h.ctx.Err() == nil {
					h.opts.Log.Error("full-text indexing failed; retrying", "err", err)
					h.sleep(time.Second)
					kick(h.indexKick)
				}
				break
			}
			kick(h.checkpointKick)
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
func (h *Housekeeping) checkpointLoop(journal Journal) {
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
		imported := journal.Imported()
		frames, complete, err := h.opts.Store.Checkpoint(h.ctx)
		switch {
		case err != nil && h.ctx.Err() == nil:
			h.opts.Log.Warn("checkpoint failed; will retry", "err", err)
			kick(h.checkpointKick)
		case complete:
			// What the importer had stored is now durable in the database file: the ingest
			// journal's segments that hold only that can go.
			if err := journal.Checkpointed(imported); err != nil {
				h.opts.Log.Warn("recycle imported journal segments", "err", err)
			}
			if restarts.due(frames) {
				// Writes never stopped long enough for the WAL to start over by itself.
				ok, err := h.opts.Store.RestartWAL(h.ctx, walRestartWait)
				if err != nil && h.ctx.Err() == nil {
					h.opts.Log.Warn("restart the WAL", "err", err)
				}
				restarts.done(frames, ok)
			}
		default:
			kick(h.checkpointKick) // a reader held it back: try again soon
		}
	}
}
