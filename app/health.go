package app

import (
	"errors"
	"sync"

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
