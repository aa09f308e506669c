package app

import (
	"errors"
	"path/filepath"
	"sync"

	"github.com/hooktray/hooktray/app/ingest"
	"github.com/hooktray/hooktray/hook"
)

// health remembers the storage problem the user must hear about: SQLite finding the database
// damaged after it was opened. Other storage errors (a full disk, a busy lock) pass and are
// answered 503 at the time; damage does not heal by itself.
type health struct {
	mu      sync.Mutex
	damaged string
	// lockedSecrets names the endpoints none of whose stored secrets can be opened.
	lockedSecrets []string
	// journal is what the ingest journal held that could not be read, this start or earlier.
	journal hook.JournalDamage
}

// noteStorageError records err if it says the database is damaged.
func (h *Hub) noteStorageError(err error) {
	if !errors.Is(err, hook.ErrDamaged) {
		return
	}
	h.health.mu.Lock()
	first := h.health.damaged == ""
	if first {
		h.health.damaged = "the history database is damaged (" + err.Error() + "); stop Hooktray and recover it"
	}
	h.health.mu.Unlock()
	if first {
		h.log.Error("the database is damaged: stop Hooktray and recover it", "path", h.store.Path(), "err", err)
		h.changes.Publish(hook.StorageChanged)
	}
}

// importFailed hears the ingest importer's errors: the requests stay in the journal and are
// retried, and new ones are refused meanwhile.
func (h *Hub) importFailed(err error) {
	if err == nil {
		h.log.Info("the history accepts webhooks again")
		return
	}
	h.log.Error("the history refused acknowledged webhooks; they are kept in the ingest journal and retried", "err", err)
	h.noteStorageError(err)
}

// noteJournalDamage reports what the journal a crash left could not be read: at this start (an
// error in the log) or at an earlier one whose notes are still in the damaged folder (a warning).
func (h *Hub) noteJournalDamage(found ingest.Damage) {
	dir := filepath.Join(h.opts.DataDir, JournalDir)
	notes, err := ingest.ReadDamageNotes(dir)
	if err != nil {
		h.log.Error("the journal's damaged folder cannot be read", "err", err)
	}
	d := hook.JournalDamage{Notes: len(notes), Folder: filepath.Join(dir, ingest.DamagedDir), FoundNow: len(found.Notes) > 0}
	for _, n := range notes {
		d.Unreadable += n.Unreadable
	}
	h.health.mu.Lock()
	h.health.journal = d
	h.health.mu.Unlock()
	switch {
	case d.FoundNow:
		for _, n := range found.Notes {
			h.log.Error("acknowledged webhooks could not be read from the ingest journal", "unreadable", n.Unreadable,
				"sequences", n.Sequences, "kept", n.Segment, "detail", n.Message)
		}
		h.log.Error("the ingest journal was damaged; everything readable was stored", "unreadable", found.Unreadable, "folder", d.Folder)
	case d.Damaged():
		h.log.Warn("the ingest journal was found damaged at an earlier start; delete the folder once you have looked",
			"unreadable", d.Unreadable, "folder", d.Folder)
	}
}

// JournalDamage is what the ingest journal held that could not be read, until the user clears
// its damaged folder.
func (h *Hub) JournalDamage() hook.JournalDamage {
	h.health.mu.Lock()
	defer h.health.mu.Unlock()
	return h.health.journal
}

// StorageError is a sentence about damage SQLite found in the database since start, or "".
func (h *Hub) StorageError() string {
	h.health.mu.Lock()
	defer h.health.mu.Unlock()
	return h.health.damaged
}

// watchedQueue is the receiver's Committer: the ingest queue, noting damage on the way.
type watchedQueue struct{ h *Hub }

func (w watchedQueue) Commit(ev *hook.Event) error {
	if ev.Status == hook.Accepted {
		ev.Forward = w.h.forwardTo(ev.EndpointID, ev.Type)
	}
	err := w.h.queue.Commit(ev)
	w.h.noteStorageError(err)
	return err
}

func (w watchedQueue) Backlog() int64 { return w.h.queue.Backlog() }
