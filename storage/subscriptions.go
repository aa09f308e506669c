package storage

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/hooktray/hooktray/hook"
)

const subscriptionColumns = `id, endpoint_id, provider, enabled, settings, remote_id, registered_url, status, last_error,
	last_checked_at, created_at, updated_at, forced_from, forced_to, forced_at`

// CreateSubscription stores a new subscription; CreatedAt and UpdatedAt are set to now.
func (s *Store) CreateSubscription(ctx context.Context, sub *hook.Subscription) error {
	now := time.Now().UTC()
	sub.CreatedAt, sub.UpdatedAt = now, now
	settings, err := json.Marshal(sub.Settings)
	if err != nil {
		return fmt.Errorf("create subscription: %w", err)
	}
	from, to, at := forcedColumns(sub.Forced)
	_, err = s.writer.ExecContext(ctx, `INSERT INTO subscriptions (`+subscriptionColumns+`) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)`,
		sub.ID, sub.EndpointID, sub.Provider, sub.Enabled, string(settings), sub.RemoteID, sub.RegisteredURL, string(sub.Status),
		sub.LastError, nullTime(sub.LastCheckedAt), now.UnixNano(), now.UnixNano(), from, to, at)
	if err != nil {
		return fmt.Errorf("create subscription: %w", classify(err))
	}
	return nil
}

// UpdateSubscription saves every field of sub.
func (s *Store) UpdateSubscription(ctx context.Context, sub *hook.Subscription) error {
	now := time.Now().UTC()
	settings, err := json.Marshal(sub.Settings)
	if err != nil {
		return fmt.Errorf("update subscription %s: %w", sub.ID, err)
	}
	from, to, at := forcedColumns(sub.Forced)
	res, err := s.writer.ExecContext(ctx, `UPDATE subscriptions SET enabled=?, settings=?, remote_id=?, registered_url=?, status=?,
		last_error=?, last_checked_at=?, updated_at=?, forced_from=?, forced_to=?, forced_at=? WHERE id=?`, sub.Enabled,
		string(settings), sub.RemoteID, sub.RegisteredURL, string(sub.Status), sub.LastError, nullTime(sub.LastCheckedAt),
		now.UnixNano(), from, to, at, sub.ID)
	if err != nil {
		return fmt.Errorf("update subscription %s: %w", sub.ID, classify(err))
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return fmt.Errorf("update subscription %s: %w", sub.ID, hook.ErrNotFound)
	}
	sub.UpdatedAt = now
	return nil
}

// DeleteSubscription removes a subscription.
func (s *Store) DeleteSubscription(ctx context.Context, id string) error {
	res, err := s.writer.ExecContext(ctx, `DELETE FROM subscriptions WHERE id=?`, id)
	if err != nil {
		return fmt.Errorf("delete subscription %s: %w", id, classify(err))
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return fmt.Errorf("delete subscription %s: %w", id, hook.ErrNotFound)
	}
	return nil
}

// Subscriptions returns every subscription, oldest first.
func (s *Store) Subscriptions(ctx context.Context) ([]hook.Subscription, error) {
	rows, err := s.writer.QueryContext(ctx, `SELECT `+subscriptionColumns+` FROM subscriptions ORDER BY created_at, id`)
	if err != nil {
		return nil, fmt.Errorf("read subscriptions: %w", classify(err))
	}
	defer rows.Close()
	var out []hook.Subscription
	for rows.Next() {
		sub, err := scanSubscription(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, sub)
	}
	return out, rows.Err()
}

// forcedColumns are a forced update's columns (empty and NULL for none).
func forcedColumns(f *hook.ForcedUpdate) (from, to string, at any) {
	if f == nil {
		return "", "", nil
	}
	return f.From, f.To, f.At.UnixNano()
}

func scanSubscription(r scanner) (hook.Subscription, error) {
	var sub hook.Subscription
	var settings, status, forcedFrom, forcedTo string
	var checked, forcedAt sql.NullInt64
	var created, updated int64
	if err := r.Scan(&sub.ID, &sub.EndpointID, &sub.Provider, &sub.Enabled, &settings, &sub.RemoteID, &sub.RegisteredURL,
		&status, &sub.LastError, &checked, &created, &updated, &forcedFrom, &forcedTo, &forcedAt); err != nil {
		if errors.Is(err, sql.ErrNoRows) {
			return sub, err
		}
		return sub, fmt.Errorf("read subscription: %w", classify(err))
	}
	if err := json.Unmarshal([]byte(settings), &sub.Settings); err != nil {
		return sub, fmt.Errorf("read subscription %s: its settings are unreadable: %w", sub.ID, err)
	}
	sub.Status = hook.SubscriptionStatus(status)
	if checked.Valid {
		sub.LastCheckedAt = time.Unix(0, checked.Int64).UTC()
	}
	sub.CreatedAt, sub.UpdatedAt = time.Unix(0, created).UTC(), time.Unix(0, updated).UTC()
	if forcedAt.Valid {
		sub.Forced = &hook.ForcedUpdate{From: forcedFrom, To: forcedTo, At: time.Unix(0, forcedAt.Int64).UTC()}
	}
	return sub, nil
}
