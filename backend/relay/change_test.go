package relay_test

import (
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/tickwatch/tickwatch/backend/internal/testkit"
	"github.com/tickwatch/tickwatch/backend/massive"
	"github.com/tickwatch/tickwatch/backend/relay"
)

// changeLog is an Options.OnChange that keeps every change.
type changeLog struct {
	mu  sync.Mutex
	all []relay.ConsumerChange
}

func (l *changeLog) add(c relay.ConsumerChange) {
	l.mu.Lock()
	l.all = append(l.all, c)
	l.mu.Unlock()
}

// lines renders the changes as "+name" and "-name:reason", in order.
func (l *changeLog) lines() []string {
	l.mu.Lock()
	defer l.mu.Unlock()
	out := make([]string, len(l.all))
	for i, c := range l.all {
		if c.Connected {
			out[i] = "+" + c.Consumer.Name
		} else {
			out[i] = "-" + c.Consumer.Name + ":" + c.Reason
		}
	}
	return out
}

// waitLines waits until the log holds exactly want (in order).
func (l *changeLog) waitLines(t *testing.T, want ...string) {
	t.Helper()
	testkit.WaitFor(t, patience, fmt.Sprintf("changes %v", want), func() bool { return slices.Equal(l.lines(), want) })
}

// TestOnChangeReasons: OnChange hears every authentication and every end
// of an authenticated connection, with why it ended; connections that never
// authenticated are not reported.
func TestOnChangeReasons(t *testing.T) {
	log := &changeLog{}
	e := startRelay(t, relay.Options{OnChange: log.add, QueueSize: 2})

	bad := dialRaw(t, e.url)
	bad.send(massive.ActionAuth, "ck_wrong")
	bad.expect(massive.StatusAuthFailed, "authentication failed")
	bad.expectClosed()

	left := authed(t, e.url, keyAlpha)
	log.waitLines(t, "+alpha")
	_ = left.conn.Close()
	log.waitLines(t, "+alpha", "-alpha:left")

	admin := authed(t, e.url, keyLimited)
	log.waitLines(t, "+alpha", "-alpha:left", "+limited")
	st := e.hub.Stats()
	if len(st.Consumers) != 1 || !e.hub.Disconnect(st.Consumers[0].ID) {
		t.Fatalf("consumers: %+v", st.Consumers)
	}
	if got := admin.statuses(1)[0]; !strings.HasPrefix(got, massive.StatusForceDisconnect+": ") {
		t.Fatalf("got %q, want force_disconnect", got)
	}
	admin.expectClosed()
	log.waitLines(t, "+alpha", "-alpha:left", "+limited", "-limited:admin")

	revoked := authed(t, e.url, keySingle)
	if n := e.hub.DisconnectKey("3"); n != 1 {
		t.Fatalf("DisconnectKey = %d", n)
	}
	revoked.expect(massive.StatusForceDisconnect, "consumer key revoked")
	revoked.expectClosed()
	log.waitLines(t, "+alpha", "-alpha:left", "+limited", "-limited:admin", "+single", "-single:revoked")

	// A consumer that stops reading is cut off as slow.
	stalled, syms := subscribedMany(t, e.url, keyAlpha, 400)
	for seq := 0; e.hub.Stats().SlowDisconnects == 0; seq++ {
		if seq == 5000 {
			t.Fatal("the stalled consumer was never cut")
		}
		e.hub.Ticks("connection_1", batch(t, "T", syms, seq))
	}
	_ = stalled.conn.Close() // the server's close frame may wait behind unread data
	log.waitLines(t, "+alpha", "-alpha:left", "+limited", "-limited:admin", "+single", "-single:revoked", "+alpha", "-alpha:slow_consumer")

	// Shutdown.
	authed(t, e.url, keyLimited)
	log.waitLines(t, "+alpha", "-alpha:left", "+limited", "-limited:admin", "+single", "-single:revoked", "+alpha", "-alpha:slow_consumer", "+limited")
	e.hub.Close()
	log.waitLines(t, "+alpha", "-alpha:left", "+limited", "-limited:admin", "+single", "-single:revoked", "+alpha", "-alpha:slow_consumer", "+limited", "-limited:shutdown")

	// What the changes carry: the key's name and prefix, never the key.
	for _, c := range log.all {
		if c.Consumer.KeyID == "" || c.Consumer.KeyPrefix == "" || !c.Consumer.Authenticated || c.Consumer.Since.IsZero() || c.Consumer.Remote == "" {
			t.Errorf("change %+v lacks the consumer's identity", c)
		}
		if strings.Contains(fmt.Sprint(c), "0123456789") {
			t.Errorf("change %+v holds a key", c)
		}
	}
}

// subscribedMany authenticates with key and subscribes trades of n
// made-up symbols, so that a few batches fill the socket of a consumer that
// does not read.
func subscribedMany(t *testing.T, url, key string, n int) (*raw, []string) {
	t.Helper()
	syms := make([]string, n)
	for i := range syms {
		syms[i] = fmt.Sprintf("S%d", i)
	}
	r := authed(t, url, key)
	r.send(massive.ActionSubscribe, "T."+strings.Join(syms, ",T."))
	r.statuses(len(syms))
	return r, syms
}
