package manager

import (
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/rs/zerolog"
	"go.uber.org/goleak"

	"github.com/tickwatch/tickwatch/backend/internal/testkit"
	"github.com/tickwatch/tickwatch/backend/massive"
	"github.com/tickwatch/tickwatch/backend/simulator"
	"github.com/tickwatch/tickwatch/backend/tickstore"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

const testKey = "test-key-0123456789"

// recorder is a test Observer.
type recorder struct {
	mu      sync.Mutex
	changes []massive.StateChange
	configs atomic.Int64
}

func (r *recorder) StatusChanged(c massive.StateChange) {
	r.mu.Lock()
	r.changes = append(r.changes, c)
	r.mu.Unlock()
}

func (r *recorder) ConfigChanged() { r.configs.Add(1) }

func (r *recorder) statesOf(id string) []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	var out []string
	for _, c := range r.changes {
		if c.ConnectionID == id {
			out = append(out, c.State.String())
		}
	}
	return out
}

type env struct {
	sim   *simulator.Server
	store *tickstore.Store
	m     *Manager
	obs   *recorder
	logs  *testkit.SyncBuffer
}

type envOpts struct {
	multi    bool
	slots    []SlotConfig
	tps      int
	channels []string
	defUni   string
	// clientLogs: the clients log (info) to env.logs too.
	clientLogs bool
}

// newEnv starts a simulator on 127.0.0.1:0 and a manager pointed at it (not
// connected). Cleanup disconnects the manager, then closes the simulator.
func newEnv(t testing.TB, o envOpts) *env {
	t.Helper()
	if o.tps == 0 {
		o.tps = 300
	}
	sim := simulator.New(simulator.Config{
		Keys:           []string{testKey},
		AuthTimeout:    2 * time.Second,
		TicksPerSecond: o.tps,
		FlushInterval:  20 * time.Millisecond,
		Seed:           7,
		Logger:         zerolog.Nop(),
	})
	if err := sim.Start("127.0.0.1:0"); err != nil {
		t.Fatalf("simulator start: %v", err)
	}
	t.Cleanup(func() { _ = sim.Close() })
	logs := &testkit.SyncBuffer{}
	e := &env{sim: sim, store: tickstore.New(tickstore.Options{}), obs: &recorder{}, logs: logs}
	var clientLog zerolog.Logger // zero value: discards
	if o.clientLogs {
		clientLog = zerolog.New(logs).Level(zerolog.InfoLevel)
	}
	m, err := New(Config{
		Slots:           o.slots,
		MultiConnection: o.multi,
		DefaultUniverse: o.defUni,
		Client: massive.Config{
			URL:               sim.URL(),
			APIKey:            testKey,
			Channels:          o.channels,
			ReconnectDelay:    20 * time.Millisecond,
			MaxReconnectDelay: 100 * time.Millisecond,
			HandshakeTimeout:  3 * time.Second,
			Logger:            clientLog,
		},
		Universes: registry(t),
		Store:     e.store,
		Logger:    zerolog.New(logs).Level(zerolog.InfoLevel),
	})
	if err != nil {
		t.Fatalf("manager.New: %v", err)
	}
	m.AddObserver(e.obs)
	e.m = m
	t.Cleanup(m.Disconnect)
	return e
}

// waitFor polls cond until it holds or the deadline passes.

func (e *env) waitConnected(t *testing.T, n int) {
	t.Helper()
	testkit.WaitFor(t, 10*time.Second, "connections up", func() bool { return e.m.Health().ConnectedCount == n })
}

// subsOf maps tickers to the simulator's "A.AAPL" form, sorted.
func subsOf(channel string, tickers []string) []string {
	out := make([]string, len(tickers))
	for i, t := range tickers {
		out[i] = channel + "." + t
	}
	slices.Sort(out)
	return out
}

// simConnFor returns the simulator's live, authenticated connection whose
// subscription table is exactly want.
func (e *env) simConnFor(want []string) (simulator.ConnInfo, bool) {
	for _, c := range e.sim.Conns() {
		if c.Authenticated && slices.Equal(c.Subscriptions, want) {
			return c, true
		}
	}
	return simulator.ConnInfo{}, false
}

// waitSimSubs waits until the simulator holds a connection subscribed to
// exactly tickers on channel.
func (e *env) waitSimSubs(t *testing.T, channel string, tickers []string) simulator.ConnInfo {
	t.Helper()
	want := subsOf(channel, tickers)
	var ci simulator.ConnInfo
	testkit.WaitFor(t, 10*time.Second, "simulator subscriptions "+summary(want), func() bool {
		var ok bool
		ci, ok = e.simConnFor(want)
		return ok
	})
	return ci
}

func summary(s []string) string {
	if len(s) > 6 {
		return "[" + s[0] + " ... " + s[len(s)-1] + "]"
	}
	return "[" + strings.Join(s, ",") + "]"
}
