// Package testutil holds what tests share: waiting for an observable condition instead of
// sleeping for a guessed time.
package testutil

import (
	"testing"
	"time"
)

// Patience is how long Eventually waits before it gives up: long enough for a busy machine, and
// only ever reached when the condition never comes.
const Patience = 30 * time.Second

// Eventually waits until cond holds, checking it every few milliseconds, and fails the test if it
// does not within Patience. what says what was awaited, for the failure message.
func Eventually(t testing.TB, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(Patience)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("gave up waiting until %s", what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}
