package app_test

import (
	"encoding/json"
	"fmt"
	"maps"
	"slices"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/fasthttp/websocket"
	"github.com/rs/zerolog"

	"github.com/tickwatch/tickwatch/backend/app/apptest"
	"github.com/tickwatch/tickwatch/backend/internal/testkit"
	"github.com/tickwatch/tickwatch/backend/massive"
	"github.com/tickwatch/tickwatch/backend/relay"
)

// patience bounds every wait: the race detector on two shared cores is
// slow. No test asserts how fast anything happens.
const relayPatience = 20 * time.Second

func relayStack(t *testing.T, environ ...string) *apptest.Stack {
	t.Helper()
	return apptest.Start(t, apptest.Options{Environ: append([]string{"RELAY_ENABLED=true"}, environ...)})
}

func relayURL(e *apptest.Stack) string { return "ws" + strings.TrimPrefix(e.Base, "http") + "/stocks" }

type createdKey struct {
	Key       string   `json:"key"`
	ID        int64    `json:"id"`
	Name      string   `json:"name"`
	Prefix    string   `json:"prefix"`
	AllowList []string `json:"allow_list"`
	MaxConns  int      `json:"max_conns"`
	State     string   `json:"state"`
}

// createKey makes a consumer key through the REST API as the admin and
// registers it as a secret of the stack.
func createKey(t *testing.T, e *apptest.Stack, body string) createdKey {
	t.Helper()
	resp := e.Do(apptest.Request{Method: "POST", Path: "/api/admin/consumer-keys", Role: "admin", Body: body})
	if resp.Status != 201 {
		t.Fatalf("create consumer key %s: %d %s", body, resp.Status, resp.Body)
	}
	var k createdKey
	if err := json.Unmarshal([]byte(resp.Body), &k); err != nil {
		t.Fatal(err)
	}
	if k.Key == "" || !strings.HasPrefix(k.Key, k.Prefix) || k.State != "active" {
		t.Fatalf("created key: prefix %q state %q", k.Prefix, k.State)
	}
	if cc := resp.Header.Get("Cache-Control"); cc != "no-store" {
		t.Errorf("create consumer key: Cache-Control %q", cc)
	}
	e.AddSecret(k.Key)
	return k
}

// feed is a massive.Observer keeping every event, per (kind, symbol) in
// arrival order.
type feed struct {
	mu     sync.Mutex
	events map[string][]massive.Event // "T.AAPL" -> events
	states []massive.StateChange
}

func newFeed() *feed { return &feed{events: map[string][]massive.Event{}} }

func (f *feed) StateChanged(c massive.StateChange) {
	f.mu.Lock()
	f.states = append(f.states, c)
	f.mu.Unlock()
}

func (f *feed) Events(_ string, batch []massive.Event) {
	f.mu.Lock()
	defer f.mu.Unlock()
	for _, ev := range batch {
		k := massive.Subscription(ev.Kind.Prefix(), ev.Symbol)
		f.events[k] = append(f.events[k], ev)
	}
}

func (f *feed) snapshot() map[string][]massive.Event {
	f.mu.Lock()
	defer f.mu.Unlock()
	out := make(map[string][]massive.Event, len(f.events))
	for k, v := range f.events {
		out[k] = slices.Clone(v)
	}
	return out
}

func (f *feed) keys() []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return slices.Sorted(maps.Keys(f.events))
}

// massiveClient is the project's own client on url with key, subscribed to
// exactly pairs (as extras: one channel per ticker).
func massiveClient(t *testing.T, url, key string, pairs ...string) (*massive.Client, *feed) {
	t.Helper()
	f := newFeed()
	c, err := massive.NewClient(massive.Config{
		ID: "consumer", URL: url, APIKey: key, Extras: pairs,
		ReconnectDelay: 20 * time.Millisecond, MaxReconnectDelay: 200 * time.Millisecond,
		Logger: zerolog.Nop(),
	}, f)
	if err != nil {
		t.Fatal(err)
	}
	c.Start()
	t.Cleanup(c.Close)
	return c, f
}

func waitAcked(t *testing.T, c *massive.Client, pairs []string) {
	t.Helper()
	want := slices.Sorted(slices.Values(pairs))
	deadline := time.Now().Add(relayPatience)
	for !slices.Equal(c.Acked(), want) {
		if time.Now().After(deadline) {
			t.Fatalf("acks %v, want %v (client %+v)", c.Acked(), want, c.Stats())
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// aligned returns the overlap of two recordings of one stream that began
// and ended at different moments: the longest run where they should agree.
func aligned(a, b []massive.Event) ([]massive.Event, []massive.Event, bool) {
	if len(a) == 0 || len(b) == 0 {
		return nil, nil, false
	}
	if j := slices.Index(b, a[0]); j >= 0 {
		b = b[j:]
	} else if i := slices.Index(a, b[0]); i >= 0 {
		a = a[i:]
	} else {
		return nil, nil, false
	}
	n := min(len(a), len(b))
	return a[:n], b[:n], true
}

// TestRelayMatchesDirect: the project's own massive.Client, pointed at
// Tickwatch's /stocks with a consumer key, receives the same events, per
// (channel, symbol) in the same order, as one connected straight to the
// simulator. The pairs cover a configured pair (A.AAPL), other channels
// of a configured ticker (T.AAPL, Q.MSFT) and relay-only tickers (XOM).
func TestRelayMatchesDirect(t *testing.T) {
	e := relayStack(t)
	k := createKey(t, e, `{"name":"strategy"}`)
	pairs := []string{"A.AAPL", "T.AAPL", "Q.MSFT", "T.XOM", "Q.XOM"}
	viaRelay, relayed := massiveClient(t, relayURL(e), k.Key, pairs...)
	direct, straight := massiveClient(t, "ws://"+e.SimAddr+"/stocks", apptest.APIKey, pairs...)
	waitAcked(t, viaRelay, pairs)
	waitAcked(t, direct, pairs)

	// Record until every stream has enough overlap to compare (bars come
	// once a second).
	enough := func() bool {
		r, d := relayed.snapshot(), straight.snapshot()
		for _, p := range pairs {
			a, b, ok := aligned(r[p], d[p])
			if !ok || len(a) < 3 || len(b) < 3 {
				return false
			}
		}
		return true
	}
	testkit.WaitFor(t, relayPatience*2, "three aligned events of every pair", enough)
	viaRelay.Close()
	direct.Close()

	r, d := relayed.snapshot(), straight.snapshot()
	if got := relayed.keys(); !slices.Equal(got, slices.Sorted(slices.Values(pairs))) {
		t.Errorf("relayed streams %v, want exactly %v", got, pairs)
	}
	for _, p := range pairs {
		a, b, _ := aligned(r[p], d[p])
		if !slices.Equal(a, b) {
			t.Errorf("%s: the relayed events differ from the direct ones (%d vs %d compared)", p, len(a), len(b))
		}
		// Nothing missing in between: the relayed stream is one run of the
		// direct one from its first event on.
		if j := slices.Index(d[p], r[p][0]); j < 0 || !slices.Equal(r[p][:min(len(r[p]), len(d[p])-j)], d[p][j:j+min(len(r[p]), len(d[p])-j)]) {
			t.Errorf("%s: the relayed stream is not a contiguous run of the direct one", p)
		}
		t.Logf("%s: %d relayed, %d direct", p, len(r[p]), len(d[p]))
	}
}

// consumerConn is a bare consumer for the exchanges massive.Client never
// makes, reading frames as generic objects.
type consumerConn struct {
	t       *testing.T
	conn    *websocket.Conn
	pending []object // statuses read but not yet returned (one frame may hold several)
}

func dialConsumer(t *testing.T, e *apptest.Stack) *consumerConn {
	t.Helper()
	return dialConsumerAt(t, relayURL(e))
}

func dialConsumerAt(t *testing.T, url string) *consumerConn {
	t.Helper()
	conn, _, err := websocket.DefaultDialer.Dial(url, nil)
	if err != nil {
		t.Fatalf("dial /stocks: %v", err)
	}
	t.Cleanup(func() { _ = conn.Close() })
	c := &consumerConn{t: t, conn: conn}
	c.expect(massive.StatusConnected, "Connected Successfully")
	return c
}

func (c *consumerConn) send(action, params string) {
	c.t.Helper()
	msg, _ := json.Marshal(map[string]string{"action": action, "params": params})
	c.sendRaw(msg)
}

func (c *consumerConn) sendRaw(msg []byte) {
	c.t.Helper()
	if err := c.conn.WriteMessage(websocket.TextMessage, msg); err != nil {
		c.t.Fatalf("send: %v", err)
	}
}

type object map[string]any

// nextStatus skips market events and returns the next status object.
func (c *consumerConn) nextStatus() (object, error) {
	for {
		if len(c.pending) > 0 {
			o := c.pending[0]
			c.pending = c.pending[1:]
			return o, nil
		}
		_ = c.conn.SetReadDeadline(time.Now().Add(relayPatience))
		_, data, err := c.conn.ReadMessage()
		if err != nil {
			return nil, err
		}
		var objs []object
		if err := json.Unmarshal(data, &objs); err != nil {
			c.t.Fatalf("frame %.200s: %v", data, err)
		}
		for _, o := range objs {
			if o["ev"] == "status" {
				c.pending = append(c.pending, o)
			}
		}
	}
}

func (c *consumerConn) expect(status, message string) {
	c.t.Helper()
	o, err := c.nextStatus()
	if err != nil {
		c.t.Fatalf("waiting for %s %q: %v", status, message, err)
	}
	if o["status"] != status || (message != "" && o["message"] != message) {
		c.t.Fatalf("got %v, want %s %q", o, status, message)
	}
}

// expectClosed reads until the server closes, and returns the close code.
func (c *consumerConn) expectClosed() int {
	c.t.Helper()
	for {
		if _, err := c.nextStatus(); err != nil {
			var ce *websocket.CloseError
			if ok := asCloseError(err, &ce); ok {
				return ce.Code
			}
			return 0
		}
	}
}

func asCloseError(err error, into **websocket.CloseError) bool {
	ce, ok := err.(*websocket.CloseError)
	if ok {
		*into = ce
	}
	return ok
}

func authedConsumer(t *testing.T, e *apptest.Stack, key string) *consumerConn {
	t.Helper()
	c := dialConsumer(t, e)
	c.send(massive.ActionAuth, key)
	c.expect(massive.StatusAuthSuccess, massive.MessageAuthenticated)
	return c
}

// TestRelayBadInput: what a misbehaving program sends through the real
// endpoint is answered the way Massive answers, and the server carries on.
// TestRelayFeedWithTrailingSlash: client-go dials Feed+"/stocks", so a Feed
// written "ws://host:port/" arrives as "//stocks"; it is served the same.
func TestRelayFeedWithTrailingSlash(t *testing.T) {
	e := relayStack(t)
	k := createKey(t, e, `{"name":"slash"}`)
	c := dialConsumerAt(t, "ws"+strings.TrimPrefix(e.Base, "http")+"//stocks")
	c.send(massive.ActionAuth, k.Key)
	c.expect(massive.StatusAuthSuccess, massive.MessageAuthenticated)
}

func TestRelayBadInput(t *testing.T) {
	e := relayStack(t)
	k := createKey(t, e, `{"name":"single","max_conns":1,"allow_list":["aapl"]}`)
	if !slices.Equal(k.AllowList, []string{"AAPL"}) || k.MaxConns != 1 {
		t.Fatalf("created key %+v", k)
	}

	c := dialConsumer(t, e)
	c.send(massive.ActionSubscribe, "T.AAPL")
	c.expect(massive.StatusAuthRequired, "authentication required")
	c.sendRaw([]byte("garbage{"))
	c.expect(massive.StatusError, "invalid message: garbage{")
	c.sendRaw([]byte(`{"action":"dance","params":"x"}`))
	c.expect(massive.StatusError, "unknown action: dance")
	c.send(massive.ActionAuth, k.Key)
	c.expect(massive.StatusAuthSuccess, massive.MessageAuthenticated)
	c.send(massive.ActionSubscribe, "T.MSFT,T.AAPL,nodot")
	c.expect(massive.StatusError, "ticker MSFT is not allowed for this key: T.MSFT")
	c.expect(massive.StatusSuccess, "subscribed to: T.AAPL")
	c.expect(massive.StatusError, "invalid subscription: nodot")

	// The key allows one connection: a second is refused, the first stays.
	second := dialConsumer(t, e)
	second.send(massive.ActionAuth, k.Key)
	second.expect(massive.StatusMaxConnections, "")
	second.expectClosed()
	c.send(massive.ActionUnsubscribe, "T.AAPL")
	c.expect(massive.StatusSuccess, "unsubscribed to: T.AAPL")

	// Oversize message: closed with 1009 (message too big).
	c.sendRaw([]byte(`{"action":"subscribe","params":"` + strings.Repeat("T.AAPL,", 200000) + `"}`))
	if code := c.expectClosed(); code != websocket.CloseMessageTooBig {
		t.Errorf("oversize message: close code %d, want %d", code, websocket.CloseMessageTooBig)
	}

	// Bad keys: auth_failed and closed.
	for _, key := range []string{"ck_nope", k.Key + "x", ""} {
		bad := dialConsumer(t, e)
		bad.send(massive.ActionAuth, key)
		bad.expect(massive.StatusAuthFailed, "authentication failed")
		bad.expectClosed()
	}
	// The server is fine: a good key still works.
	k2 := createKey(t, e, `{"name":"after"}`)
	ok := authedConsumer(t, e, k2.Key)
	ok.send(massive.ActionSubscribe, "A.AAPL")
	ok.expect(massive.StatusSuccess, "subscribed to: A.AAPL")

	// REST refusals.
	for _, body := range []string{`{"name":""}`, `{"name":"x","max_conns":-1}`, `{"name":"x","allow_list":["A$B"]}`, `{"name":"x","allowlist":["AAPL"]}`} {
		if resp := e.Do(apptest.Request{Method: "POST", Path: "/api/admin/consumer-keys", Role: "admin", Body: body}); resp.Status != 400 {
			t.Errorf("POST %s: %d %s, want 400", body, resp.Status, resp.Body)
		}
	}
	var m struct {
		AuthFailures    uint64 `json:"auth_failures"`
		MaxConnRefusals uint64 `json:"max_conn_refusals"`
	}
	e.GetJSON("/api/admin/consumers", "admin", &m)
	if m.AuthFailures != 3 || m.MaxConnRefusals != 1 {
		t.Errorf("consumers totals: %+v, want 3 auth failures and 1 refusal", m)
	}
}

// simTable is the union of the simulator's subscription tables.
func simTable(e *apptest.Stack) []string {
	var all []string
	for _, c := range e.SimConns() {
		if c.Authenticated {
			all = append(all, c.Subscriptions...)
		}
	}
	sort.Strings(all)
	return slices.Compact(all)
}

// configuredTable is the stack's configured subscription table (apptest's default
// environment, channel A).
var configuredTable = []string{"A.AAPL", "A.AMZN", "A.BRK.B", "A.GOOGL", "A.MSFT", "A.NVDA"}

// TestRelayManyConsumers: the 50 consumers with overlapping
// subscriptions each get exactly their own (channel, ticker) pairs;
// upstream (the simulator's own table) holds the union plus the
// configuration, and shrinks back as they leave: half of them, then all.
func TestRelayManyConsumers(t *testing.T) {
	e := relayStack(t)
	k := createKey(t, e, `{"name":"fleet"}`)
	pool := []string{"A.AAPL", "T.AAPL", "Q.AAPL", "T.MSFT", "T.XOM", "Q.XOM", "A.XOM", "T.CVX", "Q.JPM", "T.JPM", "A.KO", "T.BRK.B", "Q.KO", "T.PEP", "A.JPM", "Q.CVX"}
	const n = 50
	type member struct {
		c     *massive.Client
		f     *feed
		pairs []string
	}
	members := make([]member, n)
	for i := range members {
		// Overlapping windows of the pool, 2 to 4 pairs each; the second
		// half keeps to the pool's first ten, so that upstream shrinks
		// when the first half leaves.
		from := pool
		if i >= n/2 {
			from = pool[:10]
		}
		var pairs []string
		for j := 0; j < 2+i%3; j++ {
			pairs = append(pairs, from[(i*5+j*3)%len(from)])
		}
		slices.Sort(pairs)
		pairs = slices.Compact(pairs)
		c, f := massiveClient(t, relayURL(e), k.Key, pairs...)
		members[i] = member{c, f, pairs}
	}
	// upstreamFor is what upstream must hold for members: the configuration
	// plus the union of their pairs.
	upstreamFor := func(members []member) []string {
		want := slices.Clone(configuredTable)
		for _, m := range members {
			want = append(want, m.pairs...)
		}
		sort.Strings(want)
		return slices.Compact(want)
	}
	for _, m := range members {
		waitAcked(t, m.c, m.pairs)
	}
	want := upstreamFor(members)
	if len(want) < len(pool) {
		t.Fatalf("the consumers cover %d pairs with the configuration, fewer than the pool's %d: the windows do not overlap as meant", len(want), len(pool))
	}
	testkit.WaitFor(t, relayPatience, "simulator table = configured + union", func() bool { return slices.Equal(simTable(e), want) })

	// The status document marks the pairs and counts their consumers.
	doc := e.Status()
	counted := map[string]int{}
	for _, cd := range doc.Connections {
		for _, r := range cd.Relay {
			counted[r.Channel+"."+r.Ticker] += r.Consumers
			if r.Configured != slices.Contains(configuredTable, r.Channel+"."+r.Ticker) {
				t.Errorf("%s on %s: configured=%v", r.Channel+"."+r.Ticker, cd.ConnectionID, r.Configured)
			}
		}
	}
	for _, p := range pool {
		wantN := 0
		for _, m := range members {
			if slices.Contains(m.pairs, p) {
				wantN++
			}
		}
		if counted[p] != wantN {
			t.Errorf("status relay %s: %d consumers, want %d", p, counted[p], wantN)
		}
	}

	// Everyone gets events of every one of its pairs, and of nothing else.
	testkit.WaitFor(t, relayPatience*3, "every consumer gets events of each of its pairs", func() bool {
		for _, m := range members {
			if len(m.f.keys()) < len(m.pairs) {
				return false
			}
		}
		return true
	})
	for i, m := range members {
		if got := m.f.keys(); !slices.Equal(got, m.pairs) {
			t.Errorf("consumer %d subscribed %v, got events of %v", i, m.pairs, got)
		}
	}
	var list struct {
		Consumers []struct {
			Authenticated bool   `json:"authenticated"`
			Name          string `json:"name"`
			Subscriptions int    `json:"subscriptions"`
		} `json:"consumers"`
	}
	e.GetJSON("/api/admin/consumers", "admin", &list)
	if len(list.Consumers) != n {
		t.Errorf("GET /api/admin/consumers: %d consumers, want %d", len(list.Consumers), n)
	}

	// Half of them leave: upstream keeps what the others still use.
	for _, m := range members[:n/2] {
		m.c.Close()
	}
	rest := upstreamFor(members[n/2:])
	if len(rest) >= len(want) {
		t.Fatalf("the second half holds every pair (%d): nothing to shrink", len(rest))
	}
	want = rest
	testkit.WaitFor(t, relayPatience, "simulator table = configured + the rest's union", func() bool { return slices.Equal(simTable(e), want) })
	// The rest leave: upstream is back to the configuration.
	for _, m := range members[n/2:] {
		m.c.Close()
	}
	testkit.WaitFor(t, relayPatience, "simulator table back to the configuration", func() bool { return slices.Equal(simTable(e), configuredTable) })
}

// TestRelayRevokeAndDisconnect: revoking a key disconnects its consumers
// (force_disconnect), an admin can disconnect one consumer, both audited;
// /metrics counts the relay.
func TestRelayRevokeAndDisconnect(t *testing.T) {
	e := relayStack(t)
	k := createKey(t, e, `{"name":"notebook"}`)
	other := createKey(t, e, `{"name":"recorder"}`)
	a := authedConsumer(t, e, k.Key)
	b := authedConsumer(t, e, other.Key)
	b.send(massive.ActionSubscribe, "T.AAPL")
	b.expect(massive.StatusSuccess, "subscribed to: T.AAPL")

	var keys struct {
		Keys []struct {
			ID        int64  `json:"id"`
			State     string `json:"state"`
			Connected int    `json:"connected"`
		} `json:"keys"`
	}
	e.GetJSON("/api/admin/consumer-keys", "admin", &keys)
	if len(keys.Keys) != 2 || keys.Keys[0].Connected != 1 || keys.Keys[1].Connected != 1 {
		t.Errorf("keys: %+v", keys.Keys)
	}
	if strings.Contains(fmt.Sprint(keys), k.Key) {
		t.Fatal("the key list holds a key")
	}

	resp := e.Do(apptest.Request{Method: "DELETE", Path: fmt.Sprintf("/api/admin/consumer-keys/%d", k.ID), Role: "admin"})
	if resp.Status != 200 || !strings.Contains(resp.Body, `"disconnected":1`) {
		t.Fatalf("revoke: %d %s", resp.Status, resp.Body)
	}
	a.expect(massive.StatusForceDisconnect, "consumer key revoked")
	a.expectClosed()
	again := dialConsumer(t, e)
	again.send(massive.ActionAuth, k.Key)
	again.expect(massive.StatusAuthFailed, "authentication failed")

	// /metrics counts the recorder's subscription while it is connected.
	if m := e.Do(apptest.Request{Method: "GET", Path: "/metrics"}).Body; !strings.Contains(m, "tickwatch_relay_consumer_subscriptions 1\n") || !strings.Contains(m, "tickwatch_relay_queue_depth ") {
		t.Errorf("/metrics lacks the recorder's subscription or the queue depth")
	}

	// One consumer disconnected by an admin.
	var list struct {
		Consumers []struct {
			ID   uint64 `json:"id"`
			Name string `json:"name"`
		} `json:"consumers"`
	}
	testkit.WaitFor(t, relayPatience, "only the recorder left", func() bool {
		e.GetJSON("/api/admin/consumers", "admin", &list)
		return len(list.Consumers) == 1 && list.Consumers[0].Name == "recorder"
	})
	path := fmt.Sprintf("/api/admin/consumers/%d", list.Consumers[0].ID)
	if resp := e.Do(apptest.Request{Method: "DELETE", Path: path, Role: "viewer"}); resp.Status != 403 {
		t.Errorf("viewer disconnect: %d", resp.Status)
	}
	if resp := e.Do(apptest.Request{Method: "DELETE", Path: path, Role: "admin"}); resp.Status != 200 {
		t.Fatalf("disconnect: %d %s", resp.Status, resp.Body)
	}
	b.expect(massive.StatusForceDisconnect, "")
	b.expectClosed()
	if resp := e.Do(apptest.Request{Method: "DELETE", Path: "/api/admin/consumers/999", Role: "admin"}); resp.Status != 404 {
		t.Errorf("unknown consumer: %d", resp.Status)
	}

	var audit struct {
		Entries []struct {
			Action string `json:"action"`
			Target string `json:"target"`
		} `json:"entries"`
	}
	e.GetJSON("/api/admin/audit", "admin", &audit)
	var actions []string
	for _, en := range audit.Entries {
		actions = append(actions, en.Action)
	}
	for _, want := range []string{"consumer_key_create", "consumer_key_revoke", "consumer_disconnect"} {
		if !slices.Contains(actions, want) {
			t.Errorf("audit lacks %s: %v", want, actions)
		}
	}

	// Everyone gone (the server lets go of a connection just after its
	// close frame): the gauges are back to zero.
	var metrics string
	testkit.WaitFor(t, relayPatience, "no relay consumer in /metrics", func() bool {
		metrics = e.Do(apptest.Request{Method: "GET", Path: "/metrics"}).Body
		return strings.Contains(metrics, "tickwatch_relay_consumers 0\n")
	})
	promtoolCheck(t, metrics) // the relay's names and help pass the exposition lint
	for _, want := range []string{"tickwatch_relay_events_out_total ", "tickwatch_relay_slow_disconnects_total 0", "tickwatch_relay_auth_failures_total 1", "tickwatch_relay_consumer_subscriptions 0", "tickwatch_relay_queue_depth 0"} {
		if !strings.Contains(metrics, want) {
			t.Errorf("/metrics lacks %q", want)
		}
	}
}

// TestRelayUpstreamLoss: when the upstream connection carrying a
// consumer's pair drops, the consumer stays connected, is told, and its
// events resume after the connection's resubscribe.
func TestRelayUpstreamLoss(t *testing.T) {
	e := relayStack(t)
	k := createKey(t, e, `{"name":"risk"}`)
	c := authedConsumer(t, e, k.Key)
	c.send(massive.ActionSubscribe, "T.XOM")
	c.expect(massive.StatusSuccess, "subscribed to: T.XOM")
	var carrier apptest.SimConn
	testkit.WaitFor(t, relayPatience, "T.XOM upstream", func() bool {
		var ok bool
		carrier, ok = e.SimConnBySymbol("XOM")
		return ok
	})
	e.SimDrop(carrier.ID)
	lost, err := c.nextStatus()
	if err != nil || lost["status"] != relay.StatusUpstreamLost || !strings.Contains(fmt.Sprint(lost["message"]), "resume when it reconnects") {
		t.Fatalf("after the drop: %v, %v", lost, err)
	}
	c.expect(relay.StatusUpstreamRestored, "")
	testkit.WaitFor(t, relayPatience, "T.XOM upstream again", func() bool {
		now, ok := e.SimConnBySymbol("XOM")
		return ok && now.ID != carrier.ID
	})
	// Events flow again on the same consumer connection.
	_ = c.conn.SetReadDeadline(time.Now().Add(relayPatience))
	for {
		_, data, err := c.conn.ReadMessage()
		if err != nil {
			t.Fatalf("no events after the restore: %v", err)
		}
		if strings.Contains(string(data), `"sym":"XOM"`) {
			break
		}
	}
}
