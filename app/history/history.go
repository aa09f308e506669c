// Package history is the history service: reads of the stored events and their deliveries, and
// the live feed of new events. Settle lets a read see every webhook acknowledged before it.
package history

import (
	"context"
	"io"
	"log/slog"
	"os"
	"time"

	"github.com/hooktray/hooktray/app/live"
	"github.com/hooktray/hooktray/hook"
)

// Store reads and removes stored events: *storage.Store.
type Store interface {
	ListEvents(ctx context.Context, q hook.EventQuery) (hook.Page, error)
	Event(ctx context.Context, id int64) (hook.Event, error)
	Deliveries(ctx context.Context, q hook.DeliveryQuery) ([]hook.Delivery, int64, error)
	Delivery(ctx context.Context, id int64) (hook.Delivery, error)
	DeleteEvent(ctx context.Context, id int64) error
	IndexBacklog(ctx context.Context) (int64, error)
	ReleaseMemory(ctx context.Context)
}

// Journal is where acknowledged webhooks wait for SQLite: *ingest.Queue.
type Journal interface {
	Settle(ctx context.Context) error
}

// Reporter hears storage errors.
type Reporter interface{ NoteStorage(err error) }

// Options configure the service; all but Deleted are required.
type Options struct {
	Store   Store
	Journal Journal
	Feed    *Feed
	Health  Reporter
	Changes *live.Feed[hook.Change] // HistoryChanged is published there
	Log     *slog.Logger
	// Deleted, if set, hears that events were removed (the endpoints count theirs again).
	Deleted func()
}

// Service reads the history.
type Service struct{ opts Options }

// New returns the service.
func New(opts Options) *Service { return &Service{opts: opts} }

// settleLimit bounds how long a read waits for acknowledged webhooks to reach the history.
const settleLimit = 2 * time.Second

// Settle returns once every webhook acknowledged before the call is in the history (ingest
// answers before the event reaches SQLite, by milliseconds), waiting at most settleLimit: past
// it, the read that follows shows what is there. It is the one place reads wait for ingest: the
// admin API calls it before every GET, so a script that posts a webhook and then lists events
// finds it. The window needs no such wait: it reads what the live feed announces, which is
// stored already.
func (s *Service) Settle(ctx context.Context) {
	ctx, cancel := context.WithTimeout(ctx, settleLimit)
	defer cancel()
	_ = s.opts.Journal.Settle(ctx)
}

// Events returns a page of history; see hook.EventQuery.
func (s *Service) Events(ctx context.Context, q hook.EventQuery) (hook.Page, error) {
	p, err := s.opts.Store.ListEvents(ctx, q)
	s.opts.Health.NoteStorage(err)
	return p, err
}

// Event returns one event with headers and body.
func (s *Service) Event(ctx context.Context, id int64) (hook.Event, error) {
	ev, err := s.opts.Store.Event(ctx, id)
	s.opts.Health.NoteStorage(err)
	return ev, err
}

// Deliveries lists deliveries, newest first, and the next page's cursor (0: none).
func (s *Service) Deliveries(ctx context.Context, q hook.DeliveryQuery) ([]hook.Delivery, int64, error) {
	ds, next, err := s.opts.Store.Deliveries(ctx, q)
	s.opts.Health.NoteStorage(err)
	return ds, next, err
}

// Delivery returns one delivery with its attempts.
func (s *Service) Delivery(ctx context.Context, id int64) (hook.Delivery, error) {
	d, err := s.opts.Store.Delivery(ctx, id)
	s.opts.Health.NoteStorage(err)
	return d, err
}

// Delete removes one event from the history.
func (s *Service) Delete(ctx context.Context, id int64) error {
	if err := s.opts.Store.DeleteEvent(ctx, id); err != nil {
		return err
	}
	if s.opts.Deleted != nil {
		s.opts.Deleted()
	}
	s.opts.Changes.Publish(hook.HistoryChanged)
	return nil
}

// IndexBacklog is how many events are not yet searchable.
func (s *Service) IndexBacklog(ctx context.Context) (int64, error) {
	return s.opts.Store.IndexBacklog(ctx)
}

// ReleaseMemory hands back memory held for speed (SQLite's caches) when the desktop app's window
// closes; it comes back as it is used.
func (s *Service) ReleaseMemory(ctx context.Context) { s.opts.Store.ReleaseMemory(ctx) }

// Follow returns a live feed of newly stored events (summaries without headers and body) with
// room for size of them; see live.Subscription for what happens when the follower falls behind.
func (s *Service) Follow(size int) *live.Subscription[hook.Event] { return s.opts.Feed.Follow(size) }

// Feed carries newly stored events to their followers. It is made before the ingest queue, which
// calls Committed, and handed to the service made after it.
type Feed struct{ feed live.Feed[hook.Event] }

// NewFeed returns a feed nobody follows yet.
func NewFeed() *Feed { return &Feed{} }

// Committed publishes newly stored events, as summaries: it is one of ingest's committed
// callbacks, so it must not block nor keep evs' headers and bodies.
func (f *Feed) Committed(evs []*hook.Event) {
	summaries := make([]hook.Event, len(evs))
	for i, ev := range evs {
		s := *ev
		s.Preview = hook.PreviewOf(ev.Body)
		if ev.Body == nil && ev.BodyFile != "" {
			s.Preview = spooledPreview(ev.BodyFile)
		}
		s.Header, s.Body, s.Decrypted = nil, nil, nil
		summaries[i] = s
	}
	f.feed.Publish(summaries...)
}

// Follow returns a live feed of newly stored events with room for size of them.
func (f *Feed) Follow(size int) *live.Subscription[hook.Event] { return f.feed.Follow(size) }

// spooledPreview is the preview of a body spooled to a file (the importer removes the file only
// after the committed callbacks).
func spooledPreview(path string) string {
	f, err := os.Open(path)
	if err != nil {
		return ""
	}
	defer f.Close()
	b := make([]byte, 160)
	n, _ := io.ReadFull(f, b)
	return hook.PreviewOf(b[:n])
}
