package storage

import (
	"context"
	"fmt"
	"strings"
)

// migrations are applied in order; migrations[i] brings the schema from version i to i+1
// (PRAGMA user_version). Never edit a released migration: append a new one.
var migrations = []string{
	// 1: endpoints, events, full-text index, secrets, deliveries, subscriptions.
	`
CREATE TABLE meta (
	key   TEXT PRIMARY KEY,
	value INTEGER NOT NULL
) STRICT;

CREATE TABLE endpoints (
	id                    TEXT PRIMARY KEY,
	name                  TEXT NOT NULL,
	enabled               INTEGER NOT NULL DEFAULT 1,
	response_status       INTEGER NOT NULL DEFAULT 200,
	response_body         BLOB NOT NULL DEFAULT '{"ok":true}',
	response_content_type TEXT NOT NULL DEFAULT 'application/json',
	body_limit            INTEGER NOT NULL DEFAULT 10485760,
	notes                 TEXT NOT NULL DEFAULT '',
	verify_scheme         TEXT NOT NULL DEFAULT '',
	verify_mode           TEXT NOT NULL DEFAULT 'off',
	-- JSON for settings later features add (notifications, type extraction, routing, forwarding).
	settings              TEXT NOT NULL DEFAULT '{}',
	created_at            INTEGER NOT NULL,
	updated_at            INTEGER NOT NULL,
	-- A deleted endpoint keeps its row so its URL answers 410 Gone and its history keeps a name.
	deleted_at            INTEGER
) STRICT;

-- The ingest row: everything about the request, written once at receive time. Times are Unix
-- nanoseconds in UTC. Rows are only ever inserted with increasing ids, which the indexer and
-- retention rely on.
CREATE TABLE events (
	id              INTEGER PRIMARY KEY,
	endpoint_id     TEXT NOT NULL,
	received_at     INTEGER NOT NULL,
	status          INTEGER NOT NULL,          -- 0 accepted, 1 rejected, 2 duplicate
	method          TEXT NOT NULL,
	path            TEXT NOT NULL,
	query           TEXT NOT NULL,
	headers         BLOB NOT NULL,             -- "Name: value\r\n" lines, as on the wire
	body            BLOB,                      -- NULL when not kept (rejected requests)
	size            INTEGER NOT NULL,          -- body bytes received, or declared when rejected
	remote_addr     TEXT NOT NULL,             -- the TCP peer
	client_ip       TEXT NOT NULL,             -- Cf-Connecting-Ip / X-Forwarded-For: information only
	delivery_id     TEXT,                      -- provider's delivery id header, for duplicates
	duplicate_of    INTEGER,
	reason          TEXT NOT NULL DEFAULT '',  -- why the request was rejected
	response_status INTEGER NOT NULL,
	type            TEXT,                      -- provider event type, when known
	verify_scheme   TEXT NOT NULL DEFAULT '',
	verify_result   TEXT NOT NULL DEFAULT 'skipped',
	verify_reason   TEXT NOT NULL DEFAULT '',
	decrypted       BLOB                       -- decrypted payload (Home Assistant mobile_app)
) STRICT;
CREATE INDEX events_endpoint ON events(endpoint_id, id);
CREATE INDEX events_delivery ON events(endpoint_id, delivery_id)
	WHERE status = 0 AND delivery_id IS NOT NULL;

-- Filled by the background indexer (meta.index_watermark is the last id indexed), so ingest
-- never pays for tokenising.
CREATE VIRTUAL TABLE events_fts USING fts5(
	method, path, query, headers, body,
	content = '', contentless_delete = 1, tokenize = 'unicode61'
);

-- Secrets are AEAD ciphertexts under the master key; several may be valid at once (rotation).
CREATE TABLE secrets (
	id          INTEGER PRIMARY KEY,
	endpoint_id TEXT NOT NULL REFERENCES endpoints(id),
	purpose     TEXT NOT NULL,
	nonce       BLOB NOT NULL,
	ciphertext  BLOB NOT NULL,
	created_at  INTEGER NOT NULL,
	expires_at  INTEGER
) STRICT;
CREATE INDEX secrets_endpoint ON secrets(endpoint_id);

CREATE TABLE deliveries (
	id            INTEGER PRIMARY KEY,
	event_id      INTEGER NOT NULL,
	target        TEXT NOT NULL,
	status        TEXT NOT NULL,
	attempts      INTEGER NOT NULL DEFAULT 0,
	next_at       INTEGER,
	last_status   INTEGER,
	last_error    TEXT NOT NULL DEFAULT '',
	created_at    INTEGER NOT NULL,
	updated_at    INTEGER NOT NULL
) STRICT;
CREATE INDEX deliveries_event ON deliveries(event_id);
CREATE INDEX deliveries_due ON deliveries(status, next_at);

CREATE TABLE subscriptions (
	id          TEXT PRIMARY KEY,
	endpoint_id TEXT NOT NULL REFERENCES endpoints(id),
	provider    TEXT NOT NULL,
	settings    TEXT NOT NULL DEFAULT '{}',
	state       TEXT NOT NULL DEFAULT 'new',
	last_error  TEXT NOT NULL DEFAULT '',
	registered_url TEXT NOT NULL DEFAULT '',
	created_at  INTEGER NOT NULL,
	updated_at  INTEGER NOT NULL
) STRICT;
`,
	// 2: the file says it is Hooktray's, so another program's database is never mistaken for it.
	fmt.Sprintf(`PRAGMA application_id = %d;`, ApplicationID),
	// 3: settings the app keeps for itself (the tunnel's), and its sealed secrets (the tunnel token).
	`
CREATE TABLE settings (
	key        TEXT PRIMARY KEY,
	value      TEXT NOT NULL,          -- JSON
	updated_at INTEGER NOT NULL
) STRICT;

CREATE TABLE app_secrets (
	name       TEXT PRIMARY KEY,
	nonce      BLOB NOT NULL,
	ciphertext BLOB NOT NULL,          -- AEAD under the master key, with the name as associated data
	updated_at INTEGER NOT NULL
) STRICT;
`,
	// 4: forwarding. The deliveries table of version 1 was never written; it is replaced.
	`
DROP TABLE deliveries;

CREATE TABLE targets (
	id                   TEXT PRIMARY KEY,
	endpoint_id          TEXT NOT NULL,
	config               TEXT NOT NULL,          -- JSON: kind, URL, retries, Home Assistant, command …
	enabled              INTEGER NOT NULL,
	state                TEXT NOT NULL DEFAULT 'active',
	state_reason         TEXT NOT NULL DEFAULT '',
	consecutive_failures INTEGER NOT NULL DEFAULT 0,
	last_error           TEXT NOT NULL DEFAULT '',
	paused_until         INTEGER,
	created_at           INTEGER NOT NULL,
	updated_at           INTEGER NOT NULL,
	deleted_at           INTEGER
) STRICT;
CREATE INDEX targets_endpoint ON targets(endpoint_id);

-- One row per (event, target), written with the event. Times are Unix nanoseconds.
CREATE TABLE deliveries (
	id              INTEGER PRIMARY KEY,
	event_id        INTEGER NOT NULL,
	target_id       TEXT NOT NULL,
	status          TEXT NOT NULL,
	attempt         INTEGER NOT NULL DEFAULT 0,
	next_at         INTEGER,
	response_status INTEGER NOT NULL DEFAULT 0,
	latency_ms      INTEGER NOT NULL DEFAULT 0,
	error           TEXT NOT NULL DEFAULT '',
	url             TEXT NOT NULL DEFAULT '',
	response        TEXT NOT NULL DEFAULT '',
	edit            TEXT NOT NULL DEFAULT '',  -- JSON: a replay's changes to the stored request
	created_at      INTEGER NOT NULL,
	updated_at      INTEGER NOT NULL
) STRICT;
CREATE INDEX deliveries_event ON deliveries(event_id);
-- The queue: a target's open deliveries in order of arrival.
CREATE INDEX deliveries_open ON deliveries(target_id, id) WHERE status IN ('pending', 'retrying');
CREATE INDEX deliveries_target ON deliveries(target_id, status, id);
`,
	// 5: subscriptions as the manager keeps them (the table of version 1 was never written).
	`
DROP TABLE subscriptions;
CREATE TABLE subscriptions (
	id              TEXT PRIMARY KEY,
	endpoint_id     TEXT NOT NULL,
	provider        TEXT NOT NULL,
	enabled         INTEGER NOT NULL DEFAULT 1,
	settings        TEXT NOT NULL DEFAULT '{}',  -- JSON, without the secret fields
	remote_id       TEXT NOT NULL DEFAULT '',
	registered_url  TEXT NOT NULL DEFAULT '',
	status          TEXT NOT NULL DEFAULT 'pending',
	last_error      TEXT NOT NULL DEFAULT '',
	last_checked_at INTEGER,
	created_at      INTEGER NOT NULL,
	updated_at      INTEGER NOT NULL
) STRICT;
CREATE INDEX subscriptions_endpoint ON subscriptions(endpoint_id);
`,
	// 6: bodies too large for memory arrive spooled to a file and are stored in parts: the first
	// in events.body (what lists, previews and the search index read), the rest here.
	`
ALTER TABLE events ADD COLUMN body_parts INTEGER NOT NULL DEFAULT 0; -- rows in event_body_parts
CREATE TABLE event_body_parts (
	id       INTEGER PRIMARY KEY,
	event_id INTEGER NOT NULL,
	part     INTEGER NOT NULL,          -- 1, 2, …: the parts after events.body, in order
	data     BLOB NOT NULL
) STRICT;
CREATE UNIQUE INDEX event_body_parts_event ON event_body_parts(event_id, part);

-- Every attempt of a delivery, kept with it (a retry of a dead letter no longer loses the earlier
-- ones), and the way the last one took along a fallback chain.
ALTER TABLE deliveries ADD COLUMN route TEXT NOT NULL DEFAULT '';
CREATE TABLE delivery_attempts (
	id          INTEGER PRIMARY KEY,
	delivery_id INTEGER NOT NULL,
	attempt     INTEGER NOT NULL,
	at          INTEGER NOT NULL,
	url         TEXT NOT NULL DEFAULT '',
	status      INTEGER NOT NULL DEFAULT 0,   -- the answer's status, 0 when none came
	latency_ms  INTEGER NOT NULL DEFAULT 0,
	error       TEXT NOT NULL DEFAULT '',
	route       TEXT NOT NULL DEFAULT ''
) STRICT;
CREATE INDEX delivery_attempts_delivery ON delivery_attempts(delivery_id, id);

-- A subscription forced from another URL to Hooktray's (the provider held another one, or
-- answered that one exists): shown until the next forced update.
ALTER TABLE subscriptions ADD COLUMN forced_from TEXT NOT NULL DEFAULT '';
ALTER TABLE subscriptions ADD COLUMN forced_to TEXT NOT NULL DEFAULT '';
ALTER TABLE subscriptions ADD COLUMN forced_at INTEGER;
`,
	// 7: events that came through the always-on inbox carry its sequence, so that a drain
	// repeated after a crash finds what it already holds.
	`
ALTER TABLE events ADD COLUMN inbox_seq INTEGER;
CREATE INDEX events_inbox_seq ON events(inbox_seq) WHERE inbox_seq IS NOT NULL;
`,
	// 8: an event answered by one of its endpoint's response rules names the rule.
	`
ALTER TABLE events ADD COLUMN answered_by TEXT NOT NULL DEFAULT '';
`,
}

// migrate brings the database to the schema version this build writes, len(migrations). Open has already refused databases that are not
// Hooktray's or are too new.
func (s *Store) migrate(ctx context.Context) error {
	var version int
	if err := s.writer.QueryRowContext(ctx, `PRAGMA user_version`).Scan(&version); err != nil {
		return describeOpenError(s.path, err)
	}
	for v := version; v < len(migrations); v++ {
		if err := s.applyMigration(ctx, v); err != nil {
			if strings.Contains(err.Error(), "no such module: fts5") {
				return ErrNoFTS5
			}
			return err
		}
	}
	return nil
}

func (s *Store) applyMigration(ctx context.Context, from int) error {
	tx, err := s.writer.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("migrate schema to version %d: %w", from+1, err)
	}
	defer tx.Rollback()
	if _, err := tx.ExecContext(ctx, migrations[from]); err != nil {
		return fmt.Errorf("migrate schema to version %d: %w", from+1, err)
	}
	if _, err := tx.ExecContext(ctx, fmt.Sprintf(`PRAGMA user_version = %d`, from+1)); err != nil {
		return fmt.Errorf("migrate schema to version %d: %w", from+1, err)
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("migrate schema to version %d: %w", from+1, err)
	}
	return nil
}
