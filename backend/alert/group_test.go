package alert

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/tickwatch/tickwatch/backend/tickstore"
)

// groupSnap is two connections that keep ticking, connection_1 with n
// tickers and connection_2 with 3. silent1 (and silent2) name how many of
// each connection's tickers, from the first, stopped 30 s ago (one second
// apart, the first longest): 20x their 1 s median gap is 20 s, so they
// are silent; the others ticked just now.
func groupSnap(now time.Time, n, silent1, silent2 int) Snapshot {
	s := Snapshot{Conns: []Conn{
		{ID: "connection_1", Enabled: true, State: "connected", LastMessage: now},
		{ID: "connection_2", Enabled: true, State: "connected", LastMessage: now},
	}}
	add := func(conn string, n, silent int) {
		for i := range n {
			last := now
			if i < silent {
				last = now.Add(-30*time.Second - time.Duration(silent-i)*time.Second)
			}
			s.Tickers = append(s.Tickers, tickstore.Timing{Symbol: fmt.Sprintf("%s_T%03d", conn[len(conn)-1:], i),
				ConnectionID: conn, LastSeen: last, MedianGap: time.Second, Gaps: 8})
		}
	}
	add("connection_1", n, silent1)
	add("connection_2", 3, silent2)
	return s
}

func evStrings(evs []Event) []string {
	var out []string
	for _, ev := range evs {
		out = append(out, ev.Type+" "+ev.Alert.Key)
	}
	return out
}

// TestTickerSilentGroupTransitions walks one connection through growing
// silence: per-ticker incidents up to the threshold, one group above it
// that folds the per-ticker ones, updates (not new incidents) as its
// count changes, and one resolution when every ticker is back.
func TestTickerSilentGroupTransitions(t *testing.T) {
	const g1 = "ticker_silent:connection_1:*"
	clk := newClock("2026-03-14", "12:00")
	src := &snapSource{}
	e, evs := newTestEngine(t, HoursAlways, clk, src)
	run := func(silent1, silent2 int) []Event {
		t.Helper()
		clk.advance(time.Second)
		src.snap = groupSnap(clk.t, 40, silent1, silent2)
		*evs = (*evs)[:0]
		e.Check(context.Background())
		return append([]Event(nil), *evs...)
	}
	expect := func(got []Event, want ...string) {
		t.Helper()
		if g := evStrings(got); !equal(g, want) {
			t.Fatalf("events %v, want %v", g, want)
		}
	}
	perTicker := func(conn string, from, to int) []string {
		var out []string
		for i := from; i < to; i++ {
			out = append(out, fmt.Sprintf("ticker_silent:%s:%s_T%03d", conn, conn[len(conn)-1:], i))
		}
		return out
	}
	prefixed := func(p string, keys []string) []string {
		out := make([]string, len(keys))
		for i, k := range keys {
			out[i] = p + " " + k
		}
		return out
	}

	expect(run(0, 0))
	// Up to the threshold (5) one incident per ticker, exactly as before.
	expect(run(3, 0), prefixed("firing", perTicker("connection_1", 0, 3))...)
	expect(run(5, 1), prefixed("firing", append(perTicker("connection_1", 3, 5), perTicker("connection_2", 0, 1)...))...)
	if got := e.SilentTickers(); got["connection_1"] != 5 || got["connection_2"] != 1 {
		t.Fatalf("silent tickers %v", got)
	}

	// The sixth: one group for connection_1, firing first, and the five
	// per-ticker incidents folded into it (resolved, not left dangling).
	// connection_2's own incident is untouched.
	got := run(6, 1)
	expect(got, append([]string{"firing " + g1}, prefixed("resolved", perTicker("connection_1", 0, 5))...)...)
	grp := got[0].Alert
	if grp.Ticker != "" || grp.ConnectionID != "connection_1" || grp.Kind != KindTickerSilent || grp.Value != 6 ||
		grp.Threshold != 5 || grp.Unit != "tickers" {
		t.Errorf("group %+v", grp)
	}
	if want := "6 tickers silent while connection_1 keeps ticking: 1_T000, 1_T001, 1_T002, 1_T003, 1_T004, 1_T005 (more than 5 at once"; !strings.HasPrefix(grp.Message, want) {
		t.Errorf("group message %q, want it to start %q", grp.Message, want)
	}
	for _, ev := range got[1:] {
		if want := fmt.Sprintf("folded into incident %d (%s), still silent: no event for", grp.ID, g1); !strings.HasPrefix(ev.Alert.Message, want) {
			t.Errorf("folded %s: message %q, want it to start %q", ev.Alert.Key, ev.Alert.Message, want)
		}
	}
	if n := e.FiringByKind()[KindTickerSilent]; n != 2 {
		t.Errorf("firing ticker_silent incidents %d, want 2 (the group and connection_2's ticker)", n)
	}

	// The same set a check later: nothing new, no update.
	expect(run(6, 1))
	// More silent: the group's value and message change in place, one
	// "updated" event, no new incident.
	got = run(25, 1)
	expect(got, "updated "+g1)
	if a := got[0].Alert; a.ID != grp.ID || a.Value != 25 || a.State != Firing ||
		!strings.HasPrefix(a.Message, "25 tickers silent while connection_1 keeps ticking: 1_T000, 1_T001, 1_T002, 1_T003, 1_T004, 1_T005, 1_T006, 1_T007, 1_T008, 1_T009 and 15 more (") {
		t.Errorf("updated group %+v", a)
	}
	if got := e.SilentTickers()["connection_1"]; got != 25 {
		t.Errorf("silent tickers on connection_1 %d, want 25 (tickers, not incidents)", got)
	}
	// The API lists the group with its current count, connection_2's
	// ticker, and the five folded incidents (resolved).
	var firing, resolved int
	for _, a := range e.List() {
		switch {
		case a.Key == g1 && a.State == Firing && a.Value == 25:
			firing++
		case a.Key == "ticker_silent:connection_2:2_T000" && a.State == Firing:
			firing++
		case a.State == Resolved && strings.HasPrefix(a.Message, "folded into"):
			resolved++
		default:
			t.Errorf("listed %+v", a)
		}
	}
	if firing != 2 || resolved != 5 {
		t.Errorf("listed %d firing and %d folded, want 2 and 5", firing, resolved)
	}
	// Back to the threshold and below: the group stays (sticky), with the
	// count going down; no per-ticker incident comes back.
	expect(run(5, 1), "updated "+g1)
	got = run(1, 1)
	expect(got, "updated "+g1)
	if a := got[0].Alert; a.Value != 1 || !strings.HasPrefix(a.Message, "1 ticker silent while connection_1") {
		t.Errorf("group with one ticker left %+v", a)
	}
	// Every ticker back: the group resolves once.
	got = run(0, 1)
	expect(got, "resolved "+g1)
	if a := got[0].Alert; a.ID != grp.ID || a.ResolvedAt == nil || !strings.HasPrefix(a.Message, "cleared after ") || !strings.Contains(a.Message, "; was: 1 ticker silent") {
		t.Errorf("resolved group %+v", a)
	}
	// After it ended, a single silent ticker is its own incident again.
	expect(run(1, 1), "firing ticker_silent:connection_1:1_T000")
	// A connection that goes silent as a whole ends its group with it (the
	// connection detector takes over).
	expect(run(30, 1), "firing "+g1, "resolved ticker_silent:connection_1:1_T000")
	clk.advance(20 * time.Second) // past ALERT_SILENCE (15 s) since the first check
	src.snap = groupSnap(clk.t, 40, 30, 1)
	src.snap.Conns[0].LastMessage = clk.t.Add(-20 * time.Second)
	*evs = (*evs)[:0]
	e.Check(context.Background())
	expect(*evs, "firing connection_silent:connection_1", "resolved "+g1)
	if got := e.SilentTickers()["connection_1"]; got != 0 {
		t.Errorf("silent tickers of a silent connection %d, want 0", got)
	}
}

// TestTickerSilentAllAtOnce: 312 tickers of one connection stop in one
// check (a lost resubscription): one incident from the start, none per
// ticker, the exact count for /metrics.
func TestTickerSilentAllAtOnce(t *testing.T) {
	clk := newClock("2026-03-14", "12:00")
	src := &snapSource{snap: groupSnap(clk.t, 1000, 0, 0)}
	e, evs := newTestEngine(t, HoursAlways, clk, src)
	e.Check(context.Background())
	clk.advance(time.Second)
	src.snap = groupSnap(clk.t, 1000, 312, 0)
	e.Check(context.Background())
	if got := evStrings(*evs); !equal(got, []string{"firing ticker_silent:connection_1:*"}) {
		t.Fatalf("events %v, want the one group", got)
	}
	a := (*evs)[0].Alert
	want := "312 tickers silent while connection_1 keeps ticking: 1_T000, 1_T001, 1_T002, 1_T003, 1_T004, 1_T005, 1_T006, 1_T007, 1_T008, 1_T009 and 302 more (more than 5 at once: one incident until all recover)"
	if a.Message != want || a.Value != 312 {
		t.Errorf("group message %q value %v\nwant %q value 312", a.Message, a.Value, want)
	}
	// since: when the longest-silent ticker was last seen.
	if oldest := src.snap.Tickers[0].LastSeen; !a.Since.Equal(oldest) {
		t.Errorf("since %v, want the longest-silent ticker's last event %v", a.Since, oldest)
	}
	if got := e.SilentTickers()["connection_1"]; got != 312 {
		t.Errorf("silent tickers %d, want 312", got)
	}
	if got := e.FiringByKind()[KindTickerSilent]; got != 1 {
		t.Errorf("firing ticker_silent %d, want 1", got)
	}
	b, err := json.Marshal(a)
	if err != nil || strings.Contains(string(b), `"ticker"`) {
		t.Errorf("group JSON %s (%v): want no ticker field", b, err)
	}
	if txt := a.Text(); !strings.HasPrefix(txt, "[FIRING] ticker_silent connection_1: 312 tickers silent") {
		t.Errorf("webhook text %q", txt)
	}
}

// TestTickerSilentGroupThresholdConfig: the threshold is configurable and
// "more than", not "at least".
func TestTickerSilentGroupThresholdConfig(t *testing.T) {
	for _, tc := range []struct {
		group, silent int
		wantGroup     bool
	}{{1, 1, false}, {1, 2, true}, {10, 10, false}, {10, 11, true}} {
		t.Run(fmt.Sprintf("group=%d,silent=%d", tc.group, tc.silent), func(t *testing.T) {
			clk := newClock("2026-03-14", "12:00")
			cal, err := NewCalendar(HoursAlways)
			if err != nil {
				t.Fatal(err)
			}
			src := &snapSource{snap: groupSnap(clk.t, 20, tc.silent, 0)}
			e, err := New(context.Background(), Config{Calendar: cal, Now: clk.now, TickerSilenceMin: 10 * time.Second, TickerSilenceGroup: tc.group}, src)
			if err != nil {
				t.Fatal(err)
			}
			e.Check(context.Background())
			l := e.List()
			grouped := len(l) == 1 && l[0].Key == "ticker_silent:connection_1:*"
			if grouped != tc.wantGroup || !grouped && len(l) != tc.silent {
				t.Errorf("incidents %d (grouped %v), want grouped %v", len(l), grouped, tc.wantGroup)
			}
		})
	}
}
