package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"time"
)

// maxAllowList bounds a consumer key's ticker allow-list.
const maxAllowList = 10000

// ConsumerKey is a relay consumer key's record; the plaintext is never stored.
type ConsumerKey struct {
	ID     int64  `json:"id"`
	Name   string `json:"name"`
	Prefix string `json:"prefix"` // first characters of the plaintext, for display
	// AllowList limits the tickers the consumer may subscribe; empty: any.
	AllowList []string `json:"allow_list"`
	// MaxConns caps simultaneous connections with this key; 0: no cap.
	MaxConns   int        `json:"max_conns"`
	CreatedBy  string     `json:"created_by"`
	CreatedAt  time.Time  `json:"created_at"`
	LastUsedAt *time.Time `json:"last_used_at,omitempty"`
	RevokedAt  *time.Time `json:"revoked_at,omitempty"`
}

const consumerCols = `id, name, prefix, allow_list, max_conns, created_by, created_ms, last_used_ms, revoked_ms`

func scanConsumerKey(sc rowScanner) (ConsumerKey, error) {
	var k ConsumerKey
	var allow string
	var created int64
	var used, revoked sql.NullInt64
	if err := sc.Scan(&k.ID, &k.Name, &k.Prefix, &allow, &k.MaxConns, &k.CreatedBy, &created, &used, &revoked); err != nil {
		return ConsumerKey{}, err
	}
	if err := json.Unmarshal([]byte(allow), &k.AllowList); err != nil {
		return ConsumerKey{}, failf(ErrCorrupt, "consumer key %d has an unreadable allow-list", k.ID)
	}
	k.CreatedAt = fromMS(created)
	k.LastUsedAt, k.RevokedAt = fromNullMS(used), fromNullMS(revoked)
	return k, nil
}

// CreateConsumerKey makes a relay consumer key named name, limited to the
// tickers in allowList (empty: any) and to maxConns simultaneous
// connections (0: no cap), created by `by`. It returns the plaintext, which
// exists only in this return value: show it once, never log it.
func (s *Store) CreateConsumerKey(ctx context.Context, name string, allowList []string, maxConns int, by string) (string, ConsumerKey, error) {
	op := fmt.Sprintf("create consumer key %q", clipField(name))
	bad := checkName(name)
	if bad == nil && maxConns < 0 {
		bad = fmt.Errorf("%w: max connections %d is negative (0 means no cap)", ErrInvalid, maxConns)
	}
	if bad == nil && len(allowList) > maxAllowList {
		bad = fmt.Errorf("%w: allow-list has %d tickers, at most %d", ErrInvalid, len(allowList), maxAllowList)
	}
	for _, sym := range allowList {
		if bad == nil {
			bad = checkID("symbol", sym)
		}
	}
	if bad != nil {
		return "", ConsumerKey{}, fmt.Errorf("%s: %w", op, bad)
	}
	if allowList == nil {
		allowList = []string{}
	}
	allow, err := json.Marshal(allowList)
	if err != nil {
		return "", ConsumerKey{}, fmt.Errorf("%s: %w", op, err)
	}
	plain, prefix, hash, err := newSecret(ConsumerKeyMarker)
	if err != nil {
		return "", ConsumerKey{}, fmt.Errorf("%s: %w", op, err)
	}
	k, err := insertReturning(ctx, s, op, scanConsumerKey, `INSERT INTO consumer_keys (name, prefix, hash, allow_list, max_conns, created_by, created_ms)
VALUES (?, ?, ?, ?, ?, ?, ?) RETURNING `+consumerCols, name, prefix, hash, string(allow), maxConns, by, ms(s.now()))
	if err != nil {
		return "", ConsumerKey{}, err
	}
	return plain, k, nil
}

// LookupConsumerKey finds the key whose plaintext is plain: ErrNotFound for
// an unknown or malformed key, ErrRevoked (with the record) for a revoked one.
func (s *Store) LookupConsumerKey(ctx context.Context, plain string) (ConsumerKey, error) {
	const op = "look up consumer key"
	k, err := findByHash(ctx, s, op, ConsumerKeyMarker, plain, `SELECT `+consumerCols+` FROM consumer_keys WHERE hash = ?`, scanConsumerKey)
	switch {
	case err != nil:
		return ConsumerKey{}, err
	case k.RevokedAt != nil:
		return k, fmt.Errorf("%s %s (%s): %w", op, k.Prefix, k.Name, ErrRevoked)
	}
	return k, nil
}

// ListConsumerKeys returns every consumer key, revoked ones included, newest first.
func (s *Store) ListConsumerKeys(ctx context.Context) ([]ConsumerKey, error) {
	return queryAll(ctx, s, "list consumer keys", `SELECT `+consumerCols+` FROM consumer_keys ORDER BY id DESC`, scanConsumerKey)
}

// RevokeConsumerKey revokes key id; revoking twice is not an error, an
// unknown id is ErrNotFound. Connections already open with the key are the
// relay's to close.
func (s *Store) RevokeConsumerKey(ctx context.Context, id int64) error {
	return s.revoke(ctx, consumersTable, id)
}

// TouchConsumerKey records that key id authenticated at `at`, throttled
// like TouchToken.
func (s *Store) TouchConsumerKey(ctx context.Context, id int64, at time.Time) error {
	return s.touch(ctx, consumersTable, id, at)
}
