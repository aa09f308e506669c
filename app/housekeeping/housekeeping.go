// Package housekeeping keeps the history in shape in the background, out of ingest's way: the
// full-text indexer, the WAL checkpointer (which also retires the ingest journal behind it),
// retention with the end of secrets' rotation grace, and an integrity check that ran out of time
// at open.
package housekeeping

import (
	"context"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"github.com/hooktray/hooktray/app/live"
	"github.com/hooktray/hooktray/clock"
	"github.com/hooktray/hooktray/hook"
)

// Store is the database: *storage.Store.
type Store interface {
	IndexPending(ctx context.Context, max int) (int, error)
	Checkpoint(ctx context.Context) (frames int, complete bool, err error)
	RestartWAL(ctx context.Context, wait time.Duration) (bool, error)
	Prune(ctx context.Context, r hook.Retention, now time.Time, pause func()) (int64, error)
	NewestEventTime(ctx context.Context) (time.Time, bool, error)
	NeedsCheck() bool
	CheckIntegrity(ctx context.Context) error
}

// Journal is the ingest journal, whose imported segments a complete checkpoint retires:
// *ingest.Queue.
type Journal interface {
	Imported() uint64
	Checkpointed(seq uint64) error
}

// Secrets ends rotation grace periods (endpoints.Service).
type Secrets interface{ DropExpiredSecrets(ctx context.Context) }

// Reporter hears storage errors.
type Reporter interface{ NoteStorage(err error) }

// Options configure the housekeeping; Store, Health, Changes and Secrets are required.
type Options struct {
	Store     Store
	Secrets   Secrets
	Clock     clock.Clock
	Log       *slog.Logger
	Health    Reporter
	Changes   *live.Feed[hook.Change] // HistoryChanged is published after retention removed events
	Retention hook.Retention
	// RetentionEvery is how often retention runs (default 1 min).
	RetentionEvery time.Duration
	// Pruned, if set, hears that retention removed events (the endpoints count theirs again).
	Pruned func()
}

// Housekeeping runs the background loops.
type Housekeeping struct {
	opts Options

	indexKick      chan struct{}
	checkpointKick chan struct{} // signalled after writes; the checkpointer sleeps otherwise
	// committed counts events stored since start: the indexer reads ingest's pace from it.
	committed atomic.Int64

	ctx        context.Context
	cancel     context.CancelFunc
	background sync.WaitGroup
}

// New returns the housekeeping, idle until Start.
func New(opts Options) *Housekeeping {
	opts.Clock = clock.Or(opts.Clock)
	if opts.Log == nil {
		opts.Log = slog.Default()
	}
	if opts.RetentionEvery <= 0 {
		opts.RetentionEvery = time.Minute
	}
	h := &Housekeeping{opts: opts, indexKick: make(chan struct{}, 1), checkpointKick: make(chan struct{}, 1)}
	h.ctx, h.cancel = context.WithCancel(context.Background())
	return h
}

// Start starts the loops; journal is the ingest queue, opened after New (it tells Committed).
func (h *Housekeeping) Start(journal Journal) {
	if h.opts.Store.NeedsCheck() {
		h.background.Add(1)
		go func() {
			defer h.background.Done()
			// The check at open ran out of time on a large history: finish it, out of the way.
			if err := h.opts.Store.CheckIntegrity(h.ctx); err != nil && h.ctx.Err() == nil {
				h.opts.Health.NoteStorage(err)
			}
		}()
	}
	h.background.Add(3)
	go h.indexLoop()
	go h.retentionLoop()
	go h.checkpointLoop(journal)
}

// Stop ends the loops and waits for them.
func (h *Housekeeping) Stop() {
	h.cancel()
	h.background.Wait()
}

// Committed hears newly stored events: one of ingest's committed callbacks, so it must not block.
func (h *Housekeeping) Committed(evs []*hook.Event) {
	h.committed.Add(int64(len(evs)))
	kick(h.indexKick)
	kick(h.checkpointKick)
}

// kick signals c without waiting.
func kick(c chan struct{}) {
	select {
	case c <- struct{}{}:
	default:
	}
}

// sleep waits d, or returns false early when housekeeping stops.
func (h *Housekeeping) sleep(d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-h.ctx.Done():
		return false
	case <-t.C:
		return true
	}
}

// retentionLoop prunes the history by the retention limits, soon after start and then
// periodically; each round also ends the rotation grace periods that are over.
func (h *Housekeeping) retentionLoop() {
	defer h.background.Done()
	next := h.opts.Clock.After(5 * time.Second)
	distrusted := false // the clock was last found too far ahead of the history to prune by age
	for {
		select {
		case <-h.ctx.Done():
			return
		case <-next:
		}
		h.opts.Secrets.DropExpiredSecrets(h.ctx)
		n, err := h.prune(&distrusted)
		h.opts.Health.NoteStorage(err)
		switch {
		case err != nil && h.ctx.Err() == nil:
			h.opts.Log.Error("retention failed; will retry", "err", err)
		case n > 0:
			h.opts.Log.Info("retention removed old events", "events", n)
			if h.opts.Pruned != nil {
				h.opts.Pruned()
			}
			kick(h.checkpointKick)
			h.opts.Changes.Publish(hook.HistoryChanged)
		}
		next = h.opts.Clock.After(h.opts.RetentionEvery)
	}
}

// prune applies the retention limits once. Age limits wait while the clock is more than a day ahead
// of the newest event (set wrong, or stepped): a clock a year ahead would otherwise delete the whole
// history at once. *distrusted remembers that, so the log says it once and says when it ends.
func (h *Housekeeping) prune(distrusted *bool) (int64, error) {
	now := h.opts.Clock.Now()
	newest, _, err := h.opts.Store.NewestEventTime(h.ctx)
	if err != nil {
		return 0, err
	}
	r, believed := h.opts.Retention.ForClock(now, newest)
	switch {
	case !believed && !*distrusted:
		h.opts.Log.Warn("the clock is more than a day ahead of the newest webhook; events are not removed by age until one arrives with the clock as it is now",
			"now", now.Format(time.RFC3339), "newest_event", newest.Format(time.RFC3339))
	case believed && *distrusted:
		h.opts.Log.Info("the clock agrees with the history again; events are removed by age as set")
	}
	*distrusted = !believed
	return h.opts.Store.Prune(h.ctx, r, now, func() { h.sleep(5 * time.Millisecond) })
}
