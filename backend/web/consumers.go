package web

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/gofiber/fiber/v2"

	"github.com/tickwatch/tickwatch/backend/internal/logsafe"
	"github.com/tickwatch/tickwatch/backend/live"
	"github.com/tickwatch/tickwatch/backend/massive"
)

// The relay (issue 13, docs/relay.md): programs that speak Massive's
// protocol connect at /stocks with a consumer key. web serves the admin's
// side of it, the consumer keys and the connected consumers, through the
// two small interfaces below; app hands it the relay hub and the store
// behind adapters, so web imports neither.

// Relay is the running relay as the consumers view needs it.
type Relay interface {
	Consumers() RelaySnapshot
	// Disconnect ends consumer connection id (force_disconnect); false:
	// no such connection.
	Disconnect(id uint64) bool
	// DisconnectKey ends every connection made with consumer key id and
	// says how many there were.
	DisconnectKey(keyID int64) int
}

// RelayConsumer is one connected consumer (relay.ConsumerStats).
type RelayConsumer struct {
	ID            uint64    `json:"id"`
	Name          string    `json:"name"`       // the key's name; "" before auth
	KeyPrefix     string    `json:"key_prefix"` // never the key
	KeyID         int64     `json:"key_id"`     // 0 before auth
	Remote        string    `json:"remote"`
	Since         time.Time `json:"since"`
	Authenticated bool      `json:"authenticated"`
	Subscriptions int       `json:"subscriptions"`
	QueueDepth    int       `json:"queue_depth"` // frames waiting
	Sent          uint64    `json:"sent"`        // events written
	Dropped       uint64    `json:"dropped"`     // events discarded when it was cut off as slow
	Slow          bool      `json:"slow"`        // being cut off as a slow consumer
}

// RelaySnapshot is the relay's state: the connected consumers and the
// relay's totals since start.
type RelaySnapshot struct {
	Consumers        []RelayConsumer `json:"consumers"`
	ConnectionsTotal uint64          `json:"connections_total"`
	SlowDisconnects  uint64          `json:"slow_disconnects"`
	AuthFailures     uint64          `json:"auth_failures"`
	MaxConnRefusals  uint64          `json:"max_conn_refusals"`
	EventsIn         uint64          `json:"events_in"`
	EventsOut        uint64          `json:"events_out"`
}

// ConsumerKey is a consumer key's record (never the key or its hash).
type ConsumerKey struct {
	ID         int64      `json:"id"`
	Name       string     `json:"name"`
	Prefix     string     `json:"prefix"`     // first characters of the key, for telling keys apart
	AllowList  []string   `json:"allow_list"` // tickers it may subscribe; empty: any
	MaxConns   int        `json:"max_conns"`  // simultaneous connections; 0: no cap
	CreatedBy  string     `json:"created_by"`
	CreatedAt  time.Time  `json:"created_at"`
	LastUsedAt *time.Time `json:"last_used_at,omitempty"`
	RevokedAt  *time.Time `json:"revoked_at,omitempty"`
}

// ConsumerKeyStore keeps consumer keys. Its errors wrap ErrKeyNotFound or
// ErrKeyInvalid for those cases; anything else is a storage failure.
type ConsumerKeyStore interface {
	// CreateConsumerKey returns the plaintext (shown once, never logged).
	CreateConsumerKey(ctx context.Context, name string, allowList []string, maxConns int, by string) (string, ConsumerKey, error)
	ListConsumerKeys(ctx context.Context) ([]ConsumerKey, error)
	RevokeConsumerKey(ctx context.Context, id int64) error
}

// ConsumerKeyStore error kinds.
var (
	ErrKeyNotFound = errors.New("consumer key not found")
	ErrKeyInvalid  = errors.New("invalid consumer key request")
)

const (
	maxKeyName    = 128
	maxKeyConns   = 10000
	createKeyForm = `expected JSON {"name": "risk monitor", "allow_list": ["AAPL", "MSFT"] (optional, empty: any ticker), "max_conns": 2 (optional, 0: no cap)}`
)

// consumerKeyDoc is a record plus its state ("active" or "revoked") and
// how many connections use it now. Its times shadow the record's: on the
// wire they are Unix seconds like every other time the API answers with.
type consumerKeyDoc struct {
	ConsumerKey
	CreatedAt  float64  `json:"created_at"`
	LastUsedAt *float64 `json:"last_used_at,omitempty"`
	RevokedAt  *float64 `json:"revoked_at,omitempty"`
	State      string   `json:"state"`
	Connected  int      `json:"connected"`
}

func newConsumerKeyDoc(k ConsumerKey, connected int) consumerKeyDoc {
	d := consumerKeyDoc{ConsumerKey: k, CreatedAt: live.UnixSeconds(k.CreatedAt),
		LastUsedAt: optSeconds(k.LastUsedAt), RevokedAt: optSeconds(k.RevokedAt), State: "active", Connected: connected}
	if k.RevokedAt != nil {
		d.State, d.Connected = "revoked", 0
	}
	return d
}

// MarshalJSON writes Since as Unix seconds (0 when unknown), the API's one
// time format.
func (c RelayConsumer) MarshalJSON() ([]byte, error) {
	type fields RelayConsumer // no MarshalJSON: no recursion
	since := 0.0
	if !c.Since.IsZero() {
		since = live.UnixSeconds(c.Since)
	}
	return json.Marshal(struct {
		fields
		Since float64 `json:"since"`
	}{fields(c), since})
}

func (s *Server) consumerKeyDocs(keys []ConsumerKey) []consumerKeyDoc {
	perKey := map[int64]int{}
	if s.d.Relay != nil {
		for _, c := range s.d.Relay.Consumers().Consumers {
			if c.Authenticated {
				perKey[c.KeyID]++
			}
		}
	}
	out := make([]consumerKeyDoc, len(keys))
	for i, k := range keys {
		out[i] = newConsumerKeyDoc(k, perKey[k.ID])
	}
	return out
}

func (s *Server) listConsumerKeys(c *fiber.Ctx) error {
	keys, err := s.d.ConsumerKeys.ListConsumerKeys(c.UserContext())
	if err != nil {
		return keyStoreError(err)
	}
	return c.JSON(fiber.Map{"keys": s.consumerKeyDocs(keys)})
}

type createKeyRequest struct {
	Name      string   `json:"name"`
	AllowList []string `json:"allow_list"`
	MaxConns  int      `json:"max_conns"`
}

func (s *Server) createConsumerKey(c *fiber.Ctx) error {
	var req createKeyRequest
	// Strict: "allowlist" must not quietly make a key for every ticker.
	if err := decodeBody(c.Body(), &req, true, createKeyForm); err != nil {
		return err
	}
	req.Name = strings.TrimSpace(req.Name)
	if req.Name == "" || utf8.RuneCountInString(req.Name) > maxKeyName || strings.ContainsFunc(req.Name, isControl) {
		return errBadRequest("invalid name", fmt.Sprintf("name: 1 to %d characters without control characters, naming the program that uses the key", maxKeyName))
	}
	if req.MaxConns < 0 || req.MaxConns > maxKeyConns {
		return errBadRequest("invalid max_conns", fmt.Sprintf("max_conns: %d: use 0 (no cap) to %d", req.MaxConns, maxKeyConns))
	}
	allow := make([]string, 0, len(req.AllowList))
	seen := map[string]bool{}
	for _, t := range req.AllowList {
		n, err := massive.NormalizeTicker(t)
		if err != nil {
			return errBadRequest("invalid allow_list", fmt.Sprintf("allow_list: %q: %s", logsafe.Clip(t), massive.TickerForm))
		}
		if !seen[n] {
			seen[n] = true
			allow = append(allow, n)
		}
	}
	cl, _ := claimsFrom(c)
	plain, k, err := s.d.ConsumerKeys.CreateConsumerKey(c.UserContext(), req.Name, allow, req.MaxConns, cl.Username)
	target := fmt.Sprintf("consumer key %q", req.Name)
	if err == nil {
		target = fmt.Sprintf("consumer key %d %s %q", k.ID, k.Prefix, k.Name)
	}
	s.record(c, "consumer_key_create", target, err)
	if err != nil {
		return keyStoreError(err)
	}
	// The plaintext is in this body and nowhere else: no cache may keep it.
	c.Set(fiber.HeaderCacheControl, "no-store")
	return c.Status(fiber.StatusCreated).JSON(struct {
		Key string `json:"key"`
		consumerKeyDoc
	}{Key: plain, consumerKeyDoc: newConsumerKeyDoc(k, 0)})
}

// revokeConsumerKey revokes a key and closes its open connections: a
// revoked key must stop feeding a program at once, not at its next dial.
func (s *Server) revokeConsumerKey(c *fiber.Ctx) error {
	id, err := pathID(c, "GET /api/admin/consumer-keys")
	if err != nil {
		return err
	}
	keys, err := s.d.ConsumerKeys.ListConsumerKeys(c.UserContext())
	if err != nil {
		return keyStoreError(err)
	}
	var k ConsumerKey
	for _, x := range keys {
		if x.ID == int64(id) {
			k = x
		}
	}
	if k.ID == 0 {
		return errNotFound("unknown consumer key", fmt.Sprintf("no consumer key with id %d", id))
	}
	err = s.d.ConsumerKeys.RevokeConsumerKey(c.UserContext(), k.ID)
	n := 0
	if err == nil && s.d.Relay != nil {
		n = s.d.Relay.DisconnectKey(k.ID)
	}
	s.record(c, "consumer_key_revoke", fmt.Sprintf("consumer key %d %s %q (%d connections closed)", k.ID, k.Prefix, k.Name, n), err)
	if err != nil {
		return keyStoreError(err)
	}
	return c.JSON(fiber.Map{"ok": true, "id": k.ID, "disconnected": n})
}

func (s *Server) listConsumers(c *fiber.Ctx) error {
	snap := s.d.Relay.Consumers()
	if snap.Consumers == nil {
		snap.Consumers = []RelayConsumer{}
	}
	return c.JSON(snap)
}

func (s *Server) disconnectConsumer(c *fiber.Ctx) error {
	id, err := pathID(c, "GET /api/admin/consumers")
	if err != nil {
		return err
	}
	var who RelayConsumer
	for _, x := range s.d.Relay.Consumers().Consumers {
		if x.ID == id {
			who = x
		}
	}
	if who.ID == 0 || !s.d.Relay.Disconnect(id) {
		return errNotFound("unknown consumer", fmt.Sprintf("no consumer connection with id %d", id))
	}
	s.record(c, "consumer_disconnect", fmt.Sprintf("consumer %d %q from %s", who.ID, who.Name, logsafe.Clip(who.Remote)), nil)
	return c.JSON(fiber.Map{"ok": true, "id": id})
}

// pathID reads the numeric :id; from names where the ids are listed.
func pathID(c *fiber.Ctx, from string) (uint64, error) {
	raw := c.Params("id")
	id, err := strconv.ParseUint(raw, 10, 63)
	if err != nil || id < 1 {
		return 0, errBadRequest("invalid id", fmt.Sprintf("%q: use the numeric id from %s", logsafe.Clip(raw), from))
	}
	return id, nil
}

// keyStoreError maps the store's answers to HTTP statuses.
func keyStoreError(err error) error {
	switch {
	case errors.Is(err, ErrKeyInvalid):
		return errBadRequest("invalid consumer key request", err.Error())
	case errors.Is(err, ErrKeyNotFound):
		return errNotFound("unknown consumer key", err.Error())
	}
	return &apiError{Status: fiber.StatusServiceUnavailable, Message: "consumer key store unavailable", Detail: err.Error()}
}
