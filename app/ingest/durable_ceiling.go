//go:build hooktray_ceiling

package ingest

// Durable is false in this build: the journal is written but never fdatasync'd, and nothing is
// imported into SQLite. It exists only so `make bench` can measure how fast the receiver is with
// its two durable steps taken out (docs/performance.md); it must never be shipped.
const Durable = false
