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

// targetConfig is the JSON kept in targets.config: what the user set, by kind.
type targetConfig struct {
	Kind            hook.TargetKind           `json:"kind"`
	URL             string                    `json:"url,omitempty"`
	Method          string                    `json:"method,omitempty"`
	Headers         map[string]string         `json:"headers,omitempty"`
	TimeoutMS       int64                     `json:"timeout_ms"`
	MaxRetries      int                       `json:"max_retries"`
	RetryScheduleMS []int64                   `json:"retry_schedule_ms"`
	RateLimit       int                       `json:"rate_limit_per_minute"`
	EventTypes      []string                  `json:"event_types"`
	Parallel        int                       `json:"parallel"`
	When            string                    `json:"when,omitempty"`
	Transform       *hook.Transform           `json:"transform,omitempty"`
	SignScheme      hook.Scheme               `json:"sign_scheme,omitempty"`
	HomeAssistant   *hook.HomeAssistantTarget `json:"home_assistant,omitempty"`
	Command         *hook.CommandTarget       `json:"command,omitempty"`
	MQTT            *hook.MQTTTarget          `json:"mqtt,omitempty"`
}

func configOf(t *hook.Target) (string, error) {
	c := targetConfig{Kind: t.Kind, URL: t.URL, Method: t.Method, Headers: t.Headers, TimeoutMS: t.Timeout.Milliseconds(),
		MaxRetries: t.MaxRetries, RateLimit: t.RateLimitPerMinute, EventTypes: t.EventTypes, Parallel: t.Parallel,
		SignScheme: t.SignScheme, HomeAssistant: t.HomeAssistant, Command: t.Command, When: t.When, Transform: t.Transform, MQTT: t.MQTT}
	for _, d := range t.RetrySchedule {
		c.RetryScheduleMS = append(c.RetryScheduleMS, d.Milliseconds())
	}
	b, err := json.Marshal(c)
	return string(b), err
}

const targetColumns = `id, endpoint_id, config, enabled, state, state_reason, consecutive_failures, last_error,
	paused_until, created_at, updated_at`

// CreateTarget stores a new target; CreatedAt and UpdatedAt are set to now.
func (s *Store) CreateTarget(ctx context.Context, t *hook.Target) error {
	now := time.Now().UTC()
	t.CreatedAt, t.UpdatedAt = now, now
	cfg, err := configOf(t)
	if err != nil {
		return fmt.Errorf("create target: %w", err)
	}
	_, err = s.writer.ExecContext(ctx, `INSERT INTO targets (`+targetColumns+`) VALUES (?,?,?,?,?,?,?,?,?,?,?)`,
		t.ID, t.EndpointID, cfg, t.Enabled, string(t.State), t.StateReason, t.ConsecutiveFailures, t.LastError,
		nullTime(t.PausedUntil), now.UnixNano(), now.UnixNano())
	if err != nil {
		return fmt.Errorf("create target: %w", classify(err))
	}
	return nil
}

// UpdateTarget saves a target's settings (not its health, which the delivery engine keeps with
// SetTargetHealth); ErrNotFound for an unknown or deleted one.
func (s *Store) UpdateTarget(ctx context.Context, t *hook.Target) error {
	now := time.Now().UTC()
	cfg, err := configOf(t)
	if err != nil {
		return fmt.Errorf("update target %s: %w", t.ID, err)
	}
	res, err := s.writer.ExecContext(ctx, `UPDATE targets SET config=?, enabled=?, updated_at=? WHERE id=? AND deleted_at IS NULL`,
		cfg, t.Enabled, now.UnixNano(), t.ID)
	if err != nil {
		return fmt.Errorf("update target %s: %w", t.ID, classify(err))
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return fmt.Errorf("update target %s: %w", t.ID, hook.ErrNotFound)
	}
	t.UpdatedAt = now
	return nil
}

// SetTargetHealth saves a target's health (state, breaker, failures) and whether it is enabled.
func (s *Store) SetTargetHealth(ctx context.Context, id string, h hook.TargetHealth, now time.Time) error {
	_, err := s.writer.ExecContext(ctx, `UPDATE targets SET state=?, state_reason=?, consecutive_failures=?, last_error=?,
		paused_until=?, enabled=?, updated_at=? WHERE id=?`, string(h.State), h.StateReason, h.ConsecutiveFailures, h.LastError,
		nullTime(h.PausedUntil), h.Enabled, now.UnixNano(), id)
	if err != nil {
		return fmt.Errorf("update target %s: %w", id, classify(err))
	}
	return nil
}

// DeleteTarget marks a target deleted and ends its open deliveries as failed, in one transaction.
func (s *Store) DeleteTarget(ctx context.Context, id string, now time.Time) error {
	tx, err := s.writer.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("delete target %s: %w", id, classify(err))
	}
	defer tx.Rollback()
	res, err := tx.ExecContext(ctx, `UPDATE targets SET deleted_at=?, enabled=0 WHERE id=? AND deleted_at IS NULL`, now.UnixNano(), id)
	if err != nil {
		return fmt.Errorf("delete target %s: %w", id, classify(err))
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return fmt.Errorf("delete target %s: %w", id, hook.ErrNotFound)
	}
	if _, err := tx.ExecContext(ctx, `UPDATE deliveries SET status='failed', error='the target was deleted', next_at=NULL,
		updated_at=? WHERE target_id=? AND status IN ('pending','retrying')`, now.UnixNano(), id); err != nil {
		return fmt.Errorf("delete target %s: %w", id, classify(err))
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("delete target %s: %w", id, classify(err))
	}
	return nil
}

// Targets returns every target that is not deleted, oldest first.
func (s *Store) Targets(ctx context.Context) ([]hook.Target, error) {
	rows, err := s.writer.QueryContext(ctx, `SELECT `+targetColumns+` FROM targets WHERE deleted_at IS NULL ORDER BY created_at, id`)
	if err != nil {
		return nil, fmt.Errorf("read targets: %w", classify(err))
	}
	defer rows.Close()
	var out []hook.Target
	for rows.Next() {
		t, err := scanTarget(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, t)
	}
	return out, rows.Err()
}

// Target returns one target that is not deleted; ErrNotFound otherwise.
func (s *Store) Target(ctx context.Context, id string) (hook.Target, error) {
	t, err := scanTarget(s.writer.QueryRowContext(ctx, `SELECT `+targetColumns+` FROM targets WHERE id=? AND deleted_at IS NULL`, id))
	if errors.Is(err, sql.ErrNoRows) {
		return hook.Target{}, fmt.Errorf("target %s: %w", id, hook.ErrNotFound)
	}
	return t, err
}

func scanTarget(r scanner) (hook.Target, error) {
	var t hook.Target
	var cfg, state string
	var paused sql.NullInt64
	var created, updated int64
	if err := r.Scan(&t.ID, &t.EndpointID, &cfg, &t.Enabled, &state, &t.StateReason, &t.ConsecutiveFailures,
		&t.LastError, &paused, &created, &updated); err != nil {
		if errors.Is(err, sql.ErrNoRows) {
			return t, err
		}
		return t, fmt.Errorf("read target: %w", classify(err))
	}
	var c targetConfig
	if err := json.Unmarshal([]byte(cfg), &c); err != nil {
		return t, fmt.Errorf("read target %s: its settings are unreadable: %w", t.ID, err)
	}
	t.Kind, t.URL, t.Method, t.Headers = c.Kind, c.URL, c.Method, c.Headers
	t.Timeout, t.MaxRetries, t.RateLimitPerMinute = time.Duration(c.TimeoutMS)*time.Millisecond, c.MaxRetries, c.RateLimit
	t.EventTypes, t.Parallel, t.SignScheme, t.HomeAssistant, t.Command = c.EventTypes, c.Parallel, c.SignScheme, c.HomeAssistant, c.Command
	t.When, t.Transform, t.MQTT = c.When, c.Transform, c.MQTT
	for _, ms := range c.RetryScheduleMS {
		t.RetrySchedule = append(t.RetrySchedule, time.Duration(ms)*time.Millisecond)
	}
	t.State = hook.TargetState(state)
	if paused.Valid {
		t.PausedUntil = time.Unix(0, paused.Int64).UTC()
	}
	t.CreatedAt, t.UpdatedAt = time.Unix(0, created).UTC(), time.Unix(0, updated).UTC()
	return t, nil
}
