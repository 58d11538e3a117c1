package massive

import (
	"fmt"
	"math/rand/v2"
	"time"
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
			c.setState(StateError, end.reason)
			// A little jitter so two instances on one key drift apart.
			base := c.cfg.MaxConnectionsBackoff
			delay = base + rand.N(base/10+1)
		default:
			c.setState(StateDisconnected, end.reason)
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
		c.log.Info().Dur("delay", delay).Int("failures", failures).Msg("reconnecting after backoff")
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
