package storage

import (
	"context"
	"database/sql"
	"fmt"
	"time"

	"github.com/hooktray/hooktray/hook"
)

// AddSecret stores a sealed secret and sets its ID.
func (s *Store) AddSecret(ctx context.Context, sec *hook.SealedSecret) error {
	now := time.Now().UTC()
	sec.CreatedAt = now
	res, err := s.writer.ExecContext(ctx, `INSERT INTO secrets (endpoint_id, purpose, nonce, ciphertext, created_at, expires_at)
		VALUES (?,?,?,?,?,?)`, sec.EndpointID, sec.Purpose, sec.Nonce, sec.Ciphertext, now.UnixNano(), nullTime(sec.ExpiresAt))
	if err != nil {
		return fmt.Errorf("store secret of %s: %w", sec.EndpointID, err)
	}
	sec.ID, _ = res.LastInsertId()
	return nil
}

// ExpireSecrets sets the expiry of an endpoint's current secrets of a purpose (rotation grace).
func (s *Store) ExpireSecrets(ctx context.Context, endpointID, purpose string, at time.Time) error {
	_, err := s.writer.ExecContext(ctx, `UPDATE secrets SET expires_at=? WHERE endpoint_id=? AND purpose=?
		AND (expires_at IS NULL OR expires_at > ?)`, at.UnixNano(), endpointID, purpose, at.UnixNano())
	if err != nil {
		return fmt.Errorf("expire secrets of %s: %w", endpointID, err)
	}
	return nil
}

// Secrets returns an endpoint's unexpired secrets of a purpose at now, newest first.
func (s *Store) Secrets(ctx context.Context, endpointID, purpose string, now time.Time) ([]hook.SealedSecret, error) {
	rows, err := s.writer.QueryContext(ctx, `SELECT id, endpoint_id, purpose, nonce, ciphertext, created_at, expires_at
		FROM secrets WHERE endpoint_id=? AND purpose=? AND (expires_at IS NULL OR expires_at > ?) ORDER BY id DESC`,
		endpointID, purpose, now.UnixNano())
	if err != nil {
		return nil, fmt.Errorf("read secrets of %s: %w", endpointID, err)
	}
	defer rows.Close()
	var out []hook.SealedSecret
	for rows.Next() {
		var sec hook.SealedSecret
		var created int64
		var expires sql.NullInt64
		if err := rows.Scan(&sec.ID, &sec.EndpointID, &sec.Purpose, &sec.Nonce, &sec.Ciphertext, &created, &expires); err != nil {
			return nil, fmt.Errorf("read secrets of %s: %w", endpointID, err)
		}
		sec.CreatedAt = time.Unix(0, created).UTC()
		if expires.Valid {
			sec.ExpiresAt = time.Unix(0, expires.Int64).UTC()
		}
		out = append(out, sec)
	}
	return out, rows.Err()
}

// HasSecrets reports whether any sealed secret is stored: then the master key that sealed it must
// never be replaced by a new one.
func (s *Store) HasSecrets(ctx context.Context) (bool, error) {
	var n int
	if err := s.writer.QueryRowContext(ctx, `SELECT (SELECT count(*) FROM (SELECT 1 FROM secrets LIMIT 1)) + (SELECT count(*) FROM (SELECT 1 FROM app_secrets LIMIT 1))`).Scan(&n); err != nil {
		return false, fmt.Errorf("look for stored secrets: %w", err)
	}
	return n > 0, nil
}

// DeleteExpiredSecrets removes secrets whose grace period is over.
func (s *Store) DeleteExpiredSecrets(ctx context.Context, now time.Time) (int64, error) {
	res, err := s.writer.ExecContext(ctx, `DELETE FROM secrets WHERE expires_at IS NOT NULL AND expires_at <= ?`, now.UnixNano())
	if err != nil {
		return 0, fmt.Errorf("delete expired secrets: %w", err)
	}
	n, _ := res.RowsAffected()
	return n, nil
}

// ExpiringSecrets returns the ids and expiry times of the secrets in a rotation's grace period.
func (s *Store) ExpiringSecrets(ctx context.Context) (map[int64]time.Time, error) {
	rows, err := s.writer.QueryContext(ctx, `SELECT id, expires_at FROM secrets WHERE expires_at IS NOT NULL`)
	if err != nil {
		return nil, fmt.Errorf("read expiring secrets: %w", err)
	}
	defer rows.Close()
	out := map[int64]time.Time{}
	for rows.Next() {
		var id, at int64
		if err := rows.Scan(&id, &at); err != nil {
			return nil, fmt.Errorf("read expiring secrets: %w", err)
		}
		out[id] = time.Unix(0, at).UTC()
	}
	return out, rows.Err()
}

// DeleteSecrets removes the secrets with these ids.
func (s *Store) DeleteSecrets(ctx context.Context, ids []int64) error {
	for _, id := range ids {
		if _, err := s.writer.ExecContext(ctx, `DELETE FROM secrets WHERE id = ?`, id); err != nil {
			return fmt.Errorf("delete a secret: %w", err)
		}
	}
	return nil
}

func nullTime(t time.Time) any {
	if t.IsZero() {
		return nil
	}
	return t.UnixNano()
}
