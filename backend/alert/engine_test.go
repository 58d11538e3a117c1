package alert

import (
	"bytes"
	"context"
	"strings"
	"testing"
	"time"

	"github.com/rs/zerolog"

	"github.com/tickwatch/tickwatch/backend/tickstore"
)

// snapSource serves whatever snapshot the test last set: the detectors'
// logic against a fake clock. The faults themselves are driven against the
// real manager and simulator in detect_sim_test.go.
type snapSource struct{ snap Snapshot }

func (s *snapSource) Snapshot() Snapshot { return s.snap }

type clock struct{ t time.Time }

func (c *clock) now() time.Time             { return c.t }
func (c *clock) advance(d time.Duration)    { c.t = c.t.Add(d) }
func newClock(day string, hm string) *clock { return &clock{t: nyTime(day + " " + hm)} }

func nyTime(s string) time.Time {
	ny, _ := time.LoadLocation("America/New_York")
	t, err := time.ParseInLocation("2006-01-02 15:04", s, ny)
	if err != nil {
		panic(err)
	}
	return t
}

func newTestEngine(t *testing.T, mode string, clk *clock, src Source) (*Engine, *[]Event) {
	t.Helper()
	cal, err := NewCalendar(mode)
	if err != nil {
		t.Fatal(err)
	}
	e, err := New(context.Background(), Config{Calendar: cal, Now: clk.now, TickerSilenceMin: 10 * time.Second, TickerNeverTicked: 10 * time.Second}, src)
	if err != nil {
		t.Fatal(err)
	}
	var evs []Event
	e.Listen(func(ev Event) { evs = append(evs, ev) })
	return e, &evs
}

func TestDetectorsFakeClock(t *testing.T) {
	type step struct {
		advance time.Duration
		mutate  func(*Snapshot, time.Time)
		want    []string // event type + " " + key, in order
	}
	connected := func(now time.Time) Conn {
		return Conn{ID: "connection_1", Enabled: true, State: "connected", LastMessage: now}
	}
	cases := []struct {
		name  string
		mode  string
		steps []step
	}{
		{"connection silent fires after ALERT_SILENCE and resolves on a message", HoursAlways, []step{
			{0, func(s *Snapshot, now time.Time) { s.Conns = []Conn{connected(now)} }, nil},
			{15 * time.Second, nil, nil}, // exactly the threshold: not yet
			{time.Second, nil, []string{"firing connection_silent:connection_1"}},
			{time.Second, nil, nil}, // still firing: deduplicated
			{time.Second, func(s *Snapshot, now time.Time) { s.Conns[0].LastMessage = now }, []string{"resolved connection_silent:connection_1"}},
		}},
		{"silence at the weekend is not an alert", HoursRegular, []step{
			{0, func(s *Snapshot, now time.Time) { s.Conns = []Conn{connected(now)} }, nil},
			{time.Hour, nil, nil},
		}},
		{"auth_failed and max_connections fire at once", HoursAlways, []step{
			{0, func(s *Snapshot, now time.Time) {
				s.Conns = []Conn{connected(now), {ID: "connection_2", Enabled: true, State: "error", Reason: "max_connections: Maximum number of connections exceeded.", LastMessage: now}}
				s.Conns[0].State, s.Conns[0].Reason = "error", "auth_failed: authentication failed"
			}, []string{"firing auth_failed:connection_1", "firing max_connections:connection_2"}},
			{time.Second, func(s *Snapshot, now time.Time) {
				s.Conns[0] = connected(now)
				s.Conns[1].State, s.Conns[1].LastMessage = "connecting", now
			}, []string{"resolved auth_failed:connection_1", "resolved max_connections:connection_2"}},
		}},
		{"drift over 10 s", HoursAlways, []step{
			{0, func(s *Snapshot, now time.Time) {
				s.Conns = []Conn{connected(now)}
				s.Conns[0].Missing = []string{"A.AAPL"}
			}, nil},
			{10 * time.Second, func(s *Snapshot, now time.Time) { s.Conns[0].LastMessage = now }, nil},
			{time.Second, func(s *Snapshot, now time.Time) { s.Conns[0].LastMessage = now }, []string{"firing subscription_drift:connection_1"}},
			{time.Second, func(s *Snapshot, now time.Time) { s.Conns[0].LastMessage, s.Conns[0].Missing = now, nil }, []string{"resolved subscription_drift:connection_1"}},
		}},
		{"reconnect storm: more than 5 in 10 minutes", HoursAlways, []step{
			{0, func(s *Snapshot, now time.Time) { s.Conns = []Conn{connected(now)} }, nil},
			{time.Second, func(s *Snapshot, now time.Time) { s.Conns[0].Reconnects, s.Conns[0].LastMessage = 5, now }, nil},
			{time.Second, func(s *Snapshot, now time.Time) { s.Conns[0].Reconnects, s.Conns[0].LastMessage = 6, now }, []string{"firing reconnect_storm:connection_1"}},
			{10 * time.Minute, func(s *Snapshot, now time.Time) { s.Conns[0].LastMessage = now }, []string{"resolved reconnect_storm:connection_1"}},
		}},
		{"drops in the last minute", HoursAlways, []step{
			{0, func(s *Snapshot, now time.Time) {
				s.Conns = []Conn{connected(now)}
				s.Drops = []Drop{{Source: "browser", Total: 3}}
			}, nil},
			{time.Second, func(s *Snapshot, now time.Time) {
				s.Conns[0].LastMessage, s.Conns[0].Dropped = now, 2
				s.Drops[0].Total = 4
			}, []string{"firing drops:connection_1:reader", "firing drops::browser"}},
			{61 * time.Second, func(s *Snapshot, now time.Time) { s.Conns[0].LastMessage = now }, []string{"resolved drops:connection_1:reader", "resolved drops::browser"}},
		}},
		{"ticker silent: 20x its median gap, at least the minimum, while the connection ticks", HoursAlways, []step{
			{0, func(s *Snapshot, now time.Time) {
				s.Conns = []Conn{connected(now)}
				s.Tickers = []tickstore.Timing{
					{Symbol: "AAPL", ConnectionID: "connection_1", LastSeen: now, MedianGap: time.Second, Gaps: 8},
					{Symbol: "ILLQ", ConnectionID: "connection_1", LastSeen: now, Gaps: 1}, // too few gaps to judge
				}
			}, nil},
			{20 * time.Second, func(s *Snapshot, now time.Time) { s.Conns[0].LastMessage = now }, nil},
			{time.Second, func(s *Snapshot, now time.Time) { s.Conns[0].LastMessage = now }, []string{"firing ticker_silent:connection_1:AAPL"}},
			{time.Second, func(s *Snapshot, now time.Time) {
				s.Conns[0].LastMessage = now
				s.Tickers[0].LastSeen = now
			}, []string{"resolved ticker_silent:connection_1:AAPL"}},
		}},
		{"ticker silent: subscribed and acknowledged, never ticked, while the connection ticks", HoursAlways, []step{
			{0, func(s *Snapshot, now time.Time) {
				s.Conns = []Conn{connected(now)}
				s.Conns[0].Subscribed = []string{"AAPL", "QQQX"}
				s.Tickers = []tickstore.Timing{{Symbol: "AAPL", ConnectionID: "connection_1", LastSeen: now, MedianGap: time.Second, Gaps: 8}}
			}, nil},
			{10 * time.Second, func(s *Snapshot, now time.Time) { s.Conns[0].LastMessage, s.Tickers[0].LastSeen = now, now }, nil},
			{time.Second, func(s *Snapshot, now time.Time) { s.Conns[0].LastMessage, s.Tickers[0].LastSeen = now, now },
				[]string{"firing ticker_silent:connection_1:QQQX"}},
			{time.Second, func(s *Snapshot, now time.Time) {
				s.Conns[0].LastMessage, s.Tickers[0].LastSeen = now, now
				s.Tickers = append(s.Tickers, tickstore.Timing{Symbol: "QQQX", ConnectionID: "connection_1", LastSeen: now})
			}, []string{"resolved ticker_silent:connection_1:QQQX"}},
		}},
		{"never ticked: counted from the link's connection when it reconnected since", HoursAlways, []step{
			{0, func(s *Snapshot, now time.Time) {
				s.Conns = []Conn{connected(now)}
				s.Conns[0].Subscribed, s.Conns[0].ConnectedSince = []string{"QQQX"}, now
			}, nil},
			{8 * time.Second, func(s *Snapshot, now time.Time) { s.Conns[0].LastMessage, s.Conns[0].ConnectedSince = now, now }, nil},
			{8 * time.Second, func(s *Snapshot, now time.Time) { s.Conns[0].LastMessage = now }, nil},
			{3 * time.Second, func(s *Snapshot, now time.Time) { s.Conns[0].LastMessage = now }, []string{"firing ticker_silent:connection_1:QQQX"}},
		}},
		{"never ticked: forgotten when it leaves the acknowledged list", HoursAlways, []step{
			{0, func(s *Snapshot, now time.Time) {
				s.Conns = []Conn{connected(now)}
				s.Conns[0].Subscribed = []string{"QQQX"}
			}, nil},
			{8 * time.Second, func(s *Snapshot, now time.Time) { s.Conns[0].LastMessage, s.Conns[0].Subscribed = now, nil }, nil},
			{time.Second, func(s *Snapshot, now time.Time) {
				s.Conns[0].LastMessage, s.Conns[0].Subscribed = now, []string{"QQQX"}
			}, nil},
			{8 * time.Second, func(s *Snapshot, now time.Time) { s.Conns[0].LastMessage = now }, nil},
			{3 * time.Second, func(s *Snapshot, now time.Time) { s.Conns[0].LastMessage = now }, []string{"firing ticker_silent:connection_1:QQQX"}},
		}},
		{"never ticked: a silent connection is the connection detector's", HoursAlways, []step{
			{0, func(s *Snapshot, now time.Time) {
				s.Conns = []Conn{connected(now)}
				s.Conns[0].Subscribed = []string{"QQQX"}
			}, nil},
			{16 * time.Second, nil, []string{"firing connection_silent:connection_1"}},
		}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			clk := newClock("2026-03-14", "12:00") // a Saturday: only "always" is open
			src := &snapSource{}
			e, evs := newTestEngine(t, tc.mode, clk, src)
			for i, st := range tc.steps {
				clk.advance(st.advance)
				if st.mutate != nil {
					st.mutate(&src.snap, clk.t)
				}
				*evs = (*evs)[:0]
				e.Check(context.Background())
				var got []string
				for _, ev := range *evs {
					got = append(got, ev.Type+" "+ev.Alert.Key)
				}
				if !equal(got, st.want) {
					t.Fatalf("step %d: events %v, want %v", i, got, st.want)
				}
			}
		})
	}
}

func TestAckAndList(t *testing.T) {
	clk := newClock("2026-03-10", "10:00")
	src := &snapSource{snap: Snapshot{Conns: []Conn{{ID: "connection_1", Enabled: true, State: "error", Reason: "auth_failed: x"}}}}
	e, evs := newTestEngine(t, HoursRegular, clk, src)
	e.Check(context.Background())
	list := e.List()
	if len(list) != 1 || list[0].State != Firing || list[0].Kind != KindAuthFailed {
		t.Fatalf("list %+v", list)
	}
	if _, err := e.Ack(context.Background(), 99, "admin"); err == nil {
		t.Error("ack of an unknown id succeeded")
	}
	a, err := e.Ack(context.Background(), list[0].ID, "admin")
	if err != nil || a.AckedBy != "admin" || a.AckedAt == nil {
		t.Fatalf("ack: %+v %v", a, err)
	}
	if last := (*evs)[len(*evs)-1]; last.Type != EventAcknowledged {
		t.Errorf("last event %q, want acknowledged", last.Type)
	}
	if got := e.FiringByKind()[KindAuthFailed]; got != 1 {
		t.Errorf("firing auth_failed = %d", got)
	}
	src.snap.Conns[0].State = "connected"
	src.snap.Conns[0].LastMessage = clk.t
	e.Check(context.Background())
	if l := e.List(); len(l) != 1 || l[0].State != Resolved || l[0].AckedBy != "admin" {
		t.Fatalf("after resolve: %+v", l)
	}
	clk.advance(time.Hour + time.Second)
	src.snap.Conns[0].LastMessage = clk.t
	e.Check(context.Background())
	if l := e.List(); len(l) != 0 {
		t.Errorf("resolved incident still listed after KeepResolved: %+v", l)
	}
}

// TestResolvedWording: a resolution is said once, by the event type: the
// log line reads "alert resolved: cleared after ...", the webhook text
// "[RESOLVED] ...: cleared after ...", never "resolved: resolved".
func TestResolvedWording(t *testing.T) {
	clk := newClock("2026-03-10", "10:00")
	src := &snapSource{snap: Snapshot{Conns: []Conn{{ID: "connection_1", Enabled: true, State: "connected", LastMessage: clk.t}}}}
	cal, err := NewCalendar(HoursAlways)
	if err != nil {
		t.Fatal(err)
	}
	var logs bytes.Buffer
	e, err := New(context.Background(), Config{Calendar: cal, Now: clk.now, Logger: zerolog.New(&logs)}, src)
	if err != nil {
		t.Fatal(err)
	}
	var evs []Event
	e.Listen(func(ev Event) { evs = append(evs, ev) })
	e.Check(context.Background())
	clk.advance(16 * time.Second)
	e.Check(context.Background())
	clk.advance(4 * time.Second)
	src.snap.Conns[0].LastMessage = clk.t
	e.Check(context.Background())
	if len(evs) != 2 || evs[1].Type != EventResolved {
		t.Fatalf("events %v, want firing then resolved", evStrings(evs))
	}
	want := "cleared after 4.0s; was: no message for 16.0s (threshold 15.0s), link connected"
	if got := evs[1].Alert.Message; got != want {
		t.Errorf("resolved message %q, want %q", got, want)
	}
	if got, want := evs[1].Alert.Text(), "[RESOLVED] connection_silent connection_1: "+want; got != want {
		t.Errorf("webhook text %q, want %q", got, want)
	}
	if l := logs.String(); !strings.Contains(l, `"message":"alert resolved: `+want+`"`) || strings.Contains(l, "resolved: resolved") {
		t.Errorf("log:\n%s", l)
	}
}

// TestDropsWording: each drop source's alert is in the unit its counter
// counts: the sink counts ticks, the reader frames, a browser overflow is
// one discarded queue, the relay counts slow consumers cut off.
func TestDropsWording(t *testing.T) {
	cases := []struct {
		source, conn, unit, message string
	}{
		{"sink:redis", "", "ticks", "428 ticks dropped by the sink:redis in the last 1m0s"},
		{"reader", "connection_1", "frames", "428 frames dropped by the reader of connection_1 in the last 1m0s"},
		{"browser", "", "overflows", "428 browser queue overflows (a session's queued frames dropped for a snapshot) in the last 1m0s"},
		{"relay", "", "disconnects", "428 relay consumers cut off as too slow (slow_consumer) in the last 1m0s"},
	}
	for _, c := range cases {
		t.Run(c.source, func(t *testing.T) {
			clk := newClock("2026-03-10", "10:00")
			src := &snapSource{}
			set := func(total uint64) {
				if c.conn != "" {
					src.snap.Conns = []Conn{{ID: c.conn, Enabled: true, State: "connected", LastMessage: clk.t, Dropped: total}}
				} else {
					src.snap.Drops = []Drop{{Source: c.source, Total: total}}
				}
			}
			e, evs := newTestEngine(t, HoursAlways, clk, src)
			set(1000)
			e.Check(context.Background())
			clk.advance(time.Second)
			set(1428)
			e.Check(context.Background())
			if len(*evs) != 1 || (*evs)[0].Type != EventFiring {
				t.Fatalf("events %v, want one firing", evStrings(*evs))
			}
			a := (*evs)[0].Alert
			if a.Kind != KindDrops || a.Source != c.source || a.Value != 428 || a.Unit != c.unit || a.Message != c.message {
				t.Errorf("alert %s %q value %v unit %q: %q; want unit %q: %q", a.Kind, a.Source, a.Value, a.Unit, a.Message, c.unit, c.message)
			}
		})
	}
}

// TestNeverTickedWording: the message says what the clock counts from
// (the subscription, or the market's opening for a ticker subscribed
// while it was closed), and since is that moment.
func TestNeverTickedWording(t *testing.T) {
	cases := []struct {
		name, mode, day, start string
		wait                   time.Duration
		since                  func(start time.Time) time.Time
		message                string
	}{
		{"subscribed while open", HoursAlways, "2026-03-14", "12:00", 11 * time.Second,
			func(start time.Time) time.Time { return start },
			"no event since it was subscribed 11.0s ago while its connection keeps ticking (threshold 10.0s)"},
		{"subscribed before the opening", HoursRegular, "2026-03-10", "08:00", 90*time.Minute + 11*time.Second,
			func(time.Time) time.Time { return nyTime("2026-03-10 09:30") },
			"no event since the market opened 11.0s ago while its connection keeps ticking (threshold 10.0s)"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			clk := newClock(c.day, c.start)
			start := clk.t
			src := &snapSource{snap: Snapshot{Conns: []Conn{{ID: "connection_1", Enabled: true, State: "connected",
				LastMessage: clk.t, Subscribed: []string{"QQQX"}}}}}
			e, evs := newTestEngine(t, c.mode, clk, src)
			e.Check(context.Background())
			clk.advance(c.wait - time.Second)
			src.snap.Conns[0].LastMessage = clk.t
			e.Check(context.Background())
			if len(*evs) != 0 {
				t.Fatalf("events %v one second before the threshold", evStrings(*evs))
			}
			clk.advance(time.Second)
			src.snap.Conns[0].LastMessage = clk.t
			e.Check(context.Background())
			if len(*evs) != 1 {
				t.Fatalf("events %v, want one firing", evStrings(*evs))
			}
			a := (*evs)[0].Alert
			if a.Key != "ticker_silent:connection_1:QQQX" || a.Ticker != "QQQX" || a.Message != c.message ||
				!a.Since.Equal(c.since(start)) || a.Value != 11 || a.Threshold != 10 || a.Unit != "seconds" {
				t.Errorf("alert %+v; want message %q since %v", a, c.message, c.since(start))
			}
			if n := e.SilentTickers()["connection_1"]; n != 1 {
				t.Errorf("silent tickers %d, want 1", n)
			}
		})
	}
}

// TestNeverTickedGrouped: tickers that never ticked count toward the
// connection's group like any silent ticker, longest silent first.
func TestNeverTickedGrouped(t *testing.T) {
	clk := newClock("2026-03-14", "12:00")
	src := &snapSource{snap: groupSnap(clk.t, 5, 3, 0)} // 3 of connection_1's 5 tickers silent for 31..33 s
	src.snap.Conns[0].Subscribed = []string{"NEW1", "NEW2", "NEW3"}
	e, evs := newTestEngine(t, HoursAlways, clk, src)
	e.Check(context.Background())
	if got := evStrings(*evs); !equal(got, []string{"firing ticker_silent:connection_1:1_T000", "firing ticker_silent:connection_1:1_T001",
		"firing ticker_silent:connection_1:1_T002"}) {
		t.Fatalf("first check: %v", got)
	}
	*evs = (*evs)[:0]
	clk.advance(11 * time.Second)
	src.snap = groupSnap(clk.t, 5, 3, 0)
	src.snap.Conns[0].Subscribed = []string{"NEW1", "NEW2", "NEW3"}
	e.Check(context.Background())
	if len(*evs) == 0 || (*evs)[0].Type != EventFiring || (*evs)[0].Alert.Key != "ticker_silent:connection_1:*" {
		t.Fatalf("events %v, want the group firing first", evStrings(*evs))
	}
	g := (*evs)[0].Alert
	want := "6 tickers silent while connection_1 keeps ticking: 1_T000, 1_T001, 1_T002, NEW1, NEW2, NEW3"
	if g.Value != 6 || !strings.HasPrefix(g.Message, want) {
		t.Errorf("group %v %q; want 6 and %q", g.Value, g.Message, want)
	}
	if n := e.SilentTickers()["connection_1"]; n != 6 {
		t.Errorf("silent tickers %d, want 6", n)
	}
}

func TestAcknowledged(t *testing.T) {
	cases := []struct {
		tickers, missing, want []string
	}{
		{[]string{"AAPL", "BRK.B", "QQQX"}, nil, []string{"AAPL", "BRK.B", "QQQX"}},
		{[]string{"AAPL", "BRK.B", "QQQX"}, []string{"T.BRK.B"}, []string{"AAPL", "QQQX"}},
		{[]string{"AAPL", "QQQX"}, []string{"Q.AAPL", "T.ZZZZ"}, []string{"QQQX"}}, // one channel unacknowledged is enough
		{nil, []string{"T.AAPL"}, []string{}},
	}
	for _, c := range cases {
		if got := acknowledged(c.tickers, c.missing); !equal(got, c.want) {
			t.Errorf("acknowledged(%v, %v) = %v, want %v", c.tickers, c.missing, got, c.want)
		}
	}
}
