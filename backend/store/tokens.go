package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"time"
)

// maxNameLen bounds the admin-chosen name of a token or consumer key.
const maxNameLen = 128

// Token is an API token's record; the plaintext is never stored.
type Token struct {
	ID         int64      `json:"id"`
	User       string     `json:"user"`
	Role       string     `json:"role"`
	Name       string     `json:"name"`
	Prefix     string     `json:"prefix"` // first characters of the plaintext, for display
	CreatedAt  time.Time  `json:"created_at"`
	ExpiresAt  *time.Time `json:"expires_at,omitempty"`
	LastUsedAt *time.Time `json:"last_used_at,omitempty"`
	RevokedAt  *time.Time `json:"revoked_at,omitempty"`
}

const tokenCols = `id, user, role, name, prefix, created_ms, expires_ms, last_used_ms, revoked_ms`

func scanToken(sc rowScanner) (Token, error) {
	var t Token
	var created int64
	var expires, used, revoked sql.NullInt64
	if err := sc.Scan(&t.ID, &t.User, &t.Role, &t.Name, &t.Prefix, &created, &expires, &used, &revoked); err != nil {
		return Token{}, err
	}
	t.CreatedAt = fromMS(created)
	t.ExpiresAt, t.LastUsedAt, t.RevokedAt = fromNullMS(expires), fromNullMS(used), fromNullMS(revoked)
	return t, nil
}

func checkName(name string) error {
	if strings.TrimSpace(name) == "" || len(name) > maxNameLen {
		return fmt.Errorf("%w: name must be 1-%d characters", ErrInvalid, maxNameLen)
	}
	return nil
}

// CreateToken makes an API token for user with role, named name, expiring at
// expiresAt (nil: never). It returns the plaintext, which exists only in
// this return value: show it once, never log it.
func (s *Store) CreateToken(ctx context.Context, user, role, name string, expiresAt *time.Time) (string, Token, error) {
	op := fmt.Sprintf("create API token %q for %s", clipField(name), clipField(user))
	now := s.now()
	var bad error
	switch {
	case user == "" || role == "":
		bad = fmt.Errorf("%w: user and role are required", ErrInvalid)
	case expiresAt != nil && !expiresAt.After(now):
		bad = fmt.Errorf("%w: expiry %s is not in the future", ErrInvalid, expiresAt.UTC().Format(time.RFC3339))
	default:
		bad = checkName(name)
	}
	if bad != nil {
		return "", Token{}, fmt.Errorf("%s: %w", op, bad)
	}
	plain, prefix, hash, err := newSecret(TokenMarker)
	if err != nil {
		return "", Token{}, fmt.Errorf("%s: %w", op, err)
	}
	t, err := insertReturning(ctx, s, op, scanToken, `INSERT INTO api_tokens (user, role, name, prefix, hash, created_ms, expires_ms)
VALUES (?, ?, ?, ?, ?, ?, ?) RETURNING `+tokenCols, user, role, name, prefix, hash, ms(now), toNullMS(expiresAt))
	if err != nil {
		return "", Token{}, err
	}
	return plain, t, nil
}

// LookupToken finds the token whose plaintext is plain. An unknown or
// malformed token is ErrNotFound; a revoked one ErrRevoked and an expired
// one ErrExpired, both returned with the record so the caller can audit
// whose token it was.
func (s *Store) LookupToken(ctx context.Context, plain string) (Token, error) {
	const op = "look up API token"
	t, err := findByHash(ctx, s, op, TokenMarker, plain, `SELECT `+tokenCols+` FROM api_tokens WHERE hash = ?`, scanToken)
	switch {
	case err != nil:
		return Token{}, err
	case t.RevokedAt != nil:
		return t, fmt.Errorf("%s %s of %s: %w", op, t.Prefix, t.User, ErrRevoked)
	case t.ExpiresAt != nil && !s.now().Before(*t.ExpiresAt):
		return t, fmt.Errorf("%s %s of %s: %w", op, t.Prefix, t.User, ErrExpired)
	}
	return t, nil
}

// ListTokens returns every token, revoked and expired ones included, newest first.
func (s *Store) ListTokens(ctx context.Context) ([]Token, error) {
	return queryAll(ctx, s, "list API tokens", `SELECT `+tokenCols+` FROM api_tokens ORDER BY id DESC`, scanToken)
}

// RevokeToken revokes token id; revoking twice is not an error, an unknown
// id is ErrNotFound.
func (s *Store) RevokeToken(ctx context.Context, id int64) error {
	return s.revoke(ctx, tokensTable, id)
}

// RevokeUserTokens revokes every live token of user (when the user is
// removed from the users file) and returns how many it revoked.
func (s *Store) RevokeUserTokens(ctx context.Context, user string) (int64, error) {
	var n int64
	err := s.write(ctx, "revoke API tokens of "+clipField(user), func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, `UPDATE api_tokens SET revoked_ms = ? WHERE user = ? AND revoked_ms IS NULL`, ms(s.now()), user)
		if err != nil {
			return err
		}
		n, err = res.RowsAffected()
		return err
	})
	return n, err
}

// TouchToken records that token id was used at `at`. Call it on every
// authenticated request: it writes at most once per TokenTouchInterval per
// token, so the last-used time is that coarse.
func (s *Store) TouchToken(ctx context.Context, id int64, at time.Time) error {
	return s.touch(ctx, tokensTable, id, at)
}

// rowScanner is what *sql.Row and *sql.Rows share.
type rowScanner interface{ Scan(...any) error }

// queryAll runs q on the read pool and scans every row with scan.
func queryAll[T any](ctx context.Context, s *Store, op, q string, scan func(rowScanner) (T, error), args ...any) ([]T, error) {
	rows, err := s.r.QueryContext(ctx, q, args...)
	if err != nil {
		return nil, classify(op, s.path, err)
	}
	out := []T{}
	for rows.Next() {
		v, err := scan(rows)
		if err != nil {
			rows.Close()
			return nil, classify(op, s.path, err)
		}
		out = append(out, v)
	}
	if err := closeRows(rows); err != nil {
		return nil, classify(op, s.path, err)
	}
	return out, nil
}

// insertReturning runs an INSERT ... RETURNING on the writer and scans the
// new row, so the caller gets the record exactly as stored.
func insertReturning[T any](ctx context.Context, s *Store, op string, scan func(rowScanner) (T, error), q string, args ...any) (T, error) {
	var v T
	err := s.write(ctx, op, func(tx *sql.Tx) error {
		var err error
		v, err = scan(tx.QueryRowContext(ctx, q, args...))
		return err
	})
	return v, err
}

// findByHash looks a credential up by the hash of its plaintext; a
// malformed or unknown plaintext is ErrNotFound.
func findByHash[T any](ctx context.Context, s *Store, op, marker, plain, q string, scan func(rowScanner) (T, error)) (T, error) {
	var zero T
	if !wellFormed(marker, plain) {
		return zero, fmt.Errorf("%s: %w", op, ErrNotFound)
	}
	v, err := scan(s.r.QueryRowContext(ctx, q, hashSecret(plain)))
	switch {
	case errors.Is(err, sql.ErrNoRows):
		return zero, fmt.Errorf("%s: %w", op, ErrNotFound)
	case err != nil:
		return zero, classify(op, s.path, err)
	}
	return v, nil
}
