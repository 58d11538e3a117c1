package relay_test

import (
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/tickwatch/tickwatch/backend/auth"
	"github.com/tickwatch/tickwatch/backend/internal/testkit"
	"github.com/tickwatch/tickwatch/backend/massive"
	"github.com/tickwatch/tickwatch/backend/relay"
)

func TestProtocolExchanges(t *testing.T) {
	e := startRelay(t, relay.Options{})
	r := dialRaw(t, e.url)

	// Before auth: subscriptions are refused, the link stays.
	r.send(massive.ActionSubscribe, "T.AAPL")
	r.expect(massive.StatusAuthRequired, "authentication required")
	r.sendText(`garbage{`)
	r.expect(massive.StatusError, "invalid message: garbage{")
	r.sendText(`{"action":"dance","params":"x"}`)
	r.expect(massive.StatusError, "unknown action: dance")
	r.sendText(`{"action":"subscribe","params":["T.AAPL"]}`)
	r.expect(massive.StatusError, "params must be a string")

	r.send(massive.ActionAuth, keyAlpha)
	r.expect(massive.StatusAuthSuccess, massive.MessageAuthenticated)
	r.send(massive.ActionAuth, keyAlpha)
	r.expect(massive.StatusError, "already authenticated")

	// One status per entry; bad ones do not stop the good ones.
	r.send(massive.ActionSubscribe, "T.AAPL, Q.BRK.A,T.*,LULD.AAPL,nodot,T.aapl")
	got := r.statuses(6)
	want := []string{
		"success: subscribed to: T.AAPL",
		"success: subscribed to: Q.BRK.A",
		"error: wildcard subscriptions are not allowed on this relay: T.*",
		"error: channel LULD is not relayed (relayed: T, Q, A or AM): LULD.AAPL",
		"error: invalid subscription: nodot",
		"error: invalid subscription: T.aapl",
	}
	if !slices.Equal(got, want) {
		t.Errorf("subscribe statuses\n got %q\nwant %q", got, want)
	}
	// Unsubscribing answers in the provider's words, known or not.
	r.send(massive.ActionUnsubscribe, "T.AAPL,A.MSFT")
	if got := r.statuses(2); !slices.Equal(got, []string{"success: unsubscribed to: T.AAPL", "success: unsubscribed to: A.MSFT"}) {
		t.Errorf("unsubscribe statuses %q", got)
	}
	if got, want := e.up.log(), []string{"+T.AAPL", "+Q.BRK.A", "-T.AAPL"}; !slices.Equal(got, want) {
		t.Errorf("upstream calls %q, want %q", got, want)
	}
}

func TestAuthFailedCloses(t *testing.T) {
	e := startRelay(t, relay.Options{})
	for _, key := range []string{"ck_wrong", ""} {
		r := dialRaw(t, e.url)
		r.send(massive.ActionAuth, key)
		r.expect(massive.StatusAuthFailed, "authentication failed")
		r.expectClosed()
	}
	if st := e.hub.Stats(); st.AuthFailures != 2 {
		t.Errorf("auth failures = %d, want 2", st.AuthFailures)
	}
}

// failAuth authenticates with a bad key and expects auth_failed and a close.
func failAuth(t *testing.T, url, key string) {
	t.Helper()
	r := dialRaw(t, url)
	r.send(massive.ActionAuth, key)
	r.expect(massive.StatusAuthFailed, "authentication failed")
	r.expectClosed()
}

// expectThrottled authenticates with key and expects the limit's refusal.
func expectThrottled(t *testing.T, url, key string) {
	t.Helper()
	r := dialRaw(t, url)
	r.send(massive.ActionAuth, key)
	if got := r.statuses(1)[0]; !strings.HasPrefix(got, "auth_failed: too many failed attempts, retry in ") {
		t.Errorf("auth with a throttled key answered %q", got)
	}
	r.expectClosed()
}

// Failures are limited per (address, presented key), as logins are per
// (address, username): a program retrying a typo'd or revoked key is
// throttled, and another program on the same host with a valid key still
// gets in.
func TestAuthFailuresLimitedPerAddressAndKey(t *testing.T) {
	e := startRelay(t, relay.Options{AuthFailures: auth.NewLimiter(2, time.Hour, nil)})
	for range 2 {
		failAuth(t, e.url, "ck_typo")
	}
	expectThrottled(t, e.url, "ck_typo")
	authed(t, e.url, keyAlpha) // same address, another key: not locked out
}

// Guessing many different keys from one address is still throttled, by
// the per-address limit (set higher than the per-key one), and then even
// a valid key from that address waits.
func TestAuthFailuresManyKeysLimitedPerAddress(t *testing.T) {
	e := startRelay(t, relay.Options{
		AuthFailures:        auth.NewLimiter(2, time.Hour, nil),
		AuthFailuresPerAddr: auth.NewLimiter(4, time.Hour, nil),
	})
	for i := range 4 {
		failAuth(t, e.url, fmt.Sprintf("ck_guess_%d", i)) // one failure per key: under the per-key limit
	}
	expectThrottled(t, e.url, "ck_guess_9")
	expectThrottled(t, e.url, keyAlpha)
}

func TestAuthTimeout(t *testing.T) {
	e := startRelay(t, relay.Options{AuthTimeout: 50 * time.Millisecond})
	r := dialRaw(t, e.url)
	r.expect(massive.StatusAuthTimeout, "No authentication request received.")
	r.expectClosed()
}

func TestAllowList(t *testing.T) {
	e := startRelay(t, relay.Options{AllowWildcard: true})
	r := authed(t, e.url, keyLimited)
	r.send(massive.ActionSubscribe, "T.AAPL,T.MSFT,Q.BRK.A,A.*")
	got := r.statuses(4)
	want := []string{
		"success: subscribed to: T.AAPL",
		"error: ticker MSFT is not allowed for this key: T.MSFT",
		"success: subscribed to: Q.BRK.A",
		"error: wildcard not allowed for this key (it has a ticker allow-list): A.*",
	}
	if !slices.Equal(got, want) {
		t.Errorf("statuses\n got %q\nwant %q", got, want)
	}
	if got := e.up.log(); !slices.Equal(got, []string{"+T.AAPL", "+Q.BRK.A"}) {
		t.Errorf("upstream calls %q", got)
	}
}

func TestUpstreamRefusalIsAnErrorStatus(t *testing.T) {
	e := startRelay(t, relay.Options{})
	e.up.refuse["T.ZZZ"] = true
	r := authed(t, e.url, keyAlpha)
	// A refusal in the middle of a message: the statuses keep entry order
	// and the others are carried.
	r.send(massive.ActionSubscribe, "T.AAPL,T.ZZZ,Q.AAPL,T.ZZZ")
	want := []string{
		"success: subscribed to: T.AAPL",
		"error: upstream cannot carry T.ZZZ: no enabled connection",
		"success: subscribed to: Q.AAPL",
		"error: upstream cannot carry T.ZZZ: no enabled connection",
	}
	if got := r.statuses(4); !slices.Equal(got, want) {
		t.Errorf("statuses\n got %q\nwant %q", got, want)
	}
	if st := e.hub.Stats(); len(st.Subscriptions) != 2 {
		t.Errorf("subscriptions %+v, want T.AAPL and Q.AAPL only", st.Subscriptions)
	}
}

// A consumer's subscribe message, however long, is one Upstream.Acquire
// call with its new pairs, and its disconnect one Release of them all: the
// manager behind Upstream takes its locks and sends its frames once per
// message. Counted: pair by pair it was 30,000 calls each way.
func TestBigSubscribeIsOneUpstreamCall(t *testing.T) {
	e := startRelay(t, relay.Options{})
	other := authed(t, e.url, keyAlpha)
	other.send(massive.ActionSubscribe, "T.AAPL")
	other.statuses(1)

	const n = 30000
	entries := make([]string, n)
	for i := range entries {
		entries[i] = fmt.Sprintf("T.X%05d", i)
	}
	entries[n-1] = "T.AAPL" // already acquired for the other consumer
	r := authed(t, e.url, keyAlpha)
	a0, r0 := e.up.callCounts()
	r.send(massive.ActionSubscribe, strings.Join(entries, ","))
	got := r.statuses(n)
	if got[0] != "success: subscribed to: T.X00000" || got[n-1] != "success: subscribed to: T.AAPL" {
		t.Errorf("statuses start %q, end %q", got[0], got[n-1])
	}
	a1, r1 := e.up.callCounts()
	if a1-a0 != 1 || r1 != r0 {
		t.Errorf("subscribe: %d Acquire and %d Release calls, want 1 and 0", a1-a0, r1-r0)
	}
	if calls := e.up.log(); len(calls) != 1+(n-1) {
		t.Errorf("%d pairs acquired, want %d", len(calls), n)
	}

	// Leaving releases everything but the other consumer's T.AAPL, at once.
	_ = r.conn.Close()
	testkit.WaitFor(t, patience, "release on disconnect", func() bool {
		_, rel := e.up.callCounts()
		return rel > r1
	})
	a2, r2 := e.up.callCounts()
	if a2 != a1 || r2-r1 != 1 {
		t.Errorf("disconnect: %d Acquire and %d Release calls, want 0 and 1", a2-a1, r2-r1)
	}
	calls := e.up.log()
	if released := calls[n:]; len(released) != n-1 || slices.Contains(released, "-T.AAPL") {
		t.Errorf("released %d pairs (T.AAPL among them: %v), want %d without it",
			len(released), slices.Contains(released, "-T.AAPL"), n-1)
	}
}

func TestMaxConnsPerKey(t *testing.T) {
	e := startRelay(t, relay.Options{})
	first := authed(t, e.url, keySingle)

	second := dialRaw(t, e.url)
	second.send(massive.ActionAuth, keySingle)
	second.expect(massive.StatusMaxConnections, "Maximum number of connections exceeded.")
	second.expectClosed()
	// Other keys are not affected by this key's cap.
	authed(t, e.url, keyAlpha)

	_ = first.conn.Close()
	testkit.WaitFor(t, patience, "first connection gone", func() bool {
		for _, c := range e.hub.Stats().Consumers {
			if c.Name == "single" {
				return false
			}
		}
		return true
	})
	authed(t, e.url, keySingle)
	if st := e.hub.Stats(); st.MaxConnRefusals != 1 {
		t.Errorf("max conn refusals = %d, want 1", st.MaxConnRefusals)
	}
}

func TestWildcard(t *testing.T) {
	e := startRelay(t, relay.Options{AllowWildcard: true})
	r := authed(t, e.url, keyAlpha)
	r.send(massive.ActionSubscribe, "T.*,T.AAPL")
	if got := r.statuses(2); !slices.Equal(got, []string{"success: subscribed to: T.*", "success: subscribed to: T.AAPL"}) {
		t.Fatalf("statuses %q", got)
	}
	// AAPL matches both the wildcard and its own entry: delivered once.
	in := batch(t, "T", []string{"AAPL", "MSFT", "BRK.A"}, 1)
	e.hub.Ticks("connection_1", append(in, batch(t, "Q", []string{"AAPL"}, 2)...))
	if got := r.events(3); !slices.Equal(got, in) {
		t.Errorf("events\n got %+v\nwant %+v", got, in)
	}
	if got := e.up.log(); !slices.Equal(got, []string{"+T.*", "+T.AAPL"}) {
		t.Errorf("upstream calls %q", got)
	}
}

// TestSharedSubscriptionAcquiredOnce: two consumers (the project's own
// massive.Client, as an internal program would run it) on the same ticker
// cost one upstream subscription, released when the last one leaves; each
// receives exactly its channel and tickers.
func TestSharedSubscriptionAcquiredOnce(t *testing.T) {
	e := startRelay(t, relay.Options{})
	c1, s1 := consumerClient(t, e.url, keyAlpha, "T", "AAPL", "BRK.A")
	c2, s2 := consumerClient(t, e.url, keyLimited, "T", "AAPL")
	if got, want := e.up.log(), []string{"+T.AAPL", "+T.BRK.A"}; !slices.Equal(got, want) {
		t.Fatalf("upstream calls %q, want %q", got, want)
	}
	st := e.hub.Stats()
	if fmt.Sprint(st.Subscriptions) != "[{T AAPL 2} {T BRK.A 1}]" {
		t.Errorf("subscription counts %v", st.Subscriptions)
	}

	var want1, want2 []massive.Event
	for seq := range 20 {
		trades := batch(t, "T", []string{"AAPL", "MSFT", "BRK.A"}, seq)
		quotes := batch(t, "Q", []string{"AAPL"}, seq)
		e.hub.Ticks("connection_1", append(trades, quotes...))
		want1 = append(want1, trades[0], trades[2])
		want2 = append(want2, trades[0])
	}
	testkit.WaitFor(t, patience, "both consumers' events", func() bool {
		return len(s1.got()) >= len(want1) && len(s2.got()) >= len(want2)
	})
	if got := s1.got(); !slices.Equal(got, want1) {
		t.Errorf("consumer 1 got %d events, want %d in order", len(got), len(want1))
	}
	if got := s2.got(); !slices.Equal(got, want2) {
		t.Errorf("consumer 2 got %d events, want %d in order", len(got), len(want2))
	}

	c1.Close()
	testkit.WaitFor(t, patience, "BRK.A released", func() bool { return len(e.up.log()) == 3 })
	if got := e.up.log(); got[2] != "-T.BRK.A" {
		t.Fatalf("after the first consumer left: %q (AAPL must stay)", got)
	}
	c2.Close()
	testkit.WaitFor(t, patience, "AAPL released", func() bool { return len(e.up.log()) == 4 })
	if got := e.up.log(); got[3] != "-T.AAPL" {
		t.Errorf("after the last consumer left: %q", got)
	}
	if st := e.hub.Stats(); len(st.Subscriptions) != 0 || len(st.Consumers) != 0 {
		t.Errorf("left behind: %+v", st)
	}
}

// TestSlowConsumerCut: a consumer that stops reading is cut with
// slow_consumer while a healthy one, fed in lock-step, misses nothing.
// Structural: the test feeds until the stalled one is cut, however long
// the kernel's socket buffers take to fill.
func TestSlowConsumerCut(t *testing.T) {
	e := startRelay(t, relay.Options{QueueSize: 4})
	stalled, syms := subscribedMany(t, e.url, keyAlpha, 400)
	_, healthy := consumerClient(t, e.url, keyAlpha, "T", syms...)

	var want []massive.Event
	for seq := 0; e.hub.Stats().SlowDisconnects == 0; seq++ {
		if seq == 5000 {
			t.Fatal("the stalled consumer was never cut")
		}
		b := batch(t, "T", syms, seq)
		e.hub.Ticks("connection_1", b)
		want = append(want, b...)
		testkit.WaitFor(t, patience, "healthy consumer caught up", func() bool { return healthy.count() == len(want) })
	}
	// The healthy consumer keeps receiving after the cut.
	b := batch(t, "T", syms, -1)
	e.hub.Ticks("connection_1", b)
	want = append(want, b...)
	testkit.WaitFor(t, patience, "healthy consumer after the cut", func() bool { return healthy.count() == len(want) })
	if !slices.Equal(healthy.got(), want) {
		t.Error("the healthy consumer's events differ from what was fed")
	}

	// The stalled consumer reads again: what was written before the cut,
	// then slow_consumer, then the close.
	var last []object
	for {
		objs, err := stalled.next()
		if err != nil {
			t.Fatalf("read before slow_consumer: %v", err)
		}
		if len(objs) > 0 && objs[0]["ev"] == "status" {
			last = objs
			break
		}
	}
	if last[0]["status"] != massive.StatusSlowConsumer {
		t.Errorf("got %v, want slow_consumer", last)
	}
	stalled.expectClosed()
	// The server unregisters the stalled consumer, and counts the healthy
	// one's last write, only after the socket work the client has seen.
	testkit.WaitFor(t, patience, "stalled consumer gone, healthy one counted", func() bool {
		st := e.hub.Stats()
		return len(st.Consumers) == 1 && st.Consumers[0].Sent == uint64(len(want))
	})
	st := e.hub.Stats()
	if st.SlowDisconnects != 1 {
		t.Errorf("slow disconnects = %d", st.SlowDisconnects)
	}
	if len(st.Consumers) != 1 || st.Consumers[0].Sent != uint64(len(want)) {
		t.Errorf("consumers after the cut: %+v", st.Consumers)
	}
}

func TestDisconnectKey(t *testing.T) {
	e := startRelay(t, relay.Options{})
	r1 := authed(t, e.url, keyAlpha)
	r2 := authed(t, e.url, keyAlpha)
	other := authed(t, e.url, keyLimited)
	if n := e.hub.DisconnectKey("1"); n != 2 {
		t.Errorf("DisconnectKey = %d, want 2", n)
	}
	for _, r := range []*raw{r1, r2} {
		r.expect(massive.StatusForceDisconnect, "consumer key revoked")
		r.expectClosed()
	}
	other.send(massive.ActionSubscribe, "T.AAPL")
	other.expect(massive.StatusSuccess, "subscribed to: T.AAPL")
}

// TestEventsAsUpstreamSendsThem checks the frame a consumer gets: a JSON
// array of upstream-shaped objects that decode to exactly what was fed.
func TestEventsAsUpstreamSendsThem(t *testing.T) {
	e := startRelay(t, relay.Options{})
	r := authed(t, e.url, keyAlpha)
	r.send(massive.ActionSubscribe, "T.AAPL,Q.AAPL")
	r.statuses(2)
	in := append(batch(t, "T", []string{"AAPL", "MSFT"}, 7), batch(t, "Q", []string{"AAPL"}, 8)...)
	e.hub.Ticks("connection_1", in)
	objs, err := r.next()
	if err != nil {
		t.Fatal(err)
	}
	if len(objs) != 2 || objs[0]["ev"] != "T" || objs[0]["sym"] != "AAPL" || objs[0]["p"] != 100.25 ||
		objs[0]["s"] != 100.0 || objs[0]["t"] != 1700000000007.0 || objs[1]["ev"] != "Q" || objs[1]["bp"] != 10.5 {
		t.Errorf("frame %v", objs)
	}
}

// Notify tells exactly the consumers with a matching pair, keeps them
// connected, and EventsOut counts what every consumer was written.
func TestNotifyAndEventsOut(t *testing.T) {
	e := startRelay(t, relay.Options{})
	onXOM := authed(t, e.url, keyAlpha)
	onXOM.send(massive.ActionSubscribe, "T.XOM,T.AAPL")
	onXOM.statuses(2)
	onAAPL := authed(t, e.url, keyAlpha)
	onAAPL.send(massive.ActionSubscribe, "T.AAPL")
	onAAPL.statuses(1)
	unauthed := dialRaw(t, e.url)

	n := e.hub.Notify(func(s massive.Sub) bool { return s.Ticker == "XOM" }, relay.StatusUpstreamLost, "connection_2 lost")
	if n != 1 {
		t.Errorf("Notify told %d consumers, want 1", n)
	}
	onXOM.expect(relay.StatusUpstreamLost, "connection_2 lost")
	// Still connected and subscribed: the next thing each gets is data.
	e.hub.Ticks("connection_1", batch(t, "T", []string{"AAPL"}, 1))
	for _, r := range []*raw{onXOM, onAAPL} {
		if evs := r.events(1); evs[0].Symbol != "AAPL" {
			t.Errorf("after the notice: %+v", evs)
		}
	}
	unauthed.send(massive.ActionAuth, keyAlpha)
	unauthed.expect(massive.StatusAuthSuccess, massive.MessageAuthenticated) // not the notice
	// Counted once the write returns, which can be after the consumer has
	// read the frame.
	testkit.WaitFor(t, patience, "events out counted", func() bool { return e.hub.Stats().EventsOut >= 2 })
	if st := e.hub.Stats(); st.EventsOut != 2 {
		t.Errorf("events out = %d, want 2", st.EventsOut)
	}
}

// Many programs on one host authenticating at once are not mistaken for a
// guessing address: only failures count.
func TestConcurrentAuthsFromOneAddress(t *testing.T) {
	e := startRelay(t, relay.Options{AuthFailures: auth.NewLimiter(2, time.Hour, nil)})
	var conns []*raw
	for range 6 {
		r := dialRaw(t, e.url)
		r.send(massive.ActionAuth, keyAlpha)
		conns = append(conns, r)
	}
	for _, r := range conns {
		r.expect(massive.StatusAuthSuccess, massive.MessageAuthenticated)
	}
}

// A batch too big for one frame goes out as several, each under the
// official Go client's 1,000,000-byte read limit (the relay keeps to 512
// KiB), with every event once and in order, and with nothing after a
// frame's closing bracket.
func TestBigBatchSplitsIntoFrames(t *testing.T) {
	e := startRelay(t, relay.Options{})
	r := authed(t, e.url, keyAlpha)
	r.send(massive.ActionSubscribe, "T.AAPL")
	r.statuses(1)
	const n = 8000 // about 750 KB encoded
	syms := make([]string, n)
	for i := range syms {
		syms[i] = "AAPL"
	}
	in := batch(t, "T", syms, 0)
	for i := range in {
		in[i].Seq = int64(i)
	}
	e.hub.Ticks("connection_1", in)
	var dec massive.Decoder
	var got []massive.Event
	frames := 0
	for len(got) < n {
		_ = r.conn.SetReadDeadline(time.Now().Add(patience))
		_, data, err := r.conn.ReadMessage()
		if err != nil {
			t.Fatalf("after %d events in %d frames: %v", len(got), frames, err)
		}
		frames++
		if len(data) > 512<<10 || data[0] != '[' || data[len(data)-1] != ']' {
			t.Fatalf("frame %d: %d bytes, starts %q ends %q", frames, len(data), data[0], data[len(data)-1])
		}
		evs, _, err := dec.Decode(data, nil, nil)
		if err != nil {
			t.Fatalf("frame %d: %v", frames, err)
		}
		got = append(got, evs...)
	}
	if frames < 2 {
		t.Errorf("%d events came in %d frame(s), want them split", n, frames)
	}
	for i, ev := range got {
		if ev.Seq != int64(i) || ev.Symbol != "AAPL" {
			t.Fatalf("event %d: %+v", i, ev)
		}
	}
}
