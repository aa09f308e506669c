package storage

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"
)

// Setting returns the JSON stored under key, and whether there was one.
func (s *Store) Setting(ctx context.Context, key string) (string, bool, error) {
	var v string
	err := s.writer.QueryRowContext(ctx, `SELECT value FROM settings WHERE key=?`, key).Scan(&v)
	if errors.Is(err, sql.ErrNoRows) {
		return "", false, nil
	}
	if err != nil {
		return "", false, fmt.Errorf("read setting %s: %w", key, classify(err))
	}
	return v, true, nil
}

// PutSetting stores value (JSON) under key.
func (s *Store) PutSetting(ctx context.Context, key, value string) error {
	_, err := s.writer.ExecContext(ctx, `INSERT INTO settings (key, value, updated_at) VALUES (?,?,?)
		ON CONFLICT(key) DO UPDATE SET value=excluded.value, updated_at=excluded.updated_at`, key, value, time.Now().UnixNano())
	if err != nil {
		return fmt.Errorf("store setting %s: %w", key, classify(err))
	}
	return nil
}

// AppSecret returns the sealed secret stored under name (nil when there is none).
func (s *Store) AppSecret(ctx context.Context, name string) (nonce, ciphertext []byte, err error) {
	err = s.writer.QueryRowContext(ctx, `SELECT nonce, ciphertext FROM app_secrets WHERE name=?`, name).Scan(&nonce, &ciphertext)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, nil, nil
	}
	if err != nil {
		return nil, nil, fmt.Errorf("read secret %s: %w", name, classify(err))
	}
	return nonce, ciphertext, nil
}

// PutAppSecret stores a sealed secret under name, replacing the one there.
func (s *Store) PutAppSecret(ctx context.Context, name string, nonce, ciphertext []byte) error {
	_, err := s.writer.ExecContext(ctx, `INSERT INTO app_secrets (name, nonce, ciphertext, updated_at) VALUES (?,?,?,?)
		ON CONFLICT(name) DO UPDATE SET nonce=excluded.nonce, ciphertext=excluded.ciphertext, updated_at=excluded.updated_at`,
		name, nonce, ciphertext, time.Now().UnixNano())
	if err != nil {
		return fmt.Errorf("store secret %s: %w", name, classify(err))
	}
	return nil
}

// DeleteAppSecret removes the secret stored under name, if any.
func (s *Store) DeleteAppSecret(ctx context.Context, name string) error {
	if _, err := s.writer.ExecContext(ctx, `DELETE FROM app_secrets WHERE name=?`, name); err != nil {
		return fmt.Errorf("delete secret %s: %w", name, classify(err))
	}
	return nil
}
