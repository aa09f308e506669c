//go:build !hooktray_ceiling

package ingest

// Durable is false only in the benchmark's ceiling build (tag hooktray_ceiling), which skips
// fdatasync and the SQLite import to measure what the rest of the receiver costs. Every product
// build stores each request durably before answering it.
const Durable = true
