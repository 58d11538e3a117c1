package auth

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// MinSecretLen is the shortest accepted session secret (256 bits).
const MinSecretLen = 32

// Session token errors. Verify wraps nothing else, so callers can map all
// three to 401 and only log which one it was.
var (
	ErrInvalid = errors.New("auth: invalid session token")
	ErrExpired = errors.New("auth: session expired")
	ErrEnded   = errors.New("auth: session ended") // logged out, revoked, or the server restarted
)

// tokenVersion is part of the signed data: a format change makes every old
// token invalid instead of misread. v1 tokens carried the user and role and
// were valid on their own; v2 tokens only name a server-side session.
const tokenVersion = "v2"

// maxTokenLen bounds the work done on a hostile cookie.
const maxTokenLen = 1024

// MaxSessionsPerUser bounds the sessions one user keeps: a script that logs
// in over and over must not grow the registry without end. Issuing one more
// ends that user's oldest.
const MaxSessionsPerUser = 50

// maxUserAgentLen bounds what a session keeps of the User-Agent header.
const maxUserAgentLen = 256

// lastSeenEvery throttles the last-seen update: a busy dashboard makes a
// request every few seconds, and "last seen 10 s ago" is precise enough.
const lastSeenEvery = 10 * time.Second

// Claims is what a valid session token resolves to.
type Claims struct {
	SessionID string
	Username  string
	Role      Role
	Expires   time.Time
}

// Client is where a session was opened from, as the web layer saw it.
type Client struct {
	Addr      string // the client address (after TRUSTED_PROXIES)
	UserAgent string
}

// Session is one logged-in session as the registry lists it. The ID is not
// a credential: the cookie is the ID signed with the session secret, so an
// admin who sees IDs in the sessions list cannot forge a cookie from one.
type Session struct {
	ID       string
	Username string
	Role     Role
	Created  time.Time
	LastSeen time.Time
	Expires  time.Time
	Client   Client
}

type sessionEntry struct {
	s        Session      // immutable after Issue, LastSeen aside
	lastSeen atomic.Int64 // unix nanoseconds
}

func (e *sessionEntry) snapshot() Session {
	s := e.s
	s.LastSeen = time.Unix(0, e.lastSeen.Load())
	return s
}

// Sessions is the server-side session registry. A session is created by
// Issue at login and lives until logout (End), an admin's revocation (End),
// a change to its user (EndUser), its expiry, or a restart: the registry is
// in memory, so a restart logs everyone out. The cookie is
//
//	base64url(session-id|expiry-unix) "." base64url(HMAC-SHA256)
//
// and Verify accepts it only while the registry still holds that session:
// the server decides, not the cookie. Safe for concurrent use.
type Sessions struct {
	secret []byte
	ttl    time.Duration
	now    func() time.Time

	mu    sync.Mutex
	byID  map[string]*sessionEntry
	onEnd func(Session)
}

// NewSessions needs a secret of at least MinSecretLen bytes and a positive
// ttl. now may be nil (time.Now).
func NewSessions(secret []byte, ttl time.Duration, now func() time.Time) (*Sessions, error) {
	if len(secret) < MinSecretLen {
		// The length is safe to report; the secret is not.
		return nil, fmt.Errorf("auth: session secret is %d bytes, need at least %d", len(secret), MinSecretLen)
	}
	if ttl < time.Second {
		return nil, fmt.Errorf("auth: session ttl %s is too short (need at least 1s)", ttl)
	}
	if now == nil {
		now = time.Now
	}
	return &Sessions{secret: append([]byte(nil), secret...), ttl: ttl, now: now, byID: map[string]*sessionEntry{}}, nil
}

// OnEnd sets fn to be called, outside the registry's lock, with every
// session that ends (End, EndUser, expiry noticed, the per-user bound), so
// whoever holds resources of a session (its open /admin-ws sockets) can let
// them go. Set it once, before serving.
func (s *Sessions) OnEnd(fn func(Session)) {
	s.mu.Lock()
	s.onEnd = fn
	s.mu.Unlock()
}

// GenerateSecret returns a random MinSecretLen-byte secret.
func GenerateSecret() ([]byte, error) {
	b := make([]byte, MinSecretLen)
	if _, err := rand.Read(b); err != nil {
		return nil, fmt.Errorf("auth: generate session secret: %w", err)
	}
	return b, nil
}

// String and GoString keep the secret out of %v / %+v / %#v.
func (s *Sessions) String() string { return fmt.Sprintf("auth.Sessions{ttl: %s}", s.ttl) }

// GoString: see String.
func (s *Sessions) GoString() string { return s.String() }

// TTL is the lifetime of issued sessions.
func (s *Sessions) TTL() time.Duration { return s.ttl }

// Issue opens a session for u from client and signs its cookie value,
// valid until expires (whole seconds, so the cookie's Expires matches).
func (s *Sessions) Issue(u User, client Client) (token string, expires time.Time, err error) {
	if err := validateUsername(u.Username); err != nil {
		return "", time.Time{}, fmt.Errorf("auth: issue session: %w", err)
	}
	if !u.Role.Valid() {
		return "", time.Time{}, fmt.Errorf("auth: issue session for %q: unknown role", u.Username)
	}
	raw := make([]byte, 16)
	if _, err := rand.Read(raw); err != nil {
		return "", time.Time{}, fmt.Errorf("auth: issue session: %w", err)
	}
	id := base64.RawURLEncoding.EncodeToString(raw)
	now := s.now()
	exp := time.Unix(now.Add(s.ttl).Unix(), 0)
	if len(client.UserAgent) > maxUserAgentLen {
		client.UserAgent = strings.ToValidUTF8(client.UserAgent[:maxUserAgentLen], "")
	}
	e := &sessionEntry{s: Session{ID: id, Username: u.Username, Role: u.Role, Created: now, Expires: exp, Client: client}}
	e.lastSeen.Store(now.UnixNano())

	s.mu.Lock()
	ended := s.pruneLocked(now)
	var mine []*sessionEntry
	for _, o := range s.byID {
		if o.s.Username == u.Username {
			mine = append(mine, o)
		}
	}
	if len(mine) >= MaxSessionsPerUser {
		slices.SortFunc(mine, func(a, b *sessionEntry) int { return a.s.Created.Compare(b.s.Created) })
		for _, o := range mine[:len(mine)-MaxSessionsPerUser+1] {
			delete(s.byID, o.s.ID)
			ended = append(ended, o.snapshot())
		}
	}
	s.byID[id] = e
	onEnd := s.onEnd
	s.mu.Unlock()
	notify(onEnd, ended)

	payload := id + "|" + strconv.FormatInt(exp.Unix(), 10)
	enc := base64.RawURLEncoding
	return enc.EncodeToString([]byte(payload)) + "." + enc.EncodeToString(s.mac(payload)), exp, nil
}

// pruneLocked drops expired sessions and returns them.
func (s *Sessions) pruneLocked(now time.Time) []Session {
	var ended []Session
	for id, e := range s.byID {
		if !now.Before(e.s.Expires) {
			delete(s.byID, id)
			ended = append(ended, e.snapshot())
		}
	}
	return ended
}

func notify(onEnd func(Session), ended []Session) {
	if onEnd == nil {
		return
	}
	for _, e := range ended {
		onEnd(e)
	}
}

// Verify checks the signature first (constant time), then the expiry, then
// that the registry still holds the session, whose last-seen time it
// refreshes. It returns ErrInvalid, ErrExpired or ErrEnded; the token itself
// never appears in an error.
func (s *Sessions) Verify(token string) (Claims, error) {
	if len(token) == 0 || len(token) > maxTokenLen {
		return Claims{}, ErrInvalid
	}
	p64, m64, ok := strings.Cut(token, ".")
	if !ok {
		return Claims{}, ErrInvalid
	}
	enc := base64.RawURLEncoding
	raw, err1 := enc.DecodeString(p64)
	mac, err2 := enc.DecodeString(m64)
	if err1 != nil || err2 != nil {
		return Claims{}, ErrInvalid
	}
	payload := string(raw)
	if !hmac.Equal(mac, s.mac(payload)) {
		return Claims{}, ErrInvalid
	}
	id, expText, ok := strings.Cut(payload, "|")
	unix, err := strconv.ParseInt(expText, 10, 64)
	if !ok || id == "" || err != nil {
		return Claims{}, ErrInvalid
	}
	now := s.now()
	if !now.Before(time.Unix(unix, 0)) {
		s.End(id) // if it is still listed, it is over now
		return Claims{}, ErrExpired
	}
	s.mu.Lock()
	e, found := s.byID[id]
	s.mu.Unlock()
	if !found {
		return Claims{}, ErrEnded
	}
	if last := e.lastSeen.Load(); now.UnixNano()-last >= int64(lastSeenEvery) {
		e.lastSeen.CompareAndSwap(last, now.UnixNano())
	}
	return Claims{SessionID: id, Username: e.s.Username, Role: e.s.Role, Expires: e.s.Expires}, nil
}

// End ends the session id at once (logout, an admin's revocation). It
// reports whether there was such a session.
func (s *Sessions) End(id string) (Session, bool) {
	s.mu.Lock()
	e, ok := s.byID[id]
	delete(s.byID, id)
	onEnd := s.onEnd
	s.mu.Unlock()
	if !ok {
		return Session{}, false
	}
	ended := e.snapshot()
	notify(onEnd, []Session{ended})
	return ended, true
}

// EndUser ends every session of username (the user was removed, or their
// role or password changed) and returns them.
func (s *Sessions) EndUser(username string) []Session {
	var ended []Session
	s.mu.Lock()
	for id, e := range s.byID {
		if e.s.Username == username {
			delete(s.byID, id)
			ended = append(ended, e.snapshot())
		}
	}
	onEnd := s.onEnd
	s.mu.Unlock()
	notify(onEnd, ended)
	return ended
}

// Get returns the session id, if it is live.
func (s *Sessions) Get(id string) (Session, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	e, ok := s.byID[id]
	if !ok || !s.now().Before(e.s.Expires) {
		return Session{}, false
	}
	return e.snapshot(), true
}

// List returns the live sessions, oldest first.
func (s *Sessions) List() []Session {
	s.mu.Lock()
	ended := s.pruneLocked(s.now())
	out := make([]Session, 0, len(s.byID))
	for _, e := range s.byID {
		out = append(out, e.snapshot())
	}
	onEnd := s.onEnd
	s.mu.Unlock()
	notify(onEnd, ended)
	slices.SortFunc(out, func(a, b Session) int {
		if c := a.Created.Compare(b.Created); c != 0 {
			return c
		}
		return strings.Compare(a.ID, b.ID)
	})
	return out
}

func (s *Sessions) mac(payload string) []byte {
	h := hmac.New(sha256.New, s.secret)
	h.Write([]byte(tokenVersion + "|session|"))
	h.Write([]byte(payload))
	return h.Sum(nil)
}
