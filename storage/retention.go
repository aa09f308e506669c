package storage

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/hooktray/hooktray/hook"
)

// pruneChunk is how many events one pruning transaction deletes: small enough that ingest waits
// for it only a few milliseconds.
const pruneChunk = 500

// Prune removes what r says to remove, oldest first, in small transactions. An event that still
// owes a delivery (pending or retrying) is kept whatever the limits say, until it is delivered or
// dead-lettered: retention never drops what has yet to be forwarded. Between chunks it calls pause
// (which may sleep, to leave room for ingest) and stops early when ctx ends. It returns the number
// of events removed. Ages are measured from received_at against now; the caller decides whether
// now can be believed (see hook.Retention.ForClock).
func (s *Store) Prune(ctx context.Context, r hook.Retention, now time.Time, pause func()) (_ int64, err error) {
	defer func() { err = classify(err) }()
	if r.Forever() {
		return 0, nil
	}
	var removed, after int64
	upTo, err := s.pruneBound(ctx, r, now)
	if err != nil {
		return 0, err
	}
	for {
		if err := ctx.Err(); err != nil {
			return removed, err
		}
		bound := upTo
		if r.MaxBytes > 0 {
			used, err := s.UsedBytes(ctx)
			if err != nil {
				return removed, err
			}
			if used > r.MaxBytes {
				oldest, err := s.nthOldestID(ctx, after, s.rowsToFree(ctx, used-r.MaxBytes, used))
				if err != nil {
					return removed, err
				}
				bound = max(bound, oldest)
			}
		}
		if bound <= after {
			break
		}
		n, last, err := s.deleteOldest(ctx, after, bound, pruneChunk)
		if err != nil {
			return removed, err
		}
		removed += n
		if n == 0 {
			break // all that is left up to bound still owes a delivery
		}
		after = last
		if pause != nil {
			pause()
		}
	}
	if removed > 0 {
		if err := s.releaseFreePages(ctx, pause); err != nil {
			return removed, err
		}
	}
	return removed, nil
}

// NewestEventTime is when the newest event was received (ok false when there is none).
func (s *Store) NewestEventTime(ctx context.Context) (_ time.Time, ok bool, err error) {
	var at sql.NullInt64
	err = s.reader.QueryRowContext(ctx, `SELECT received_at FROM events ORDER BY id DESC LIMIT 1`).Scan(&at)
	if errors.Is(err, sql.ErrNoRows) {
		return time.Time{}, false, nil
	}
	if err != nil {
		return time.Time{}, false, classify(fmt.Errorf("find the newest event: %w", err))
	}
	return time.Unix(0, at.Int64).UTC(), true, nil
}

// pruneBound returns the highest event id that age and count limits remove (0 for none). It reads
// through the read pool, so the scans it needs never hold the write lock.
func (s *Store) pruneBound(ctx context.Context, r hook.Retention, now time.Time) (int64, error) {
	var bound int64
	if r.MaxAge > 0 {
		cutoff := now.Add(-r.MaxAge).UnixNano()
		// Ids grow with time, so walk from the oldest until a row is young enough.
		var after int64
		for {
			rows, err := s.reader.QueryContext(ctx, `SELECT id, received_at FROM events WHERE id > ? ORDER BY id LIMIT 1000`, after)
			if err != nil {
				return 0, fmt.Errorf("find expired events: %w", err)
			}
			n, young := 0, false
			for rows.Next() {
				var id, at int64
				if err := rows.Scan(&id, &at); err != nil {
					rows.Close()
					return 0, fmt.Errorf("find expired events: %w", err)
				}
				n++
				if at >= cutoff {
					young = true
					break
				}
				bound, after = id, id
			}
			rows.Close()
			if err := rows.Err(); err != nil {
				return 0, fmt.Errorf("find expired events: %w", err)
			}
			if young || n < 1000 {
				break
			}
		}
	}
	if r.MaxEvents > 0 {
		var id int64
		err := s.reader.QueryRowContext(ctx, `SELECT id FROM events ORDER BY id DESC LIMIT 1 OFFSET ?`, r.MaxEvents).Scan(&id)
		if err != nil && !errors.Is(err, sql.ErrNoRows) {
			return 0, fmt.Errorf("find events beyond the count limit: %w", err)
		}
		bound = max(bound, id)
	}
	return bound, nil
}

// rowsToFree estimates how many of the oldest events hold excess bytes, from the average event
// size, so a size limit removes what it must and not a whole chunk more.
func (s *Store) rowsToFree(ctx context.Context, excess, used int64) int {
	var lo, hi sql.NullInt64
	if err := s.reader.QueryRowContext(ctx, `SELECT min(id), max(id) FROM events`).Scan(&lo, &hi); err != nil || !hi.Valid {
		return pruneChunk
	}
	rows := hi.Int64 - lo.Int64 + 1 // ids are dense: retention only ever removes the oldest
	n := (excess*rows + used - 1) / used
	return int(min(max(n, 1), pruneChunk))
}

// nthOldestID returns the id of the n-th oldest event after id after (or the newest, if there are
// fewer).
func (s *Store) nthOldestID(ctx context.Context, after int64, n int) (int64, error) {
	var id sql.NullInt64
	err := s.reader.QueryRowContext(ctx, `SELECT max(id) FROM (SELECT id FROM events WHERE id > ? ORDER BY id LIMIT ?)`, after, n).Scan(&id)
	if err != nil {
		return 0, fmt.Errorf("find oldest events: %w", err)
	}
	return id.Int64, nil
}

// UsedBytes is the size of the database's pages in use (the file minus its free list).
func (s *Store) UsedBytes(ctx context.Context) (int64, error) {
	var pages, free, size int64
	conn, err := s.reader.Conn(ctx)
	if err != nil {
		return 0, fmt.Errorf("measure database: %w", err)
	}
	defer conn.Close()
	for _, q := range []struct {
		sql string
		dst *int64
	}{{`PRAGMA page_count`, &pages}, {`PRAGMA freelist_count`, &free}, {`PRAGMA page_size`, &size}} {
		if err := conn.QueryRowContext(ctx, q.sql).Scan(q.dst); err != nil {
			return 0, fmt.Errorf("measure database: %w", err)
		}
	}
	return (pages - free) * size, nil
}

// ownsNoDelivery selects the events e that are not waiting for a delivery.
const ownsNoDelivery = `NOT EXISTS (SELECT 1 FROM deliveries d WHERE d.event_id = e.id AND d.status IN ('pending', 'retrying'))`

// deleteOldest deletes up to limit of the oldest events after id after and up to upTo that owe no
// delivery, with their index entries and finished deliveries, in one transaction. It returns how
// many it deleted and the last id deleted.
func (s *Store) deleteOldest(ctx context.Context, after, upTo int64, limit int) (n, last int64, err error) {
	err = s.relaxedWrite(ctx, func(tx *sql.Tx) error {
		var ids string // a JSON array, for json_each: one statement for a chunk of any size
		err := tx.QueryRowContext(ctx, `SELECT json_group_array(id), max(id) FROM (SELECT id FROM events e
			WHERE id > ? AND id <= ? AND `+ownsNoDelivery+` ORDER BY id LIMIT ?)`, after, upTo, limit).Scan(&ids, &sql.NullInt64{})
		if err != nil {
			return fmt.Errorf("prune events: %w", err)
		}
		watermark, err := metaValue(ctx, tx, "index_watermark")
		if err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, `DELETE FROM events_fts WHERE rowid IN (SELECT value FROM json_each(?) WHERE value <= ?)`, ids, watermark); err != nil {
			return fmt.Errorf("prune search index: %w", err)
		}
		if _, err := tx.ExecContext(ctx, `DELETE FROM delivery_attempts WHERE delivery_id IN
			(SELECT id FROM deliveries WHERE event_id IN (SELECT value FROM json_each(?)))`, ids); err != nil {
			return fmt.Errorf("prune delivery attempts: %w", err)
		}
		if _, err := tx.ExecContext(ctx, `DELETE FROM deliveries WHERE event_id IN (SELECT value FROM json_each(?))`, ids); err != nil {
			return fmt.Errorf("prune deliveries: %w", err)
		}
		if _, err := tx.ExecContext(ctx, `DELETE FROM event_body_parts WHERE event_id IN (SELECT value FROM json_each(?))`, ids); err != nil {
			return fmt.Errorf("prune bodies: %w", err)
		}
		res, err := tx.ExecContext(ctx, `DELETE FROM events WHERE id IN (SELECT value FROM json_each(?))`, ids)
		if err != nil {
			return fmt.Errorf("prune events: %w", err)
		}
		n, _ = res.RowsAffected()
		if n > 0 {
			err = tx.QueryRowContext(ctx, `SELECT max(value) FROM json_each(?)`, ids).Scan(&last)
		}
		return err
	})
	return n, last, err
}

// releaseFreePages gives freed pages back to the file system in small steps.
func (s *Store) releaseFreePages(ctx context.Context, pause func()) error {
	var mode int
	if err := s.writer.QueryRowContext(ctx, `PRAGMA auto_vacuum`).Scan(&mode); err != nil {
		return fmt.Errorf("read auto_vacuum: %w", err)
	}
	if mode != 2 {
		return nil // a database made without incremental vacuum reuses its free pages instead
	}
	for {
		var free int64
		if err := s.writer.QueryRowContext(ctx, `PRAGMA freelist_count`).Scan(&free); err != nil {
			return fmt.Errorf("count free pages: %w", err)
		}
		if free == 0 {
			return nil
		}
		// incremental_vacuum frees one page per step, so its rows must be read to the end.
		rows, err := s.writer.QueryContext(ctx, `PRAGMA incremental_vacuum(256)`)
		if err != nil {
			return fmt.Errorf("release free pages: %w", err)
		}
		for rows.Next() {
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return fmt.Errorf("release free pages: %w", err)
		}
		if pause != nil {
			pause()
		}
	}
}
