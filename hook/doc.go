// Package hook holds Hooktray's domain: endpoints and their settings, received events, the rules
// that validate a change to an endpoint, and the typed values (schemes, modes, verdicts, statuses)
// that cross the API and the CLI. It has no SQL and no I/O, so every layer shares it: storage
// writes these types, the core works with them, the API, the CLI and the GUI show them.
package hook

import "errors"

// ErrNotFound is returned (wrapped) when an endpoint or event does not exist.
var ErrNotFound = errors.New("not found")
