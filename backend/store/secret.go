package store

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"database/sql"
	"encoding/base64"
	"fmt"
	"strings"
	"time"
)

// Credential markers: the first characters of a plaintext say what it is,
// so a leaked one is recognisable (and secret scanners can match it).
const (
	TokenMarker       = "twt_" // API token (issue 10)
	ConsumerKeyMarker = "twk_" // relay consumer key (issue 13)
)

// secretBytes of randomness: 256 bits, so guessing is hopeless and a single
// fast hash is enough to store it (see hashSecret).
const secretBytes = 32

// displayChars of the random part form the non-secret prefix shown in
// lists ("twt_Ab3xK9_q"): enough to tell tokens apart, 48 of 256 bits.
const displayChars = 8

// plaintextLen is marker + base64url(secretBytes) without padding.
var plaintextLen = len(TokenMarker) + base64.RawURLEncoding.EncodedLen(secretBytes)

// newSecret makes a credential: the plaintext (shown once), its display
// prefix and the hash to store.
func newSecret(marker string) (plain, prefix string, hash []byte, err error) {
	b := make([]byte, secretBytes)
	if _, err := rand.Read(b); err != nil {
		return "", "", nil, fmt.Errorf("generate credential: %w", err)
	}
	plain = marker + base64.RawURLEncoding.EncodeToString(b)
	return plain, plain[:len(marker)+displayChars], hashSecret(plain), nil
}

// hashSecret is SHA-256, deliberately not bcrypt/argon2: those slow hashes
// exist to protect low-entropy passwords from offline guessing. Our secrets
// are 256 random bits, which no amount of guessing reaches, so a slow hash
// would add nothing but CPU per API request. Lookup by hash is also what
// makes it timing-safe: the database compares hashes of the candidate, and
// learning how many leading bytes of a SHA-256 matched tells an attacker
// nothing about the secret.
func hashSecret(plain string) []byte {
	h := sha256.Sum256([]byte(plain))
	return h[:]
}

// wellFormed rejects anything that cannot be one of our credentials before
// it costs a query.
func wellFormed(marker, plain string) bool {
	return len(plain) == plaintextLen && strings.HasPrefix(plain, marker)
}

// credTable names a credential table and the noun for messages. The table
// name is a constant of this package, never user input.
type credTable struct {
	table string
	noun  string
}

var (
	tokensTable    = credTable{table: "api_tokens", noun: "API token"}
	consumersTable = credTable{table: "consumer_keys", noun: "consumer key"}
)

// revoke stamps revoked_ms on id (keeping the first stamp if revoked
// twice). Revoking is idempotent; an unknown id is ErrNotFound.
func (s *Store) revoke(ctx context.Context, ct credTable, id int64) error {
	op := fmt.Sprintf("revoke %s %d", ct.noun, id)
	return s.write(ctx, op, func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, `UPDATE `+ct.table+` SET revoked_ms = COALESCE(revoked_ms, ?) WHERE id = ?`,
			ms(s.now()), id)
		if err != nil {
			return err
		}
		if n, err := res.RowsAffected(); err != nil {
			return err
		} else if n == 0 {
			return fmt.Errorf("%w: no %s with id %d", ErrNotFound, ct.noun, id)
		}
		return nil
	})
}

// touchKey identifies one credential for the last-used throttle.
type touchKey struct {
	table string
	id    int64
}

// touch records that credential id was used at `at`, but writes at most once
// per touchEvery per credential: the in-memory map answers most calls, and
// the WHERE clause keeps a stamp from going backwards.
func (s *Store) touch(ctx context.Context, ct credTable, id int64, at time.Time) error {
	k := touchKey{ct.table, id}
	s.touchMu.Lock()
	last, seen := s.touched[k]
	if seen && at.Sub(last) < s.touchEvery {
		s.touchMu.Unlock()
		return nil
	}
	s.touched[k] = at
	s.touchMu.Unlock()

	op := fmt.Sprintf("save last use of %s %d", ct.noun, id)
	err := s.write(ctx, op, func(tx *sql.Tx) error {
		_, err := tx.ExecContext(ctx, `UPDATE `+ct.table+` SET last_used_ms = ? WHERE id = ? AND (last_used_ms IS NULL OR last_used_ms < ?)`,
			ms(at), id, ms(at))
		return err
	})
	if err != nil {
		// Forget the stamp so the next use retries the write.
		s.touchMu.Lock()
		if s.touched[k] == at {
			delete(s.touched, k)
		}
		s.touchMu.Unlock()
	}
	return err
}
