package app

import (
	"context"
	"errors"
	"time"

	"github.com/tickwatch/tickwatch/backend/store"
	"github.com/tickwatch/tickwatch/backend/web"
)

// tokenStore hands the store's API tokens to web, which declares what it
// needs (web.TokenStore) instead of importing the store, and translates the
// store's error kinds into web's.
type tokenStore struct{ s *store.Store }

var _ web.TokenStore = tokenStore{}

func (t tokenStore) CreateToken(ctx context.Context, user, role, name string, expiresAt *time.Time) (string, web.APIToken, error) {
	plain, tok, err := t.s.CreateToken(ctx, user, role, name, expiresAt)
	return plain, web.APIToken(tok), tokenErr(err)
}

func (t tokenStore) LookupToken(ctx context.Context, plain string) (web.APIToken, error) {
	tok, err := t.s.LookupToken(ctx, plain)
	return web.APIToken(tok), tokenErr(err)
}

func (t tokenStore) ListTokens(ctx context.Context) ([]web.APIToken, error) {
	list, err := t.s.ListTokens(ctx)
	if err != nil {
		return nil, tokenErr(err)
	}
	out := make([]web.APIToken, len(list))
	for i, tok := range list {
		out[i] = web.APIToken(tok)
	}
	return out, nil
}

func (t tokenStore) RevokeToken(ctx context.Context, id int64) error {
	return tokenErr(t.s.RevokeToken(ctx, id))
}

func (t tokenStore) TouchToken(ctx context.Context, id int64, at time.Time) error {
	return tokenErr(t.s.TouchToken(ctx, id, at))
}

// tokenErr adds web's kind to a store error, keeping the store's message
// (it names the token and what to do) and its own kind.
func tokenErr(err error) error {
	return withKind(err, []errKind{
		{store.ErrNotFound, web.ErrTokenNotFound},
		{store.ErrRevoked, web.ErrTokenRevoked},
		{store.ErrExpired, web.ErrTokenExpired},
		{store.ErrInvalid, web.ErrTokenInvalid},
	})
}

// errKind maps a store error kind to web's.
type errKind struct{ from, to error }

// withKind adds the web kind of the first matching store kind to err.
func withKind(err error, kinds []errKind) error {
	for _, k := range kinds {
		if errors.Is(err, k.from) {
			return &kindError{kind: k.to, err: err}
		}
	}
	return err
}

type kindError struct{ kind, err error }

func (e *kindError) Error() string   { return e.err.Error() }
func (e *kindError) Unwrap() []error { return []error{e.kind, e.err} }
