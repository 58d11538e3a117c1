package store

import (
	"bytes"
	"context"
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"regexp"
	"testing"
	"time"
)

// credKind drives the behaviour API tokens and consumer keys share through
// one table of tests.
type credKind struct {
	name   string
	marker string
	create func(s *Store, ctx context.Context) (plain string, id int64, prefix string, err error)
	lookup func(s *Store, ctx context.Context, plain string) (id int64, err error)
	revoke func(s *Store, ctx context.Context, id int64) error
	touch  func(s *Store, ctx context.Context, id int64, at time.Time) error
	// list returns id -> (last used, revoked) of every credential.
	list func(s *Store, ctx context.Context) (map[int64][2]*time.Time, error)
}

var credKinds = []credKind{{
	name:   "API token",
	marker: TokenMarker,
	create: func(s *Store, ctx context.Context) (string, int64, string, error) {
		p, tok, err := s.CreateToken(ctx, "alice", "admin", "grafana", nil)
		return p, tok.ID, tok.Prefix, err
	},
	lookup: func(s *Store, ctx context.Context, p string) (int64, error) {
		tok, err := s.LookupToken(ctx, p)
		return tok.ID, err
	},
	revoke: (*Store).RevokeToken,
	touch:  (*Store).TouchToken,
	list: func(s *Store, ctx context.Context) (map[int64][2]*time.Time, error) {
		all, err := s.ListTokens(ctx)
		m := map[int64][2]*time.Time{}
		for _, t := range all {
			m[t.ID] = [2]*time.Time{t.LastUsedAt, t.RevokedAt}
		}
		return m, err
	},
}, {
	name:   "consumer key",
	marker: ConsumerKeyMarker,
	create: func(s *Store, ctx context.Context) (string, int64, string, error) {
		p, k, err := s.CreateConsumerKey(ctx, "recorder", []string{"AAPL"}, 2, "admin")
		return p, k.ID, k.Prefix, err
	},
	lookup: func(s *Store, ctx context.Context, p string) (int64, error) {
		k, err := s.LookupConsumerKey(ctx, p)
		return k.ID, err
	},
	revoke: (*Store).RevokeConsumerKey,
	touch:  (*Store).TouchConsumerKey,
	list: func(s *Store, ctx context.Context) (map[int64][2]*time.Time, error) {
		all, err := s.ListConsumerKeys(ctx)
		m := map[int64][2]*time.Time{}
		for _, k := range all {
			m[k.ID] = [2]*time.Time{k.LastUsedAt, k.RevokedAt}
		}
		return m, err
	},
}}

func TestCredentials(t *testing.T) {
	for _, k := range credKinds {
		t.Run(k.name, func(t *testing.T) {
			dir := filepath.Join(t.TempDir(), "data")
			s, clk := openT(t, dir)
			ctx := ctxT(t)

			plain, id, prefix, err := k.create(s, ctx)
			if err != nil {
				t.Fatal(err)
			}
			if !regexp.MustCompile(`^` + k.marker + `[A-Za-z0-9_-]{43}$`).MatchString(plain) {
				t.Errorf("plaintext %q is not marker + 43 base64url characters", plain)
			}
			if prefix != plain[:len(k.marker)+displayChars] {
				t.Errorf("prefix %q is not the plaintext's first characters", prefix)
			}
			plain2, id2, _, err := k.create(s, ctx)
			if err != nil || plain2 == plain || id2 == id {
				t.Fatalf("second credential: %v (same plaintext or id?)", err)
			}

			// Stored hashed: the plaintext appears in none of the files.
			if err := s.Close(); err != nil {
				t.Fatal(err)
			}
			for _, f := range []string{FileName, FileName + "-wal"} {
				b, _ := os.ReadFile(filepath.Join(dir, f))
				if bytes.Contains(b, []byte(plain)) || bytes.Contains(b, []byte(plain[len(k.marker):])) {
					t.Errorf("%s holds the plaintext", f)
				}
			}
			s, err = Open(dir, Options{Now: clk.Now})
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { _ = s.Close() })

			// Survives the restart; found by its plaintext only.
			if got, err := k.lookup(s, ctx, plain); err != nil || got != id {
				t.Fatalf("lookup after restart = %d, %v; want %d", got, err, id)
			}
			wrongs := []string{
				"", "Bearer " + plain, plain[:len(plain)-1], plain + "x",
				plain[:len(plain)-1] + string(plain[len(plain)-1]^1), // one bit off
				otherMarker(k.marker) + plain[len(k.marker):],        // the other kind's marker
			}
			for _, w := range wrongs {
				if _, err := k.lookup(s, ctx, w); !errors.Is(err, ErrNotFound) {
					t.Errorf("lookup(%q) = %v, want ErrNotFound", w, err)
				}
			}

			// Last use: written, then throttled, then written again.
			touches := []struct {
				after time.Duration
				want  time.Duration // expected last-used offset from t0
			}{{0, 0}, {10 * time.Second, 0}, {DefaultTokenTouchInterval, DefaultTokenTouchInterval + 10*time.Second}}
			now := t0
			for i, tc := range touches {
				now = now.Add(tc.after)
				if err := k.touch(s, ctx, id, now); err != nil {
					t.Fatal(err)
				}
				m, err := k.list(s, ctx)
				if err != nil {
					t.Fatal(err)
				}
				if got := m[id][0]; got == nil || !got.Equal(t0.Add(tc.want)) {
					t.Errorf("touch %d: last used = %v, want %v", i, got, t0.Add(tc.want))
				}
			}

			// Revoke: idempotent, unknown id is ErrNotFound, the other
			// credential is untouched.
			clk.Advance(time.Hour)
			for range 2 {
				if err := k.revoke(s, ctx, id); err != nil {
					t.Fatal(err)
				}
			}
			if err := k.revoke(s, ctx, 9999); !errors.Is(err, ErrNotFound) {
				t.Errorf("revoke unknown = %v, want ErrNotFound", err)
			}
			if got, err := k.lookup(s, ctx, plain); !errors.Is(err, ErrRevoked) || got != id {
				t.Errorf("lookup revoked = %d, %v; want the record and ErrRevoked", got, err)
			}
			if _, err := k.lookup(s, ctx, plain2); err != nil {
				t.Errorf("the other credential: %v", err)
			}
			m, err := k.list(s, ctx)
			if err != nil || len(m) != 2 {
				t.Fatalf("list = %v, %v", m, err)
			}
			if r := m[id][1]; r == nil || !r.Equal(t0.Add(time.Hour)) {
				t.Errorf("revoked at %v, want %v (the first revoke's time)", r, t0.Add(time.Hour))
			}
		})
	}
}

func otherMarker(m string) string {
	if m == TokenMarker {
		return ConsumerKeyMarker
	}
	return TokenMarker
}

func TestTokenRecordAndExpiry(t *testing.T) {
	s, clk := openT(t, "")
	ctx := ctxT(t)
	exp := t0.Add(24 * time.Hour)
	plain, tok, err := s.CreateToken(ctx, "bob", "viewer", "cron", &exp)
	if err != nil {
		t.Fatal(err)
	}
	want := Token{ID: tok.ID, User: "bob", Role: "viewer", Name: "cron", Prefix: plain[:12], CreatedAt: t0, ExpiresAt: &exp}
	if !reflect.DeepEqual(tok, want) {
		t.Errorf("record\n got %+v\nwant %+v", tok, want)
	}
	clk.Advance(24*time.Hour - time.Millisecond)
	if _, err := s.LookupToken(ctx, plain); err != nil {
		t.Errorf("a millisecond before expiry: %v", err)
	}
	clk.Advance(time.Millisecond)
	got, err := s.LookupToken(ctx, plain)
	if !errors.Is(err, ErrExpired) || got.User != "bob" {
		t.Errorf("at expiry: %+v, %v; want the record and ErrExpired", got, err)
	}
}

func TestRevokeUserTokens(t *testing.T) {
	s, _ := openT(t, "")
	ctx := ctxT(t)
	var bobs []string
	for _, u := range []string{"bob", "alice", "bob"} {
		p, _, err := s.CreateToken(ctx, u, "viewer", "t", nil)
		if err != nil {
			t.Fatal(err)
		}
		if u == "bob" {
			bobs = append(bobs, p)
		}
	}
	if n, err := s.RevokeUserTokens(ctx, "bob"); err != nil || n != 2 {
		t.Fatalf("RevokeUserTokens = %d, %v; want 2", n, err)
	}
	for _, p := range bobs {
		if _, err := s.LookupToken(ctx, p); !errors.Is(err, ErrRevoked) {
			t.Errorf("bob's token: %v, want ErrRevoked", err)
		}
	}
	if n, err := s.RevokeUserTokens(ctx, "bob"); err != nil || n != 0 {
		t.Errorf("again = %d, %v; want 0", n, err)
	}
	toks, err := s.ListTokens(ctx)
	if err != nil || len(toks) != 3 || toks[0].ID < toks[2].ID {
		t.Errorf("ListTokens (newest first) = %+v, %v", toks, err)
	}
}

func TestConsumerKeyRecord(t *testing.T) {
	s, _ := openT(t, "")
	ctx := ctxT(t)
	plain, k, err := s.CreateConsumerKey(ctx, "risk", []string{"AAPL", "MSFT"}, 3, "admin")
	if err != nil {
		t.Fatal(err)
	}
	want := ConsumerKey{ID: k.ID, Name: "risk", Prefix: plain[:12], AllowList: []string{"AAPL", "MSFT"}, MaxConns: 3, CreatedBy: "admin", CreatedAt: t0}
	got, err := s.LookupConsumerKey(ctx, plain)
	if err != nil || !reflect.DeepEqual(got, want) || !reflect.DeepEqual(k, want) {
		t.Errorf("record\n got %+v (created %+v), %v\nwant %+v", got, k, err, want)
	}
	_, open, err := s.CreateConsumerKey(ctx, "notebook", nil, 0, "admin")
	if err != nil || open.AllowList == nil || len(open.AllowList) != 0 || open.MaxConns != 0 {
		t.Errorf("no allow-list, no cap: %+v, %v", open, err)
	}
}

func TestCredentialsRefuseBadInput(t *testing.T) {
	s, _ := openT(t, "")
	ctx := ctxT(t)
	past := t0.Add(-time.Second)
	long := string(bytes.Repeat([]byte("n"), maxNameLen+1))
	cases := map[string]error{
		"token without user":     third(s.CreateToken(ctx, "", "admin", "n", nil)),
		"token without role":     third(s.CreateToken(ctx, "u", "", "n", nil)),
		"token without name":     third(s.CreateToken(ctx, "u", "admin", " ", nil)),
		"token with long name":   third(s.CreateToken(ctx, "u", "admin", long, nil)),
		"token expired at birth": third(s.CreateToken(ctx, "u", "admin", "n", &past)),
		"key without name":       third(s.CreateConsumerKey(ctx, "", nil, 0, "a")),
		"key with negative cap":  third(s.CreateConsumerKey(ctx, "n", nil, -1, "a")),
		"key with empty ticker":  third(s.CreateConsumerKey(ctx, "n", []string{"AAPL", ""}, 0, "a")),
	}
	for name, err := range cases {
		if !errors.Is(err, ErrInvalid) {
			t.Errorf("%s: err = %v, want ErrInvalid", name, err)
		}
	}
	toks, _ := s.ListTokens(ctx)
	keys, _ := s.ListConsumerKeys(ctx)
	if len(toks)+len(keys) != 0 {
		t.Errorf("refused input stored %d tokens, %d keys", len(toks), len(keys))
	}
}

func third[A, B any](_ A, _ B, err error) error { return err }
