package massive

import (
	"fmt"
	"math/rand/v2"
	"time"

	"github.com/rs/zerolog"
)

// endKind says what the run loop does after a link ends.
type endKind uint8

const (
	endRetry    endKind = iota // back off, then dial again
	endFatal                   // auth_failed: wait for an operator
	endMaxConns                // long backoff
	endOperator                // Reconnect(): dial again now
	endClosed                  // Close()
)

type linkEnd struct {
	kind   endKind
	reason string
	stable bool // the link stayed authenticated for StableAfter
	dial   bool // the dial itself failed: there never was a link
}

// failure names a retried end in the one log line it gets.
func (e linkEnd) failure() string {
	switch {
	case e.dial:
		return "dial failed"
	case e.kind == endMaxConns:
		return "over the connection limit"
	}
	return "link lost"
}

// run is the client's one processing goroutine: one link after another, with
// backoff between failures, until Close.
func (c *Client) run() {
	defer c.wg.Done()
	failures := 0 // consecutive attempts that did not reach a stable link
	for attempt := 0; ; attempt++ {
		if attempt > 0 {
			c.reconnects.Add(1)
		}
		end := c.link()
		if end.stable {
			failures = 0
		}
		var delay time.Duration
		switch end.kind {
		case endClosed:
			c.setState(StateDisconnected, "closed")
			return
		case endOperator:
			c.setState(StateDisconnected, end.reason)
			failures = 0
			continue
		case endFatal:
			c.setState(StateError, end.reason)
			if !c.waitOperator() {
				c.setState(StateDisconnected, "closed")
				return
			}
			failures = 0
			continue
		case endMaxConns:
			c.changeState(StateError, end.reason, zerolog.DebugLevel)
			// A little jitter so two instances on one key drift apart.
			base := c.cfg.MaxConnectionsBackoff
			delay = base + rand.N(base/10+1)
		default:
			c.changeState(StateDisconnected, end.reason, zerolog.DebugLevel)
			delay = c.backoff(failures)
		}
		failures++
		if c.cfg.MaxRetries > 0 && failures > c.cfg.MaxRetries {
			c.setState(StateError, fmt.Sprintf("gave up after %d retries: %s", c.cfg.MaxRetries, end.reason))
			if !c.waitOperator() {
				c.setState(StateDisconnected, "closed")
				return
			}
			failures = 0
			continue
		}
		// The one line a failed attempt gets: what happened and when the
		// next attempt is due.
		c.log.Warn().Str("reason", c.redact(end.reason)).Int64("retry_in_ms", delay.Milliseconds()).
			Int("failures", failures).Msg(end.failure())
		woke, ok := c.sleep(delay)
		if !ok {
			c.setState(StateDisconnected, "closed")
			return
		}
		if woke {
			failures = 0
		}
	}
}

// backoff is capped exponential backoff with full jitter: uniform in
// [0, min(cap, initial*2^failures)].
func (c *Client) backoff(failures int) time.Duration {
	d := c.cfg.ReconnectDelay
	for i := 0; i < failures && d < c.cfg.MaxReconnectDelay; i++ {
		d *= 2
	}
	d = min(d, c.cfg.MaxReconnectDelay)
	return rand.N(d + 1)
}

// sleep waits d; woke reports an operator Reconnect, ok is false on Close.
func (c *Client) sleep(d time.Duration) (woke, ok bool) {
	c.mu.Lock()
	c.nextAttempt = time.Now().Add(d)
	c.mu.Unlock()
	defer func() {
		c.mu.Lock()
		c.nextAttempt = time.Time{}
		c.mu.Unlock()
	}()
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-c.ctx.Done():
		return false, false
	case <-c.reconnect:
		return true, true
	case <-t.C:
		return false, true
	}
}

func (c *Client) waitOperator() bool {
	select {
	case <-c.ctx.Done():
		return false
	case <-c.reconnect:
		return true
	}
}
