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

const endpointColumns = `id, name, enabled, response_status, response_body, response_content_type,
	body_limit, notes, verify_scheme, verify_mode, settings, created_at, updated_at, deleted_at`

// CreateEndpoint stores a new endpoint. CreatedAt and UpdatedAt are set to now.
func (s *Store) CreateEndpoint(ctx context.Context, e *hook.Endpoint) error {
	now := time.Now().UTC()
	e.CreatedAt, e.UpdatedAt = now, now
	settings, err := json.Marshal(e.Settings)
	if err != nil {
		return fmt.Errorf("create endpoint %q: %w", e.Name, err)
	}
	_, err = s.writer.ExecContext(ctx, `INSERT INTO endpoints (`+endpointColumns+`)
		VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,NULL)`,
		e.ID, e.Name, e.Enabled, e.ResponseStatus, e.ResponseBody, e.ResponseContentType,
		e.BodyLimit, e.Notes, e.VerifyScheme, e.VerifyMode, string(settings), now.UnixNano(), now.UnixNano())
	if err != nil {
		return fmt.Errorf("create endpoint %q: %w", e.Name, err)
	}
	return nil
}

// UpdateEndpoint saves every editable field of e. It returns ErrNotFound for an unknown or
// deleted endpoint.
func (s *Store) UpdateEndpoint(ctx context.Context, e *hook.Endpoint) error {
	now := time.Now().UTC()
	settings, err := json.Marshal(e.Settings)
	if err != nil {
		return fmt.Errorf("update endpoint %s: %w", e.ID, err)
	}
	res, err := s.writer.ExecContext(ctx, `UPDATE endpoints SET name=?, enabled=?, response_status=?,
		response_body=?, response_content_type=?, body_limit=?, notes=?, verify_scheme=?,
		verify_mode=?, settings=?, updated_at=? WHERE id=? AND deleted_at IS NULL`,
		e.Name, e.Enabled, e.ResponseStatus, e.ResponseBody, e.ResponseContentType, e.BodyLimit,
		e.Notes, e.VerifyScheme, e.VerifyMode, string(settings), now.UnixNano(), e.ID)
	if err != nil {
		return fmt.Errorf("update endpoint %s: %w", e.ID, err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return fmt.Errorf("update endpoint %s: %w", e.ID, hook.ErrNotFound)
	}
	e.UpdatedAt = now
	return nil
}

// DeleteEndpoint marks an endpoint deleted; its history stays. ErrNotFound if unknown or already
// deleted.
func (s *Store) DeleteEndpoint(ctx context.Context, id string) error {
	now := time.Now().UTC().UnixNano()
	res, err := s.writer.ExecContext(ctx,
		`UPDATE endpoints SET deleted_at=?, enabled=0, updated_at=? WHERE id=? AND deleted_at IS NULL`, now, now, id)
	if err != nil {
		return fmt.Errorf("delete endpoint %s: %w", id, err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return fmt.Errorf("delete endpoint %s: %w", id, hook.ErrNotFound)
	}
	return nil
}

// Endpoint returns one endpoint, deleted or not; ErrNotFound if the id was never created.
func (s *Store) Endpoint(ctx context.Context, id string) (hook.Endpoint, error) {
	row := s.reader.QueryRowContext(ctx, `SELECT `+endpointColumns+` FROM endpoints WHERE id=?`, id)
	e, err := scanEndpoint(row)
	if errors.Is(err, sql.ErrNoRows) {
		return hook.Endpoint{}, fmt.Errorf("endpoint %s: %w", id, hook.ErrNotFound)
	}
	if err != nil {
		return hook.Endpoint{}, fmt.Errorf("read endpoint %s: %w", id, err)
	}
	return e, nil
}

// AllEndpoints returns every endpoint including deleted ones, oldest first. The hub keeps them in
// memory so the receiver never queries per request.
func (s *Store) AllEndpoints(ctx context.Context) ([]hook.Endpoint, error) {
	// Read through the writer so a caller that just wrote sees its own write.
	rows, err := s.writer.QueryContext(ctx, `SELECT `+endpointColumns+` FROM endpoints ORDER BY created_at, id`)
	if err != nil {
		return nil, fmt.Errorf("list endpoints: %w", err)
	}
	defer rows.Close()
	var out []hook.Endpoint
	for rows.Next() {
		e, err := scanEndpoint(rows)
		if err != nil {
			return nil, fmt.Errorf("list endpoints: %w", err)
		}
		out = append(out, e)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("list endpoints: %w", err)
	}
	return out, nil
}

type scanner interface{ Scan(dest ...any) error }

func scanEndpoint(r scanner) (hook.Endpoint, error) {
	var e hook.Endpoint
	var created, updated int64
	var deleted sql.NullInt64
	var settings []byte
	err := r.Scan(&e.ID, &e.Name, &e.Enabled, &e.ResponseStatus, &e.ResponseBody,
		&e.ResponseContentType, &e.BodyLimit, &e.Notes, &e.VerifyScheme, &e.VerifyMode,
		&settings, &created, &updated, &deleted)
	if err != nil {
		return hook.Endpoint{}, err
	}
	if err := e.Settings.UnmarshalJSON(settings); err != nil {
		return e, err
	}
	e.CreatedAt = time.Unix(0, created).UTC()
	e.UpdatedAt = time.Unix(0, updated).UTC()
	if deleted.Valid {
		e.DeletedAt = time.Unix(0, deleted.Int64).UTC()
	}
	return e, nil
}
