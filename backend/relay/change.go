package relay

import "github.com/tickwatch/tickwatch/backend/massive"

// Why an authenticated consumer connection ended (ConsumerChange.Reason).
const (
	ReasonLeft     = "left"          // the program closed the connection, or the link was lost
	ReasonSlow     = "slow_consumer" // cut off: its queue overflowed or a write blocked too long
	ReasonRevoked  = "revoked"       // its consumer key was revoked (DisconnectKey)
	ReasonAdmin    = "admin"         // an admin disconnected it (Disconnect)
	ReasonShutdown = "shutdown"      // the relay is shutting down (Close)
)

// revokedMessage is the force_disconnect text DisconnectKey sends; it is
// also how the end of the connection is told apart from Disconnect's.
const revokedMessage = "consumer key revoked"

// ConsumerChange is what Options.OnChange is told: a connection that just
// authenticated (Connected) or an authenticated one that just ended, with
// why. Consumer is its state at that moment; after an end it is no longer
// in Stats.
type ConsumerChange struct {
	Connected bool
	Consumer  ConsumerStats
	Reason    string // one of the Reason constants; "" when Connected
}

// changed tells Options.OnChange about c. It runs on c's reader goroutine
// (auth, then the end of Serve), so one connection's changes arrive in
// order, and with no Hub lock held.
func (h *Hub) changed(c *consumer, connected bool) {
	if h.opts.OnChange == nil {
		return
	}
	ch := ConsumerChange{Connected: connected, Consumer: c.stats()}
	if !connected {
		ch.Reason = c.endReason()
	}
	h.opts.OnChange(ch)
}

// endReason says why c ended, from what condemned or stopped it.
func (c *consumer) endReason() string {
	if c.slow.Load() {
		return ReasonSlow
	}
	c.mu.Lock()
	status, text := c.endStatus, c.endText
	c.mu.Unlock()
	code := c.ws.CloseCode()
	switch {
	case status == massive.StatusForceDisconnect && text == revokedMessage:
		return ReasonRevoked
	case status == massive.StatusForceDisconnect:
		return ReasonAdmin
	case status != "":
		return status
	case code == closeGoingAway:
		return ReasonShutdown
	}
	return ReasonLeft
}
