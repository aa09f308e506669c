// Package health keeps what the user must hear about the history's storage: damage SQLite found
// in the database after it was opened, and acknowledged webhooks the ingest journal could not
// read. Services report storage errors to it; status, the CLI and the window read it. Other
// storage errors (a full disk, a busy lock) pass and are answered 503 at the time; damage does
// not heal by itself.
package health

import (
	"errors"
	"log/slog"
	"path/filepath"
	"sync"

	"github.com/hooktray/hooktray/app/ingest"
	"github.com/hooktray/hooktray/app/live"
	"github.com/hooktray/hooktray/hook"
)

// Health is the storage's health. The zero value is not usable; make one with New.
type Health struct {
	log     *slog.Logger
	changes *live.Feed[hook.Change]
	path    string // the database, for the log

	mu      sync.Mutex
	damaged string
	journal hook.JournalDamage
}

// New returns a Health that logs to log, announces changes on changes, and names the database at
// path in its log lines.
func New(log *slog.Logger, changes *live.Feed[hook.Change], path string) *Health {
	return &Health{log: log, changes: changes, path: path}
}

// NoteStorage records err if it says the database is damaged (and logs it, once); any other error,
// or nil, is ignored.
func (h *Health) NoteStorage(err error) {
	if !errors.Is(err, hook.ErrDamaged) {
		return
	}
	h.mu.Lock()
	first := h.damaged == ""
	if first {
		h.damaged = "the history database is damaged (" + err.Error() + "); stop Hooktray and recover it"
	}
	h.mu.Unlock()
	if first {
		h.log.Error("the database is damaged: stop Hooktray and recover it", "path", h.path, "err", err)
		h.changes.Publish(hook.StorageChanged)
	}
}

// StorageError is a sentence about damage SQLite found in the database since start, or "".
func (h *Health) StorageError() string {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.damaged
}

// ImportFailed hears the ingest importer's errors: the requests stay in the journal and are
// retried, and new ones are refused meanwhile (nil: SQLite accepts them again).
func (h *Health) ImportFailed(err error) {
	if err == nil {
		h.log.Info("the history accepts webhooks again")
		return
	}
	h.log.Error("the history refused acknowledged webhooks; they are kept in the ingest journal and retried", "err", err)
	h.NoteStorage(err)
}

// NoteJournal reports what the ingest journal in dir, left by a crash, could not be read: at
// this start (found; an error in the log) or at an earlier one whose notes are still in the
// damaged folder (a warning).
func (h *Health) NoteJournal(dir string, found ingest.Damage) {
	notes, err := ingest.ReadDamageNotes(dir)
	if err != nil {
		h.log.Error("the journal's damaged folder cannot be read", "err", err)
	}
	d := hook.JournalDamage{Notes: len(notes), Folder: filepath.Join(dir, ingest.DamagedDir), FoundNow: len(found.Notes) > 0}
	for _, n := range notes {
		d.Unreadable += n.Unreadable
	}
	h.mu.Lock()
	h.journal = d
	h.mu.Unlock()
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
func (h *Health) JournalDamage() hook.JournalDamage {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.journal
}
