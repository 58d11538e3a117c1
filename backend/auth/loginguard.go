package auth

import (
	"errors"
	"fmt"
	"runtime"
	"strings"
	"time"
)

// ErrBadCredentials is LoginGuard.Login's answer to a wrong password and to
// an unknown user alike.
var ErrBadCredentials = errors.New("auth: wrong username or password")

// RefusedError is a login attempt turned away before any password check:
// the client's limits are exhausted (Busy false: answer 429) or the password
// checks are saturated (Busy true: answer 503). RetryAfter says when to try
// again.
type RefusedError struct {
	Busy       bool
	RetryAfter time.Duration
}

func (e *RefusedError) Error() string {
	if e.Busy {
		return fmt.Sprintf("auth: too many logins in progress, retry in %s", e.RetryAfter)
	}
	return fmt.Sprintf("auth: too many attempts, retry in %s", e.RetryAfter)
}

// LoginGuardConfig sets a LoginGuard; zero fields take the defaults shown.
type LoginGuardConfig struct {
	PerIP     int           // attempts per Window from one client address: 10
	PerIPUser int           // failures per Window of one username from one address: 5
	Window    time.Duration // 1 min
	Delay     BackoffConfig // the per-username delay (see Backoff)
	Workers   int           // bcrypt comparisons at once: runtime.GOMAXPROCS(0)
	Queue     int           // logins waiting for a worker: 2 x Workers; -1 for none
	// BusyRetry is the Retry-After of a login refused because the pool is
	// full: 1 s (a flood passes, the pool drains in well under that).
	BusyRetry time.Duration
	Now       func() time.Time
	Sleep     func(time.Duration) // time.Sleep; tests record instead
}

// LoginGuard decides whether a login attempt may run and runs its password
// check. Its limits are keyed so that an attacker slows only themselves:
//   - per client address and per (address, username): hard limits (429),
//     which only the attacking address ever reaches;
//   - per username: only a short growing delay on failures, never a
//     refusal, so guesses from anywhere cannot lock the real user out of
//     another address;
//   - every password check, for known and unknown users alike, runs on one
//     bounded HashPool, so a flood costs at most the pool's cores and the
//     rest of the server keeps answering; past the queue: 503.
type LoginGuard struct {
	ip, pair  *Limiter
	user      *Backoff
	pool      *HashPool
	busyRetry time.Duration
	sleep     func(time.Duration)
}

// NewLoginGuard builds a LoginGuard from cfg.
func NewLoginGuard(cfg LoginGuardConfig) *LoginGuard {
	if cfg.PerIP <= 0 {
		cfg.PerIP = 10
	}
	if cfg.PerIPUser <= 0 {
		cfg.PerIPUser = 5
	}
	if cfg.Window <= 0 {
		cfg.Window = time.Minute
	}
	workers := cfg.Workers
	if workers < 1 {
		workers = runtime.GOMAXPROCS(0)
	}
	queue := cfg.Queue
	switch {
	case queue == 0:
		queue = 2 * workers
	case queue < 0:
		queue = 0
	}
	if cfg.BusyRetry <= 0 {
		cfg.BusyRetry = time.Second
	}
	if cfg.Sleep == nil {
		cfg.Sleep = time.Sleep
	}
	if cfg.Delay.Now == nil {
		cfg.Delay.Now = cfg.Now
	}
	return &LoginGuard{
		ip:        NewLimiter(cfg.PerIP, cfg.Window, cfg.Now),
		pair:      NewLimiter(cfg.PerIPUser, cfg.Window, cfg.Now),
		user:      NewBackoff(cfg.Delay),
		pool:      NewHashPool(workers, queue),
		busyRetry: cfg.BusyRetry,
		sleep:     cfg.Sleep,
	}
}

// Pool is the pool the password checks run on.
func (g *LoginGuard) Pool() *HashPool { return g.pool }

// Login checks username and password from client address ip against users.
// It returns the user, ErrBadCredentials (after the username's delay, if
// it has earned one), or a *RefusedError without checking the password.
func (g *LoginGuard) Login(users *Users, ip, username, password string) (User, error) {
	userKey := limitKey(username)
	ipKey, pairKey := ip, ip+"\x00"+userKey
	// Take counts the attempt before bcrypt runs, so parallel guesses are
	// limited as strictly as sequential ones.
	if ok, wait := g.ip.Take(ipKey); !ok {
		return User{}, &RefusedError{RetryAfter: wait}
	}
	if ok, wait := g.pair.Take(pairKey); !ok {
		return User{}, &RefusedError{RetryAfter: wait}
	}
	var (
		u     User
		valid bool
	)
	if err := g.pool.Do(func() { u, valid = users.Authenticate(username, password) }); err != nil {
		// Not a guess: nothing was checked. Hand the attempt back.
		g.ip.Forgive(ipKey)
		g.pair.Forgive(pairKey)
		return User{}, &RefusedError{Busy: true, RetryAfter: g.busyRetry}
	}
	if !valid {
		// The delay is served after the check, outside the pool: it holds
		// no worker, and the real user's successful login never waits.
		if d := g.user.Fail(userKey); d > 0 {
			g.sleep(d)
		}
		return User{}, ErrBadCredentials
	}
	g.ip.Forgive(ipKey)
	g.pair.Reset(pairKey)
	// The username's delay is left to decay: the owner logging in must not
	// wipe the count of an attack still going on from elsewhere.
	return u, nil
}

// limitKey is the username as limits see it: case-folded, so that "Admin"
// and "admin" share one count, and cut to a bound, so a 60 KB username
// cannot make 60 KB keys (no real username is that long).
func limitKey(username string) string {
	if len(username) > maxUsernameLen {
		username = username[:maxUsernameLen]
	}
	return strings.ToLower(username)
}
