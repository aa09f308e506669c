package storage

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/hooktray/hooktray/hook"
)

const deliveryColumns = `id, event_id, target_id, status, attempt, next_at, response_status, latency_ms, error, url,
	response, edit, created_at, updated_at, route`

func scanDelivery(r scanner) (hook.Delivery, error) {
	var d hook.Delivery
	var status string
	var next sql.NullInt64
	var latency, created, updated int64
	var edit string
	if err := r.Scan(&d.ID, &d.EventID, &d.TargetID, &status, &d.Attempt, &next, &d.ResponseStatus, &latency,
		&d.Error, &d.URL, &d.Response, &edit, &created, &updated, &d.Route); err != nil {
		if errors.Is(err, sql.ErrNoRows) {
			return d, err
		}
		return d, fmt.Errorf("read delivery: %w", classify(err))
	}
	d.Status = hook.DeliveryStatus(status)
	if edit != "" {
		d.Edit = new(hook.Edit)
		if err := json.Unmarshal([]byte(edit), d.Edit); err != nil {
			return d, fmt.Errorf("read delivery %d: its edit is unreadable: %w", d.ID, err)
		}
	}
	if next.Valid {
		d.NextAt = time.Unix(0, next.Int64).UTC()
	}
	d.Latency = time.Duration(latency) * time.Millisecond
	d.CreatedAt, d.UpdatedAt = time.Unix(0, created).UTC(), time.Unix(0, updated).UTC()
	return d, nil
}

func scanDeliveries(rows *sql.Rows) ([]hook.Delivery, error) {
	defer rows.Close()
	var out []hook.Delivery
	for rows.Next() {
		d, err := scanDelivery(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, d)
	}
	return out, rows.Err()
}

// OpenDeliveries returns up to limit of a target's deliveries still to make (pending or
// retrying), in order of arrival: the head of its queue.
func (s *Store) OpenDeliveries(ctx context.Context, targetID string, limit int) ([]hook.Delivery, error) {
	// From the read pool: the queue is read beside ingest, never in its way.
	rows, err := s.reader.QueryContext(ctx, `SELECT `+deliveryColumns+` FROM deliveries INDEXED BY deliveries_open
		WHERE target_id=? AND status IN ('pending','retrying') ORDER BY id LIMIT ?`, targetID, limit)
	if err != nil {
		return nil, fmt.Errorf("read the queue of target %s: %w", targetID, classify(err))
	}
	return scanDeliveries(rows)
}

// CountOpenDeliveries is how many deliveries of a target are still to make.
func (s *Store) CountOpenDeliveries(ctx context.Context, targetID string) (int64, error) {
	var n int64
	err := s.writer.QueryRowContext(ctx, `SELECT count(*) FROM deliveries INDEXED BY deliveries_open
		WHERE target_id=? AND status IN ('pending','retrying')`, targetID).Scan(&n)
	if err != nil {
		return 0, fmt.Errorf("count the queue of target %s: %w", targetID, classify(err))
	}
	return n, nil
}

// RecordAttempts saves attempts' outcomes on their deliveries and the target's health after them,
// in one short transaction (nothing waits on the network while it is open), committed with
// synchronous=NORMAL: a power cut may take the last outcomes back, and those deliveries are then
// sent again with the same ids, as after a crash between a send and its record, so waiting for
// the disk at every batch (most of an in-order target's time) buys nothing.
func (s *Store) RecordAttempts(ctx context.Context, ds []hook.Delivery, targetID string, h hook.TargetHealth, now time.Time) error {
	conn, err := s.writer.Conn(ctx)
	if err != nil {
		return fmt.Errorf("record deliveries: %w", classify(err))
	}
	defer conn.Close()
	return relaxed(ctx, conn, func() error {
		tx, err := conn.BeginTx(ctx, nil)
		if err != nil {
			return fmt.Errorf("record deliveries: %w", classify(err))
		}
		defer tx.Rollback()
		return recordAttempts(ctx, tx, ds, targetID, h, now)
	})
}

func recordAttempts(ctx context.Context, tx *sql.Tx, ds []hook.Delivery, targetID string, h hook.TargetHealth, now time.Time) error {
	stmt, err := tx.PrepareContext(ctx, `UPDATE deliveries SET status=?, attempt=?, next_at=?, response_status=?, latency_ms=?,
		error=?, url=?, response=?, updated_at=?, route=? WHERE id=?`)
	if err != nil {
		return fmt.Errorf("record deliveries: %w", classify(err))
	}
	defer stmt.Close()
	history, err := tx.PrepareContext(ctx, `INSERT INTO delivery_attempts (delivery_id, attempt, at, url, status, latency_ms, error, route)
		VALUES (?,?,?,?,?,?,?,?)`)
	if err != nil {
		return fmt.Errorf("record deliveries: %w", classify(err))
	}
	defer history.Close()
	for _, d := range ds {
		if _, err := stmt.ExecContext(ctx, string(d.Status), d.Attempt, nullTime(d.NextAt), d.ResponseStatus,
			d.Latency.Milliseconds(), d.Error, d.URL, d.Response, now.UnixNano(), d.Route, d.ID); err != nil {
			return fmt.Errorf("record delivery %d: %w", d.ID, classify(err))
		}
		if _, err := history.ExecContext(ctx, d.ID, d.Attempt, now.UnixNano(), d.URL, d.ResponseStatus,
			d.Latency.Milliseconds(), d.Error, d.Route); err != nil {
			return fmt.Errorf("record delivery %d: %w", d.ID, classify(err))
		}
	}
	if _, err := tx.ExecContext(ctx, `UPDATE targets SET state=?, state_reason=?, consecutive_failures=?, last_error=?,
		paused_until=?, enabled=?, updated_at=? WHERE id=?`, string(h.State), h.StateReason, h.ConsecutiveFailures, h.LastError,
		nullTime(h.PausedUntil), h.Enabled, now.UnixNano(), targetID); err != nil {
		return fmt.Errorf("record deliveries: %w", classify(err))
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("record deliveries: %w", classify(err))
	}
	return nil
}

// AddDeliveries queues new deliveries of a stored event (a replay to targets, edited first when
// edit is set) and returns them.
func (s *Store) AddDeliveries(ctx context.Context, eventID int64, targetIDs []string, edit *hook.Edit, now time.Time) ([]hook.Delivery, error) {
	editJSON := ""
	if edit != nil {
		b, err := json.Marshal(edit)
		if err != nil {
			return nil, fmt.Errorf("queue deliveries: %w", err)
		}
		editJSON = string(b)
	}
	tx, err := s.writer.BeginTx(ctx, nil)
	if err != nil {
		return nil, fmt.Errorf("queue deliveries: %w", classify(err))
	}
	defer tx.Rollback()
	var out []hook.Delivery
	for _, t := range targetIDs {
		res, err := tx.ExecContext(ctx, `INSERT INTO deliveries (event_id, target_id, status, next_at, edit, created_at, updated_at)
			VALUES (?,?,'pending',?,?,?,?)`, eventID, t, now.UnixNano(), editJSON, now.UnixNano(), now.UnixNano())
		if err != nil {
			return nil, fmt.Errorf("queue deliveries: %w", classify(err))
		}
		id, _ := res.LastInsertId()
		out = append(out, hook.Delivery{ID: id, EventID: eventID, TargetID: t, Status: hook.DeliveryPending, NextAt: now.UTC(),
			Edit: edit, CreatedAt: now.UTC(), UpdatedAt: now.UTC()})
	}
	if err := tx.Commit(); err != nil {
		return nil, fmt.Errorf("queue deliveries: %w", classify(err))
	}
	return out, nil
}

// Delivery returns one delivery with its attempts; ErrNotFound when there is none.
func (s *Store) Delivery(ctx context.Context, id int64) (hook.Delivery, error) {
	d, err := scanDelivery(s.writer.QueryRowContext(ctx, `SELECT `+deliveryColumns+` FROM deliveries WHERE id=?`, id))
	if errors.Is(err, sql.ErrNoRows) {
		return d, fmt.Errorf("delivery %d: %w", id, hook.ErrNotFound)
	}
	if err != nil {
		return d, err
	}
	d.Attempts, err = s.attempts(ctx, id)
	return d, err
}

// attempts is a delivery's history, oldest first.
func (s *Store) attempts(ctx context.Context, id int64) ([]hook.Attempt, error) {
	rows, err := s.reader.QueryContext(ctx, `SELECT attempt, at, url, status, latency_ms, error, route
		FROM delivery_attempts WHERE delivery_id = ? ORDER BY id`, id)
	if err != nil {
		return nil, fmt.Errorf("read the attempts of delivery %d: %w", id, classify(err))
	}
	defer rows.Close()
	var out []hook.Attempt
	for rows.Next() {
		var a hook.Attempt
		var at, latency int64
		if err := rows.Scan(&a.Attempt, &at, &a.URL, &a.Status, &latency, &a.Error, &a.Route); err != nil {
			return nil, fmt.Errorf("read the attempts of delivery %d: %w", id, classify(err))
		}
		a.At, a.Latency = time.Unix(0, at).UTC(), time.Duration(latency)*time.Millisecond
		out = append(out, a)
	}
	return out, rows.Err()
}

// Deliveries returns a page of deliveries, newest first, and the cursor of the next page (0: none).
func (s *Store) Deliveries(ctx context.Context, q hook.DeliveryQuery) ([]hook.Delivery, int64, error) {
	var where []string
	var args []any
	if q.EventID != 0 {
		where, args = append(where, "event_id=?"), append(args, q.EventID)
	}
	if q.TargetID != "" {
		where, args = append(where, "target_id=?"), append(args, q.TargetID)
	}
	if q.Status != "" {
		where, args = append(where, "status=?"), append(args, string(q.Status))
	}
	if q.Before > 0 {
		where, args = append(where, "id<?"), append(args, q.Before)
	}
	limit := q.Limit
	if limit <= 0 {
		limit = 100
	}
	limit = min(limit, hook.MaxPage)
	query := `SELECT ` + deliveryColumns + ` FROM deliveries`
	if len(where) > 0 {
		query += " WHERE " + strings.Join(where, " AND ")
	}
	rows, err := s.writer.QueryContext(ctx, query+` ORDER BY id DESC LIMIT ?`, append(args, limit+1)...)
	if err != nil {
		return nil, 0, fmt.Errorf("list deliveries: %w", classify(err))
	}
	out, err := scanDeliveries(rows)
	if err != nil {
		return nil, 0, err
	}
	var next int64
	if len(out) > limit {
		out, next = out[:limit], out[limit-1].ID
	}
	return out, next, nil
}

// RetryDelivery makes a finished delivery due again at now, with a fresh count of attempts; its id
// stays. It returns the delivery as changed.
func (s *Store) RetryDelivery(ctx context.Context, id int64, now time.Time) (hook.Delivery, error) {
	res, err := s.writer.ExecContext(ctx, `UPDATE deliveries SET status='pending', attempt=0, next_at=?, updated_at=?
		WHERE id=? AND status IN ('failed','dead_letter','retrying')`, now.UnixNano(), now.UnixNano(), id)
	if err != nil {
		return hook.Delivery{}, fmt.Errorf("retry delivery %d: %w", id, classify(err))
	}
	if n, _ := res.RowsAffected(); n == 0 {
		d, err := s.Delivery(ctx, id)
		if err != nil {
			return d, err
		}
		if d.Status == hook.DeliveryPending {
			return d, nil // already due
		}
		return d, fmt.Errorf("delivery %d has succeeded; replay the event to send it again", id)
	}
	return s.Delivery(ctx, id)
}

// RetryDeliveries makes every delivery of a target in status due again at now, keeping their
// order, and returns how many.
func (s *Store) RetryDeliveries(ctx context.Context, targetID string, status hook.DeliveryStatus, now time.Time) (int64, error) {
	res, err := s.writer.ExecContext(ctx, `UPDATE deliveries SET status='pending', attempt=0, next_at=?, updated_at=?
		WHERE target_id=? AND status=?`, now.UnixNano(), now.UnixNano(), targetID, string(status))
	if err != nil {
		return 0, fmt.Errorf("retry deliveries of %s: %w", targetID, classify(err))
	}
	n, _ := res.RowsAffected()
	return n, nil
}
