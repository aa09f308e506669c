// Package hook holds Hooktray's domain: endpoints and their settings, received events, the rules
// that validate a change to an endpoint, and the typed values (schemes, modes, verdicts, statuses)
// that cross the API and the CLI. It has no SQL and no I/O, so every layer shares it: storage
// writes these types, the core works with them, the API, the CLI and the GUI show them.
package hook

import "errors"

// ErrNotFound is returned (wrapped) when an endpoint or event does not exist.
var ErrNotFound = errors.New("not found")

// Storage failures the layers above tell apart (errors.Is), whatever database is underneath.
var (
	// ErrStorageFull: the disk (or the database's size limit) is full; requests are refused
	// with 503 until there is room again.
	ErrStorageFull = errors.New("storage full")
	// ErrDamaged: the history database is damaged; Hooktray stops writing to it.
	ErrDamaged = errors.New("the history database is damaged")
)
